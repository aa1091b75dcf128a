import type { OutboxRecord } from './outbox/types.js';
import { RecordOwnership } from './ownership.js';
import type { PipeConfig } from './pipe-config.js';
import { PipeCounts } from './pipe-counts.js';
import { PipeLog } from './pipe-log.js';
import { reportedEventName } from './redact.js';
import { SendGate } from './send-gate.js';
import { SendLoop } from './send-loop.js';
import { ShutdownSweep } from './shutdown-sweep.js';
import type { Slot } from './slots.js';
import type { DropReason, PixelStats } from './types.js';

// One stream as the client sees it: what the client tells it (records appended, evicted,
// delegated; events other streams took), what `flush()`, `drain()` and `close()` wait for, the
// close phases and the exit, `resume()` and `stats()`. It puts the stream's parts together and
// does none of their work: its figures are pipe-counts.ts's, sending is send-loop.ts's (with
// batch-sender.ts, answer-handling.ts and bisection.ts), when it may send is send-gate.ts's, who
// owns a record while outbox calls outlast a shutdown is ownership.ts's, what a stopped stream's
// outbox still holds is shutdown-sweep.ts's, and what it says is pipe-log.ts's. Every counter
// moves in the same synchronous step as the outbox call it reflects (delivery guarantees,
// docs/architecture.md).
export { isExpired } from './expiry.js';

/**
 * One stream's delivery pipeline (a Meta pixel, a TikTok pixel code: its destination says how to
 * read answers): batching, bounded concurrency, shared pause (throttle and backoff), circuit
 * breaker (auth) and bisection (invalid). Only the engine's own counters are consulted on the hot
 * path; the outbox is touched once per batch.
 */
export class PixelPipe {
  readonly pixelId: string;
  /** Its figures (events, not requests), moved in the step of the outbox call they reflect. */
  private readonly counts: PipeCounts;
  /** When the stream may send: the shared pause, the records' backoff, the auth circuit. */
  private readonly gate: SendGate;
  /** The pump, the claim loop and the requests in flight. */
  private readonly loop: SendLoop;
  /** What the stream says: log lines (some rate-limited) and the `retry`/`warn`/`error` hooks. */
  private readonly say: PipeLog;
  /** What happens to the records the outbox still holds once the pipe stopped. */
  private readonly sweeps: ShutdownSweep;

  constructor(private readonly config: PipeConfig) {
    this.pixelId = config.pixelId;
    const { destination } = config;
    const label = destination.label ?? destination.name;
    this.say = new PipeLog(config, label);
    this.counts = new PipeCounts(config);
    this.gate = new SendGate(config.retry, config.random);
    // The requests in flight, and which outbox call counts a record when calls outlast a
    // shutdown (ownership.ts).
    const slots = new Set<Slot>();
    const owners = new RecordOwnership(slots);
    this.sweeps = new ShutdownSweep({
      config,
      owners,
      swept: (records, message) => this.sweptAtShutdown(records, message),
      outboxError: (error) => this.say.outboxError(error),
      ended: () => this.counts.notify(),
    });
    this.loop = new SendLoop({
      config,
      label,
      counts: this.counts,
      gate: this.gate,
      owners,
      say: this.say,
      sweeps: this.sweeps,
      slots,
      woke: () => this.config.background(this.flush()),
    });
  }

  /**
   * `track()` built no record for this stream (its destination rejected the event, or it was too
   * large or too old for it) while other streams took it: counted here, so this stream's figures
   * add up to the `track()` calls that targeted it.
   */
  noteRejected(reason: DropReason): void {
    // Never queued: flush's and drain's progress measures do not move, and nothing is
    // undeliverable (the event was not accepted here), like a client-level intake drop.
    this.counts.rejectedAtIntake(reason);
  }

  /** The `dropped` hook of a {@link noteRejected} event, once every stream counted its own. */
  reportRejected(reason: DropReason, eventId: string, eventName: string): void {
    this.config.hooks.emit('dropped', () => ({
      reason,
      pixelId: this.pixelId,
      count: 1,
      events: [{ eventId, eventName: reportedEventName(eventName) }],
    }));
  }

