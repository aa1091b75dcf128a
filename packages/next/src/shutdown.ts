import {
  type CapiClient,
  createRedactor,
  installShutdownHooks,
  MAX_TIMER_MS,
} from '@capi-kit/core';
import { ownedClients } from './shared-clients.js';

/** Options of {@link registerShutdown}. */
export interface RegisterShutdownOptions {
  /**
   * The budget, from the signal, for delivering what is queued; what is left then is counted as
   * dropped (`shutdown`) and reported. Default 5000 ms; keep it under the platform's grace period
   * (Kubernetes' `terminationGracePeriodSeconds`, 30 s by default). Clamped to [0, 2^31 − 1] ms
   * (setTimeout's limit, about 24.8 days), as core clamps `close()`'s deadline; `NaN` means the
   * default.
   */
  timeoutMs?: number;
  /** Signals to handle; default `['SIGTERM', 'SIGINT']`. */
  signals?: readonly string[];
}

/** What `registerShutdown` needs of the binding: its `close()`, which closes every client it made. */
export interface ShutdownTarget {
  /** Flushes and closes every client the binding created. */
  close(options?: { timeoutMs?: number }): Promise<void>;
}

interface ProcessSlice {
  env: Record<string, string | undefined>;
  on(event: string, listener: (...args: unknown[]) => void): unknown;
  once(event: string, listener: (...args: unknown[]) => void): unknown;
  removeListener(event: string, listener: (...args: unknown[]) => void): unknown;
  listenerCount(event: string): number;
  emit(event: string, ...args: unknown[]): unknown;
}

const DEFAULT_TIMEOUT_MS = 5000;

/**
 * The caller's budget as a deadline: the default when absent or NaN, within [0, MAX_TIMER_MS]
 * (setTimeout's largest delay: Node runs a longer one after 1 ms, closing the client right at the
 * signal) otherwise, as core's `close({ timeoutMs })` takes it. Clamped, not refused: it is a deadline
 * like close()'s, and a throw here would fail the server's start-up over its shutdown.
 */
const budgetMs = (value: number | undefined): number =>
  typeof value !== 'number' || Number.isNaN(value)
    ? DEFAULT_TIMEOUT_MS
    : Math.min(MAX_TIMER_MS, Math.max(0, value));
const INSTALLED = Symbol.for('@capi-kit/next.shutdown');

/** Events a client holds that the process's end would lose, or that close() gave up on. */
const undelivered = (clients: Iterable<CapiClient>) => {
  let queued = 0;
  let inFlight = 0;
  let dropped = 0;
  let sent = 0;
  for (const client of clients) {
    const stats = client.stats();
    queued += stats.queued;
    inFlight += stats.inFlight;
    dropped += stats.dropped.shutdown;
    sent += stats.sent;
  }
  return { queued, inFlight, dropped, sent, lost: queued + inFlight + dropped };
};

/**
 * Graceful shutdown for `next start` and standalone output (`node .next/standalone/server.js`):
 * call it in `instrumentation.ts`'s `register()` under the Node.js runtime. Events are delivered
 * within `timeoutMs` of SIGTERM/SIGINT; what cannot be is counted (`dropped.shutdown`) and
 * reported in one `console.warn` line (counts only). Then the process ends the way it would have:
 *
 * - By default Next.js owns the signals: it stops accepting, waits for the requests in flight and
 *   for what they handed to `after()` (their events' delivery), then exits with 143 (SIGTERM) or
 *   130 (SIGINT). The client stays open meanwhile, so those requests' events are accepted; at
 *   `timeoutMs` it is closed, which ends the wait and counts what is left.
 * - With `NEXT_MANUAL_SIG_HANDLE=true` Next.js leaves the signals to the app: the client is closed
 *   at once (core `installShutdownHooks`), then the signal is re-raised, so the process dies by it
 *   (143) unless the app has its own listener. Next.js then neither stops accepting nor waits for
 *   requests: let the load balancer drain first (a Kubernetes `preStop` hook).
 * - A custom server (`next()` behind the app's own HTTP server) registers no signal handler either:
 *   when no other listener has the signal as it comes, it is handled as with
 *   `NEXT_MANUAL_SIG_HANDLE`.
 *
 * Idempotent per process; returns a function that uninstalls it. A no-op on the Edge runtime.
 * @example export async function register() { if (process.env.NEXT_RUNTIME === 'nodejs') { const { capi } = await import('./lib/capi'); (await import('@capi-kit/next')).registerShutdown(capi); } }
 */
