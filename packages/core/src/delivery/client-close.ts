import type { Adoption } from './adopt.js';
import { MAX_TIMER_MS } from './clock.js';
import { closeOutboxLast } from './close-outbox.js';
import type { Feedback } from './feedback.js';
import type { Outbox } from './outbox/types.js';
import type { CountedOutbox } from './outbox-calls.js';
import type { PixelPipe } from './pixel-pipe.js';
import { describeError } from './redact.js';
import type { Clock } from './types.js';

// `client.close()`: the order in which a client's streams, its held appends, a durable outbox's
// start-up count and the outbox itself are brought to an end within one deadline. The client
// (client.ts) decides when close starts and refuses events from then on; this says what closing
// does.

/**
 * A timer for `close()` and `drain()` deadlines. These are the only timers that keep the process
 * alive (every other one is unref'd): a script, or a SIGTERM handler, whose last work is the drain
 * must not exit before it ends (Node exits on an empty event loop, leaving `await close()`
 * unsettled, exit code 13). They are bounded by the caller's deadline.
 */
export const deadlineTimer = (clock: Clock, ms: number) => {
  let handle: unknown;
  const promise = new Promise<'deadline'>((resolve) => {
    handle = clock.setTimeout(() => resolve('deadline'), Math.max(0, ms));
    clock.ref?.(handle);
  });
  return { promise, cancel: () => clock.clearTimeout(handle) };
};

/** A caller's deadline in ms: the default when absent or NaN, within [0, MAX_TIMER_MS] otherwise. */
export const deadlineMs = (value: number | undefined, fallback: number): number =>
  typeof value !== 'number' || Number.isNaN(value)
    ? fallback
    : Math.min(MAX_TIMER_MS, Math.max(0, value));

/**
 * The `timeoutMs` of `close()`'s or `drain()`'s options, as {@link deadlineMs} reads it. Read
 * without throwing: plain JavaScript may pass `null`, or options whose getter throws, and neither
 * call may throw or reject.
 */
export const optionsDeadlineMs = (options: unknown, fallback: number): number => {
  try {
    const { timeoutMs } = (options ?? {}) as { timeoutMs?: unknown };
    return deadlineMs(typeof timeoutMs === 'number' ? timeoutMs : undefined, fallback);
  } catch {
    return fallback;
  }
};

/**
 * The deadlines of one `close()`, which a later `close()` brings forward when its own end (now +
 * its `timeoutMs`) comes sooner, never back: an app's shutdown code closes with the default 2 s,
 * then a SIGTERM hook with 200 ms because the orchestrator kills the process soon after. Its
 * waits ({@link CloseDeadline.wait}) follow the deadlines as they move.
 */
export class CloseDeadline {
  /** When close() began. */
  readonly started: number;
  /** close() resolves by then. */
  end: number;
  /** No request starts at or after it; requests still out then are aborted. */
  abortAt: number;
  /**
   * Room between aborting and resolving, so aborted requests can hand back their events. An abort
   * that came late (a busy event loop) still gets it, unless a later close() asked for sooner.
   */
  readonly grace: number;
  /** The end a later, sooner close() asked for; infinite until one does. */
  cut = Number.POSITIVE_INFINITY;
  /** Called, in order, when the deadlines come forward: the pipes told, the waits re-armed. */
  private readonly listeners = new Set<() => void>();

  constructor(
    private readonly clock: Clock,
    timeoutMs: number,
  ) {
    this.started = clock.now();
    this.end = this.started + timeoutMs;
    this.grace = graceMs(timeoutMs);
    this.abortAt = this.end - this.grace;
  }

  /** A later close() with `timeoutMs`: its end, if sooner, becomes this close's. */
  tighten(timeoutMs: number): void {
    const end = this.clock.now() + timeoutMs;
    if (end >= this.end) return;
    this.end = end;
    this.cut = end;
    this.abortAt = Math.min(this.abortAt, end - graceMs(timeoutMs));
    for (const listener of [...this.listeners]) listener();
  }