  // ---------------------------------------------------------------- intake

  /** Records were appended for this pixel (before any eviction report). */
  noteAppended(count: number, bytes: number, flushNow: boolean): void {
    this.counts.appended(count, bytes);
    this.loop.mayHaveRecords();
    if (this.loop.stopped) {
      this.sweeps.afterStop();
      return;
    }
    // flushOnEnd: the client flushes at the end of the tick, no batch timer needed.
    if (flushNow) return;
    this.loop.appended();
  }

  /**
   * An async append answered: its records, counted as queued when it was made, are in the outbox,
   * and a claim that found the outbox empty before is stale. Past the stop (close() gave up
   * waiting for it) nothing will send them: a non-durable outbox's are swept, as every record put
   * back late is; a durable one keeps them for the next start, except what it holds in memory
   * only, which its `takeNonDurable` is asked about again.
   */
  noteAppendLanded(): void {
    if (this.loop.stopped) {
      this.sweeps.afterStop();
      return;
    }
    // A claim made before they landed may answer that the outbox is empty: it is asked again.
    this.loop.mayHaveRecords();
  }

  /** The outbox evicted these records (drop-oldest). */
  noteEvicted(records: readonly OutboxRecord[]): void {
    if (records.length === 0) return;
    this.counts.unqueued(records);
    this.counts.drop('overflow', records);
    this.say.overflow(this.counts.dropped.overflow);
    this.counts.notify();
  }

  /** The outbox handed these (already counted) records to an external deliverer: no longer ours. */
  noteDelegated(records: readonly OutboxRecord[]): void {
    if (records.length === 0) return;
    this.counts.delegated(records);
    this.counts.notify();
  }

  /** An append failed (async outbox): the records never made it in. */
  noteAppendFailed(records: readonly OutboxRecord[]): void {
    this.counts.unqueued(records);
    this.counts.drop('error', records);
    this.counts.notify();
  }

  // ---------------------------------------------------------------- control

  /**
   * Resolves when every event queued or in flight at the call has been attempted (delivered,
   * dead-lettered, dropped, or re-queued after a failure), or earlier when the pixel has nothing it
   * may send now (empty, paused, backing off, circuit open). Never rejects.
   */
  flush(): Promise<void> {
    if (this.loop.stopped) return Promise.resolve();
    const { counts } = this;
    const target = counts.settled + Math.max(0, counts.queued) + counts.inFlightEvents;
    this.loop.sendAll();
    return counts.waitFor(
      () => this.loop.stopped || counts.settled >= target || this.loop.isIdle(),
    );
  }

  /**
   * Resolves when every event queued or in flight at the call has left for good (delivered,
   * dead-lettered, dropped), or when nothing more can happen without outside help (an open auth
   * circuit, or a pause that outlasts `deadline`). Shorter backoffs and pauses are waited out.
   * Never rejects.
   */
  drain(deadline: number): Promise<void> {
    if (this.loop.stopped) return Promise.resolve();
    const { counts } = this;
    const target = counts.resolved + Math.max(0, counts.queued) + counts.inFlightEvents;
    this.loop.sendAll();
    return counts.waitFor(
      () =>
        this.loop.stopped ||
        counts.resolved >= target ||
        (this.loop.quiet &&
          (counts.queued <= 0 ||
            this.loop.claimEmpty ||
            this.gate.circuitOpen ||
            this.gate.pausedPast(deadline))),
    );
  }

  /**
   * Close begins: from now on no request starts at or after `deadline`. Called by `close()` before
   * it awaits anything (its outbox's flush may take I/O, and a backoff's wake-up may fire meanwhile),
   * and again when a later `close()` brings the deadline forward; a later deadline is ignored.
   */
  beginClose(deadline: number): void {
    this.loop.beginClose(deadline);
  }

