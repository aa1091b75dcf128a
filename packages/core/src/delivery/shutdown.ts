import type { CapiClient } from './client.js';
import { countBeforeSignalDeath } from './exit-close.js';

/** The slice of Node's `process` the shutdown hooks use (injectable for tests). */
export interface ProcessLike {
  on(event: string, listener: (signal: string) => void): unknown;
  /** Registers ahead of the other listeners (Node's `process` has it); `on` where absent. */
  prependListener?(event: string, listener: (signal: string) => void): unknown;
  /** The listeners of `event`, `once` ones unwrapped (Node's `process` has it). */
  listeners?(event: string): readonly unknown[];
  removeListener(event: string, listener: (signal: string) => void): unknown;
  listenerCount(event: string): number;
  kill(pid: number, signal?: string): unknown;
  exit(code?: number): unknown;
  readonly pid: number;
}

/** Options of {@link installShutdownHooks}. */
export interface ShutdownHookOptions {
  /** Budget for `client.close()`; default 2000 ms (Vercel gives ~500 ms after SIGTERM: use ~200 there). */
  timeoutMs?: number;
  /** Signals to handle; default `['SIGTERM', 'SIGINT']`. */
  signals?: readonly string[];
  /** The process object; default `globalThis.process`. */
  process?: ProcessLike;
}

// POSIX numbers for the exit code 128 + n that a default signal death reports.
const SIGNAL_NUMBERS: Readonly<Record<string, number>> = {
  SIGHUP: 1,
  SIGINT: 2,
  SIGQUIT: 3,
  SIGTERM: 15,
  SIGUSR2: 12,
  SIGBREAK: 21,
};

/**
 * Marks the hooks' own listeners, so the hooks of several clients (or of two copies of the core,
 * ESM and CJS) do not take each other for the app's.
 */
const HOOK = Symbol.for('@capi-kit/core.shutdownHook');

/**
 * How many copies of signal-exit (used by execa, write-file-atomic, proper-lockfile…) are loaded:
 * each has one listener on SIGHUP, SIGINT and SIGTERM that re-raises the signal only once it is
 * the last listener left (v4 keeps its count on `globalThis`, v3 on `process`). Such a listener
 * waits for ours; taken for the app's own handling, ours waited for it in turn, and the process
 * outlived the signal until a SIGKILL.
 */
const signalExitCopies = (proc: ProcessLike, signal: string): number => {
  if (signal !== 'SIGTERM' && signal !== 'SIGINT' && signal !== 'SIGHUP') return 0;
  const countOf = (emitter: unknown): number => {
    const count = (emitter as { count?: unknown } | undefined)?.count;
    return typeof count === 'number' && count > 0 ? count : 0;
  };
  return (
    countOf((globalThis as Record<symbol, unknown>)[Symbol.for('signal-exit emitter')]) +
    countOf((proc as { __signal_exit_emitter__?: unknown }).__signal_exit_emitter__)
  );
};

/** How long a second signal waits for the close it brought to an end before exiting anyway. */
const HURRIED_CLOSE_BOUND_MS = 1000;

/** How long the process may outlive its re-raised signal (see exitLike) before it exits itself. */
const RE_RAISE_BOUND_MS = 500;

const isHook = (listener: unknown): boolean => typeof listener === 'function' && HOOK in listener;

/**
 * Opt-in graceful shutdown: on SIGTERM/SIGINT, `client.close({ timeoutMs })`, then behave as if we
 * had not been there. Our listener is removed first; if no other listener for the signal remains,
 * the signal is re-raised so the process dies the default way (exit status 128 + signal number,
 * e.g. 143 for SIGTERM); where re-raising is impossible or does nothing (PID 1 in a container),
 * `process.exit(128 + n)`. What other clients still hold is counted and reported first, as at
 * `exit`, which a death by signal never emits. If the app has its own listeners when the signal
 * comes (`process.once` ones included), the app owns the exit and we only close the client. A
 * second signal during the close ends it at once (requests aborted, what is left counted as
 * dropped `shutdown` and handed to `onUndeliverable`), then the process ends the same way; a third
 * ends it without waiting at all. Returns a function that uninstalls the hooks. A no-op (returning
 * a no-op) on runtimes without `process`.
 */