export function registerShutdown(
  capi: ShutdownTarget,
  options: RegisterShutdownOptions = {},
): () => void {
  const proc = (globalThis as { process?: ProcessSlice }).process;
  // The Edge runtime has a `process` without signals: nothing to install there.
  if (!proc || typeof proc.on !== 'function' || typeof proc.once !== 'function') return () => {};
  if (proc.env?.NEXT_RUNTIME === 'edge') return () => {};
  const global = globalThis as { [INSTALLED]?: () => void };
  const existing = global[INSTALLED];
  if (existing) return existing;

  const timeoutMs = budgetMs(options.timeoutMs);
  const signals = options.signals ?? ['SIGTERM', 'SIGINT'];
  // Next.js may load the app's capi module once per bundle layer, each with its own client:
  // remember every client seen, since close() forgets them.
  const seen = new Set<CapiClient>();
  const remember = () => {
    for (const client of ownedClients()) seen.add(client);
  };
  let reported = false;
  const report = () => {
    if (reported) return;
    reported = true;
    remember();
    const { queued, inFlight, dropped, sent, lost } = undelivered(seen);
    if (lost === 0) return;
    console.warn(
      `capi-kit/next: shutdown left ${lost} event(s) undelivered (dropped at shutdown ${dropped}, queued ${queued}, in flight ${inFlight}; delivered ${sent})`,
    );
  };
  const closeAndReport = async (closeOptions: { timeoutMs?: number } = {}) => {
    remember();
    try {
      await capi.close(closeOptions);
    } finally {
      report();
    }
  };

  let uninstall: () => void;
  if (proc.env.NEXT_MANUAL_SIG_HANDLE) {
    uninstall = installShutdownHooks({ close: closeAndReport }, { timeoutMs, signals });
  } else {
    // Next.js's own handler runs too and ends with process.exit() once its requests and after()
    // callbacks are done. Closing now would refuse the events those requests are about to track,
    // so the client closes only at the deadline (ending the after() waits, counting the rest), and
    // 'exit' reports whatever the process leaves behind.
    let timer: ReturnType<typeof setTimeout> | undefined;
    const redact = createRedactor([proc.env.META_ACCESS_TOKEN]);
    // A target of the app's own (`{ close: () => … }`) may reject: said here, not left to become
    // an unhandled rejection, which ends the process with exit code 1 in the middle of Next.js's
    // own shutdown.
    const closeAtDeadline = () =>
      closeAndReport({ timeoutMs: 0 }).catch((error: unknown) => {
        const message = error instanceof Error ? error.message : String(error);
        console.error(`capi-kit/next: close() failed at the shutdown deadline: ${redact(message)}`);
      });
    const onSignal = (signal: string) => {
      if (timer !== undefined) return;
      if (proc.listenerCount(signal) === 1) {
        // Only ours: nobody will end the process. A custom server (`next()` behind the app's own
        // http server) runs instrumentation but registers no signal handler (`next start` does),
        // and this listener alone took Node's default death away: the server went on serving
        // after SIGTERM until a SIGKILL. Then it is NEXT_MANUAL_SIG_HANDLE's case: the core's hooks
        // close the client at once and re-raise the signal (a second one ends the close).
        stop();
        hooks = installShutdownHooks({ close: closeAndReport }, { timeoutMs, signals });
        // The hooks' listener takes this signal as the first one (only JS listeners hear it).
        proc.emit(signal, signal);
        return;
      }
      timer = setTimeout(() => void closeAtDeadline(), timeoutMs);
      // Next.js decides when the process ends; this deadline must not postpone it.
      (timer as { unref?: () => void }).unref?.();
    };
    const listeners = new Map(signals.map((signal) => [signal, () => onSignal(signal)]));
    for (const [signal, listener] of listeners) proc.on(signal, listener);
    proc.once('exit', report);
    let hooks: (() => void) | undefined;
    const stop = () => {
      for (const [signal, listener] of listeners) proc.removeListener(signal, listener);
      proc.removeListener('exit', report);
      if (timer !== undefined) clearTimeout(timer);
    };
    uninstall = () => {
      stop();
      hooks?.();
    };
  }
  const remove = () => {
    uninstall();
    if (global[INSTALLED] === remove) delete global[INSTALLED];
  };
  global[INSTALLED] = remove;
  return remove;
}