  /** Calls `listener` each time the deadlines come forward; returns what stops that. */
  onTighten(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * What `work` resolves to, or 'deadline' once the time `at()` comes first. `at` is read again
   * each time the deadlines come forward; its timer, a {@link deadlineTimer}, is cleared either way.
   */
  async wait<T>(at: () => number, work?: Promise<T>): Promise<T | 'deadline'> {
    let timer: ReturnType<typeof deadlineTimer> | undefined;
    let fire: (value: 'deadline') => void = () => {};
    const deadline = new Promise<'deadline'>((resolve) => {
      fire = resolve;
    });
    const arm = () => {
      timer?.cancel();
      timer = deadlineTimer(this.clock, at() - this.clock.now());
      void timer.promise.then(fire);
    };
    const stop = this.onTighten(arm);
    try {
      arm();
      return await Promise.race(work === undefined ? [deadline] : [work, deadline]);
    } finally {
      stop();
      timer?.cancel();
    }
  }
}

/** Room between aborting and resolving, so aborted requests can hand back their events. */
const graceMs = (timeoutMs: number): number => Math.min(50, timeoutMs / 10);

/** What closing needs of the client it closes. */
export interface ClientCloseDeps {
  /** The scheduling clock: deadlines and the timers that wait for them. */
  clock: Clock;
  /** Every stream's pipe, in creation order. */
  pipes: ReadonlyMap<string, PixelPipe>;
  outbox: Outbox;
  /** The engine's outbox calls still running (none for the built-in outbox). */
  calls: CountedOutbox | undefined;
  /** A durable outbox's start-up count, while one is asked (adopt.ts). */
  adoption: Adoption | undefined;
  /** Async appends not answered yet waited for, then the outbox's own flush (`Appends.settle`). */
  settleAppends(): Promise<void>;
  feedback: Feedback;
  log(level: 'debug' | 'info' | 'warn' | 'error', obj: Record<string, unknown>, msg: string): void;
  redact(text: string): string;
  /** Reports an outbox failure (logger and `error` hook). */
  reportOutboxError(error: unknown, what: string): void;
  /** The outbox's own close is about to be called: its figures are final from here. */
  outboxClosing(): void;
  /** The figures of the closing log line. */
  summary(): Record<string, unknown>;
}

/**
 * Closes by `deadline.end`: the pipes stop starting requests at `deadline.abortAt` at once (before
 * any await), what is queued is delivered until then, requests still out are aborted, and the
 * outbox is closed after the engine's last calls on it (close-outbox.ts). A later close() that
 * brings the deadlines forward (`CloseDeadline.tighten`) is followed at once, by the pipes and by
 * the wait under way. Never rejects.
 */
export const closeClient = (deps: ClientCloseDeps, deadline: CloseDeadline): Promise<void> => {
  const { clock, pipes, adoption, log, redact } = deps;
  const { started } = deadline;
  // Before any await: a backoff's wake-up that fires while close waits on the outbox must not
  // start a request past the deadline either; nor past one a later close() brings forward.
  const tellPipes = () => {
    for (const pipe of pipes.values()) pipe.beginClose(deadline.abortAt);
  };
  deadline.onTighten(tellPipes);
  tellPipes();
  // What was counted but not yet summarized is printed now, before the process may end.
  deps.feedback.close();
  return (async () => {
    const all = [...pipes.values()];
    if (adoption?.asking()) {
      // A durable outbox's start-up count still unknown holds every call. It gets half the
      // budget; then it is given up and the held appends run, with the other half to land in
      // the outbox (claims stay held to the deadline: one could take a previous run's records,
      // which are not counted).
      await deadline.wait(() => started + (deadline.abortAt - started) / 2, adoption.ended());
      adoption.closing();
    }
    const drained = (async () => {
      await deps.settleAppends();
      await Promise.all(all.map((pipe) => pipe.drainForClose(deadline.abortAt)));
      return 'drained' as const;
    })();
    const winner = await deadline.wait(() => deadline.abortAt, drained);
    // The claims a given-up start-up count still held answer now, past the deadline, empty:
    // they ask the outbox nothing (adopt.ts).
    adoption?.giveUp();
    if (winner === 'deadline') {
      for (const pipe of all) pipe.abortAll();
      const settled = clock.now() + deadline.grace;
      await deadline.wait(() => Math.min(settled, deadline.cut), drained);
    }
    // The engine's last calls on the outbox, then its own close (close-outbox.ts). close() waits
    // for them up to its deadline; one that outlasts it is counted when it answers, and the
    // outbox is closed then (never, if it never answers: close() resolves all the same).
    const finish = closeOutboxLast(
      all,
      deps.outbox,
      deps.calls,
      () => {
        // A durable outbox's records landing from here on are its own to keep or report: no
        // take asks about them (`outboxCloses`).
        for (const pipe of all) pipe.outboxCloses();
        deps.outboxClosing();
      },
      (error) => deps.reportOutboxError(error, 'close failed'),
    ).catch((error: unknown) => {
      // Past the deadline nobody awaits it: reported here, never an unhandled rejection.
      log('error', {}, `capi-kit: close() failed: ${describeError(error, redact)}`);
    });
    await deadline.wait(() => deadline.end, finish);
    log('info', { elapsedMs: clock.now() - started, ...deps.summary() }, 'capi-kit: closed');
  })().catch((error: unknown) => {
    log('error', {}, `capi-kit: close() failed: ${describeError(error, redact)}`);
  });
};