export const installShutdownHooks = (
  client: Pick<CapiClient, 'close'>,
  options: ShutdownHookOptions = {},
): (() => void) => {
  const proc = options.process ?? (globalThis as { process?: ProcessLike }).process;
  if (!proc || typeof proc.on !== 'function') return () => {};
  const signals = options.signals ?? ['SIGTERM', 'SIGINT'];
  const timeoutMs = options.timeoutMs ?? 2000;
  let installed = true;
  let shuttingDown = false;
  /** A second signal came: the close was brought to an end; a third exits at once. */
  let hurried = false;
  /** The app's listener for the signal removed itself and re-raised it (see onSignal). */
  let appReRaised = false;
  let exited = false;
  /**
   * Signals the app listened to as well when they last came. Read as the signal comes, not after
   * the close: a listener the app added with `process.once` (a graceful shutdown that ends with
   * its own `process.exit(0)`) is gone by then, and re-raising the signal killed the process in
   * the middle of the app's shutdown, with 143 for its exit code.
   */
  const appListens = new Set<string>();

  const uninstall = () => {
    if (!installed) return;
    installed = false;
    for (const signal of signals) proc.removeListener(signal, onSignal);
  };

  /**
   * The listeners of `signal` now: the hooks' (of other clients), and the app's, which leaves
   * out signal-exit's. Undefined where the process cannot list them.
   */
  const listening = (signal: string): { hooks: number; app: number } | undefined => {
    if (typeof proc.listeners !== 'function') return undefined;
    let hooks = 0;
    let others = 0;
    for (const listener of proc.listeners(signal)) {
      if (isHook(listener)) hooks++;
      else others++;
    }
    return { hooks, app: others - Math.min(others, signalExitCopies(proc, signal)) };
  };

  // Our listener runs ahead of the app's (prependListener), so its `once` ones are still there.
  const noteAppListening = (signal: string) => {
    if ((listening(signal)?.app ?? 0) > 0) appListens.add(signal);
    else appListens.delete(signal);
  };

  const exitLike = (signal: string) => {
    if (exited) return;
    exited = true;
    uninstall();
    // The app handles this signal itself, or another client's hooks are still closing (the last
    // to finish re-raises it). signal-exit's listeners, left alone now, take the re-raised signal:
    // they run their exit handlers and re-raise it themselves.
    if (appListens.has(signal)) return;
    const now = listening(signal);
    if (now === undefined ? proc.listenerCount(signal) > 0 : now.hooks + now.app > 0) return;
    const code = 128 + (SIGNAL_NUMBERS[signal] ?? 0);
    // The process's own clients only: an injected process (tests) is not the one that dies.
    if (proc === (globalThis as { process?: unknown }).process) countBeforeSignalDeath();
    try {
      proc.kill(proc.pid, signal);
    } catch {
      proc.exit(code);
      return;
    }
    // As PID 1 (a container's `node server.js` without `--init`) the kernel ignores a signal the
    // process has no handler for: the re-raised one did nothing, and the process, its client
    // closed, served on until the orchestrator's SIGKILL. Still here a moment later: it exits as
    // the signal would have made it.
    setTimeout(() => proc.exit(code), RE_RAISE_BOUND_MS);
  };

  const closeThenExit = (budgetMs: number, signal: string, boundMs?: number) => {
    let closed: Promise<unknown>;
    try {
      closed = Promise.resolve(client.close({ timeoutMs: budgetMs })).catch(() => {});
    } catch {
      closed = Promise.resolve();
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    const bound =
      boundMs === undefined
        ? []
        : [
            new Promise<void>((resolve) => {
              timer = setTimeout(resolve, boundMs);
            }),
          ];
    void Promise.race([closed, ...bound]).then(() => {
      if (timer !== undefined) clearTimeout(timer);
      exitLike(signal);
    });
  };

  function onSignal(signal: string): void {
    const appListened = appListens.has(signal);
    noteAppListening(signal);
    if (hurried) {
      exitLike(signal);
      return;
    }
    if (shuttingDown && appListened && !appListens.has(signal) && !appReRaised) {
      // The app listened at the first signal and its listener is gone now: this is the app's own
      // re-raise once its shutdown ended (NestJS's enableShutdownHooks removes its listener, then
      // `process.kill(process.pid, signal)`), asking for the default death. It comes while our
      // close may still wait out a retry pause: the close keeps its budget, and the process dies
      // of the signal when it ends. Taken for a second signal, it cut the close short.
      appReRaised = true;
      return;
    }
    if (shuttingDown) {
      // Impatient operator (second Ctrl-C): stop waiting, but not before what is left is counted.
      // A close() with no budget brings the running one's deadline to now: requests are aborted,
      // and what is left is counted as dropped (`shutdown`) and handed to onUndeliverable within
      // a few turns of the event loop. Exiting at once lost those events with nothing said.
      // Bounded all the same: a close() given to the hooks that never settles must not hold it.
      hurried = true;
      closeThenExit(0, signal, HURRIED_CLOSE_BOUND_MS);
      return;
    }
    shuttingDown = true;
    closeThenExit(timeoutMs, signal);
  }

  Object.defineProperty(onSignal, HOOK, { value: true });
  for (const signal of signals) {
    if (typeof proc.prependListener === 'function') proc.prependListener(signal, onSignal);
    else proc.on(signal, onSignal);
  }
  return uninstall;
};