  /**
   * Close phase 1: send everything, waiting out pauses that end before `deadline`, or before the
   * sooner one a later `beginClose` sets.
   */
  drainForClose(deadline: number): Promise<void> {
    if (this.loop.stopped) return Promise.resolve();
    const { loop } = this;
    loop.startClosing(deadline);
    return this.counts.waitFor(
      () =>
        loop.stopped ||
        (loop.quiet &&
          (loop.halted ||
            this.counts.queued <= 0 ||
            loop.claimEmpty ||
            this.gate.circuitOpen ||
            this.gate.pausedPast(loop.closeDeadline) ||
            this.config.clock.now() >= loop.closeDeadline)),
    );
  }

  /** Close phase 2 (deadline): abort every request in flight; their events are released unattempted. */
  abortAll(): void {
    this.loop.abortAll();
  }

  /**
   * Close phase 3: stop for good. A non-durable outbox's leftovers are reported as dropped
   * (`shutdown`) and handed to `onUndeliverable`; a durable outbox keeps them for the next start,
   * except those it reports through `takeNonDurable` (held in memory only), dropped likewise.
   */
  finalize(): Promise<void> {
    if (this.loop.stopped) return Promise.resolve();
    this.loop.stop();
    return this.sweeps.atClose();
  }

  /**
   * The process is exiting (`process.exit()`, an `uncaughtException` handler that exits) before
   * close() ended: no await will ever resume. What a non-durable outbox still holds, queued or in
   * flight, is counted as dropped (`shutdown`) and handed to `onUndeliverable` in this one
   * synchronous step, when its calls answer synchronously (the in-memory outbox's do): a sink that
   * writes synchronously (a spill file) still gets them. A durable outbox keeps them for the next
   * start, except what it holds in memory only (`ShutdownSweep.atExit`). A shutdown sweep already
   * under way is overtaken: its continuation never runs.
   */
  dropAtExit(): void {
    if (!this.sweeps.mayFind) return;
    if (!this.loop.stopped) this.loop.stop();
    this.sweeps.atExit();
  }

  /**
   * Records a shutdown took from the outbox, all counted as queued: counted as dropped `shutdown`
   * (handed to `onUndeliverable`) in the same step, so the figures add up inside the `dropped`
   * hook too, and the reason logged.
   */
  private sweptAtShutdown(records: readonly OutboxRecord[], message: string): void {
    if (records.length === 0) return;
    this.counts.swept(records);
    this.counts.drop('shutdown', records);
    this.say.line('warn', { pixelId: this.pixelId, count: records.length }, message);
  }

  /** The sweep (durable: take) of records put back or appended after the stop, while it runs. */
  runningLateSweep(): Promise<void> | undefined {
    return this.sweeps.running();
  }

  /** close() is about to call the outbox's own `close()`: late records are the outbox's from here. */
  outboxCloses(): void {
    this.sweeps.outboxCloses();
  }

  /** Closes the auth circuit and lifts any pause, then sends what is waiting. */
  resume(): void {
    if (this.loop.stopped) return;
    if (this.gate.resume())
      this.say.line('info', { pixelId: this.pixelId }, 'capi-kit: circuit closed by resume()');
    this.config.background(this.flush());
  }

  /** Counters and state. `oldestEnqueuedAt` comes from the outbox. */
  stats(oldestEnqueuedAt: number | undefined): PixelStats {
    const now = this.config.clock.now();
    const { counts } = this;
    return {
      pixelId: this.pixelId,
      queued: Math.max(0, counts.queued),
      inFlight: counts.inFlightEvents,
      sent: counts.sent,
      retried: counts.retried,
      dropped: { ...counts.dropped },
      deadLettered: counts.deadLettered,
      oldestQueuedAgeMs:
        oldestEnqueuedAt === undefined || counts.queued <= 0
          ? 0
          : Math.max(0, now - oldestEnqueuedAt),
      ...this.gate.state(now),
    };
  }
}
