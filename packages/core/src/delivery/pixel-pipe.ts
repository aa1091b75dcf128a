// Over 500 lines: one class whose counters change in the same synchronous step as the outbox call
// they reflect (delivery guarantees, docs/architecture.md); scheduling, sending and answer handling
// all move them, so they share the class and its private state. Who owns a record while outbox
// calls outlast a shutdown is ownership.ts's to know, and what a stopped pipe's outbox still holds
// is shutdown-sweep.ts's to take; the pipe asks them and moves the counters.
import { splitRejected } from './bisection.js';
import { emptyDrops } from './client-stats.js';
import { META_DESTINATION } from './destination.js';
import { expiryLookAheadMs, isExpired } from './expiry.js';
import type { OutboxRecord } from './outbox/types.js';
import { RecordOwnership } from './ownership.js';
import type { PipeConfig } from './pipe-config.js';
import { answerFields, PipeLog } from './pipe-log.js';
import { reportedEventName } from './redact.js';
import { SendGate } from './send-gate.js';
import { ShutdownSweep } from './shutdown-sweep.js';
import type { Part, Slot } from './slots.js';
import { buildBody, postBatch } from './transport.js';
import type {
  CapiDeliveryError,
  DeadLetterReason,
  DropReason,
  EventRef,
  PixelStats,
  SentInfo,
} from './types.js';
import {
  deliveryError,
  isNotPlatformAnswer,
  refusesRequest,
  type Verdict,
  verdictOf,
} from './verdict.js';

// The pipe's other parts live beside it: expiry.ts (the upload window), verdict.ts (what an
// answer means), bisection.ts (how a rejected batch is taken apart), send-gate.ts (the pause,
// backoff and auth circuit: when the stream may send), shutdown-sweep.ts (what a stopped stream does
// with the records its outbox still holds), transport.ts, pipe-log.ts (what it says).
export { isExpired } from './expiry.js';

type Waiter = { done: () => boolean; resolve: () => void };

const refs = (records: readonly OutboxRecord[]): EventRef[] =>
  records.map((r) => ({ eventId: r.eventId, eventName: reportedEventName(r.eventName) }));

const ids = (records: readonly OutboxRecord[]): string[] => records.map((r) => r.id);

const sumBytes = (records: readonly OutboxRecord[]): number => {
  let total = 0;
  for (const r of records) total += r.bytes;
  return total;
};

/** Events in the batch that probes a failing endpoint (see `fillSlots`). */
const PROBE_EVENTS = 1;

/**
 * One stream's delivery pipeline (a Meta pixel, a TikTok pixel code: its destination says how to
 * read answers): batching, bounded concurrency, shared pause (throttle and backoff), circuit
 * breaker (auth) and bisection (invalid). Only the engine's own counters are consulted on the hot
 * path; the outbox is touched once per batch.
 */
export class PixelPipe {
  readonly pixelId: string;
  /** The platform as log lines name it (`Meta`, `TikTok`). */
  private readonly label: string;
  private readonly expired: (record: OutboxRecord, nowMs: number) => boolean;
  /** Where the `sent` hook puts the trace id: `fbtraceId` predates destinations and stays Meta's. */
  private readonly traceField: 'fbtraceId' | 'traceId';

  // Counters (events, not requests).
  queued = 0;
  queuedBytes = 0;
  inFlightEvents = 0;
  sent = 0;
  retried = 0;
  deadLettered = 0;
  readonly dropped = emptyDrops();

  private inFlightRequests = 0;
  /** Records whose fate was decided at least once (attempted, dropped, evicted): flush's progress measure. */
  private settled = 0;
  /** Records that left for good (delivered, dead-lettered, dropped, delegated): drain's progress measure. */
  private resolved = 0;
  private draining = false;
  private closing = false;
  /** Close's deadline, set by `beginClose`: no request starts at or after it (`fillSlots`). */
  private closeDeadline = Number.POSITIVE_INFINITY;
  private stopped = false;
  /** Past the close deadline: abort what is in flight and start nothing new. */
  private halted = false;
  /** The last claim found nothing, and nothing since could have put a record in reach. */
  private claimEmpty = false;
  /**
   * Bumped by everything that may put records in reach of a claim, or asks for a partial batch
   * (`mayHaveRecords`): an empty answer to a claim made before a bump is stale, and says nothing
   * about the outbox now.
   */
  private claimEpoch = 0;
  private pumping = false;
  private pumpAgain = false;
  private pumpScheduled = false;
  /** When the stream may send: the shared pause, the records' backoff, the auth circuit. */
  private readonly gate: SendGate;
  private wakeHandle: unknown;
  private wakeAt = Number.POSITIVE_INFINITY;
  private readonly slots = new Set<Slot>();
  /** Which outbox call counts a record when calls outlast a shutdown (ownership.ts). */
  private readonly owners = new RecordOwnership(this.slots);
  /**
   * Parts of rejected batches waiting to be sent on their own (bisection). Their records stay
   * leased in the outbox and count as `queued`; they go out before anything new is claimed, each
   * in its own slot, so a poisoned batch is taken apart at full concurrency.
   */
  private readonly suspects: Part[] = [];
  /**
   * The body buffer of the last settled request, reused by the next one: keeps garbage (and page
   * faults) off the send path. At most one per pixel, as large as the largest body sent.
   */
  private spareBody: Uint8Array<ArrayBuffer> | undefined;
  private readonly waiters = new Set<Waiter>();
  /** What the stream says: log lines (some rate-limited) and the `retry`/`warn`/`error` hooks. */
  private readonly say: PipeLog;
  /** What happens to the records the outbox still holds once the pipe stopped. */
  private readonly sweeps: ShutdownSweep;

  constructor(private readonly config: PipeConfig) {
    this.pixelId = config.pixelId;
    const { destination } = config;
    this.label = destination.label ?? destination.name;
    this.say = new PipeLog(config, this.label);
    const maxAge = destination.limits.maxAgeSeconds;
    const lookAheadMs = expiryLookAheadMs(config.timeoutMs);
    this.expired = (record, nowMs) => isExpired(record, nowMs + lookAheadMs, maxAge);
    this.traceField = destination.name === META_DESTINATION ? 'fbtraceId' : 'traceId';
    this.gate = new SendGate(config.retry, config.random);
    this.sweeps = new ShutdownSweep({
      config,
      owners: this.owners,
      swept: (records, message) => this.sweptAtShutdown(records, message),
      outboxError: (error) => this.say.outboxError(error),
      ended: () => this.notify(),
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
    this.dropped[reason]++;
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

  /** Records may be in reach of a claim again, or a flush or drain wants a partial batch. */
  private mayHaveRecords(): void {
    this.claimEmpty = false;
    this.claimEpoch++;
  }

  // ---------------------------------------------------------------- intake

  /** Records were appended for this pixel (before any eviction report). */
  noteAppended(count: number, bytes: number, flushNow: boolean): void {
    this.queued += count;
    this.queuedBytes += bytes;
    this.mayHaveRecords();
    if (this.stopped) {
      this.sweeps.afterStop();
      return;
    }
    // flushOnEnd: the client flushes at the end of the tick, no batch timer needed.
    if (flushNow) return;
    if (
      this.queued >= this.config.maxBatchEvents ||
      this.queuedBytes >= this.config.maxBatchBytes
    ) {
      this.schedulePump();
    } else if (this.wakeHandle === undefined) {
      this.armWake(this.config.clock.now() + this.config.flushIntervalMs);
    }
  }

  /**
   * An async append answered: its records, counted as queued when it was made, are in the outbox,
   * and a claim that found the outbox empty before is stale. Past the stop (close() gave up
   * waiting for it) nothing will send them: a non-durable outbox's are swept, as every record put
   * back late is; a durable one keeps them for the next start, except what it holds in memory
   * only, which its `takeNonDurable` is asked about again.
   */
  noteAppendLanded(): void {
    if (this.stopped) {
      this.sweeps.afterStop();
      return;
    }
    // A claim made before they landed may answer that the outbox is empty: it is asked again.
    this.mayHaveRecords();
  }

  /** The outbox evicted these records (drop-oldest). */
  noteEvicted(records: readonly OutboxRecord[]): void {
    if (records.length === 0) return;
    this.queued -= records.length;
    this.queuedBytes -= sumBytes(records);
    this.drop('overflow', records);
    this.say.overflow(this.dropped.overflow);
    this.notify();
  }

  /** The outbox handed these (already counted) records to an external deliverer: no longer ours. */
  noteDelegated(records: readonly OutboxRecord[]): void {
    if (records.length === 0) return;
    this.queued -= records.length;
    this.queuedBytes -= sumBytes(records);
    this.settled += records.length;
    this.resolved += records.length;
    this.notify();
  }

  /** An append failed (async outbox): the records never made it in. */
  noteAppendFailed(records: readonly OutboxRecord[]): void {
    this.queued -= records.length;
    this.queuedBytes -= sumBytes(records);
    this.drop('error', records);
    this.notify();
  }

  // ---------------------------------------------------------------- control

  /**
   * Resolves when every event queued or in flight at the call has been attempted (delivered,
   * dead-lettered, dropped, or re-queued after a failure), or earlier when the pixel has nothing it
   * may send now (empty, paused, backing off, circuit open). Never rejects.
   */
  flush(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    const target = this.settled + Math.max(0, this.queued) + this.inFlightEvents;
    this.draining = true;
    this.mayHaveRecords();
    this.schedulePump();
    return this.waitFor(() => this.stopped || this.settled >= target || this.isIdle());
  }

  /**
   * Resolves when every event queued or in flight at the call has left for good (delivered,
   * dead-lettered, dropped), or when nothing more can happen without outside help (an open auth
   * circuit, or a pause that outlasts `deadline`). Shorter backoffs and pauses are waited out.
   * Never rejects.
   */
  drain(deadline: number): Promise<void> {
    if (this.stopped) return Promise.resolve();
    const target = this.resolved + Math.max(0, this.queued) + this.inFlightEvents;
    this.draining = true;
    this.mayHaveRecords();
    this.schedulePump();
    return this.waitFor(
      () =>
        this.stopped ||
        this.resolved >= target ||
        (this.inFlightRequests === 0 &&
          !this.pumping &&
          !this.pumpScheduled &&
          (this.queued <= 0 ||
            this.claimEmpty ||
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
    this.closeDeadline = Math.min(this.closeDeadline, deadline);
  }

  /**
   * Close phase 1: send everything, waiting out pauses that end before `deadline`, or before the
   * sooner one a later `beginClose` sets.
   */
  drainForClose(deadline: number): Promise<void> {
    if (this.stopped) return Promise.resolve();
    this.closing = true;
    this.beginClose(deadline);
    this.draining = true;
    this.mayHaveRecords();
    this.schedulePump();
    return this.waitFor(
      () =>
        this.stopped ||
        (this.inFlightRequests === 0 &&
          !this.pumping &&
          !this.pumpScheduled &&
          (this.halted ||
            this.queued <= 0 ||
            this.claimEmpty ||
            this.gate.circuitOpen ||
            this.gate.pausedPast(this.closeDeadline) ||
            this.config.clock.now() >= this.closeDeadline)),
    );
  }

  /** Close phase 2 (deadline): abort every request in flight; their events are released unattempted. */
  abortAll(): void {
    this.halted = true;
    for (const slot of this.slots) {
      slot.aborted = true;
      slot.controller?.abort();
    }
  }

  /**
   * Close phase 3: stop for good. A non-durable outbox's leftovers are reported as dropped
   * (`shutdown`) and handed to `onUndeliverable`; a durable outbox keeps them for the next start,
   * except those it reports through `takeNonDurable` (held in memory only), dropped likewise.
   */
  finalize(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    this.stop();
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
    if (!this.stopped) this.stop();
    this.sweeps.atExit();
  }

  /** Stops for good, before the shutdown's sweep: requests aborted, their events queued again. */
  private stop(): void {
    this.abortAll();
    this.stopped = true;
    this.clearWake();
    // Parts of rejected batches are still leased in the outbox: the shutdown's sweep (non-durable)
    // or the lease's expiry (durable) accounts for them, and they are already counted as queued.
    this.suspects.length = 0;
    // Requests still waiting for an answer are abandoned: their records stay leased in the
    // outbox, so they count as queued from here, for the shutdown's sweep (non-durable) or for
    // the next start (durable). A request whose answer is being recorded (`settling`: its outbox calls
    // outlasted close()'s grace) keeps its records and counts them when those calls return.
    for (const slot of this.slots) {
      if (slot.settling) continue;
      this.inFlightEvents -= slot.events;
      this.queued += slot.events;
      this.queuedBytes += slot.bytes;
      slot.events = 0;
      slot.bytes = 0;
      slot.unlanded = [];
    }
  }

  /**
   * Records a shutdown took from the outbox, all counted as queued: counted as dropped `shutdown`
   * (handed to `onUndeliverable`) in the same step, so the figures add up inside the `dropped`
   * hook too, and the reason logged.
   */
  private sweptAtShutdown(records: readonly OutboxRecord[], message: string): void {
    if (records.length === 0) return;
    this.queued = Math.max(0, this.queued - records.length);
    this.queuedBytes = Math.max(0, this.queuedBytes - sumBytes(records));
    this.drop('shutdown', records);
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
    if (this.stopped) return;
    if (this.gate.resume())
      this.say.line('info', { pixelId: this.pixelId }, 'capi-kit: circuit closed by resume()');
    this.config.background(this.flush());
  }

  /** Counters and state. `oldestEnqueuedAt` comes from the outbox. */
  stats(oldestEnqueuedAt: number | undefined): PixelStats {
    const now = this.config.clock.now();
    return {
      pixelId: this.pixelId,
      queued: Math.max(0, this.queued),
      inFlight: this.inFlightEvents,
      sent: this.sent,
      retried: this.retried,
      dropped: { ...this.dropped },
      deadLettered: this.deadLettered,
      oldestQueuedAgeMs:
        oldestEnqueuedAt === undefined || this.queued <= 0
          ? 0
          : Math.max(0, now - oldestEnqueuedAt),
      ...this.gate.state(now),
    };
  }

  // ---------------------------------------------------------------- scheduling

  private isIdle(): boolean {
    return (
      this.inFlightRequests === 0 &&
      !this.pumping &&
      !this.pumpScheduled &&
      (this.queued <= 0 || this.claimEmpty || this.gate.isBlocked(this.config.clock.now()))
    );
  }

  private waitFor(done: () => boolean): Promise<void> {
    if (done()) return Promise.resolve();
    return new Promise((resolve) => this.waiters.add({ done, resolve }));
  }

  private notify(): void {
    for (const waiter of [...this.waiters]) {
      if (waiter.done()) {
        this.waiters.delete(waiter);
        waiter.resolve();
      }
    }
  }

  private schedulePump(): void {
    if (this.pumpScheduled || this.stopped) return;
    this.pumpScheduled = true;
    // Coalesces every track() of the current tick into one claim, off the caller's stack.
    queueMicrotask(() => {
      this.pumpScheduled = false;
      void this.pump();
    });
  }

  private armWake(at: number): void {
    if (this.stopped) return;
    if (this.wakeHandle !== undefined && this.wakeAt <= at) return;
    this.clearWake();
    const { clock } = this.config;
    this.wakeAt = at;
    this.wakeHandle = clock.setTimeout(
      () => {
        this.wakeHandle = undefined;
        this.wakeAt = Number.POSITIVE_INFINITY;
        if (this.stopped) return;
        this.config.background(this.flush());
      },
      Math.max(0, at - clock.now()),
    );
  }

  private clearWake(): void {
    if (this.wakeHandle !== undefined) this.config.clock.clearTimeout(this.wakeHandle);
    this.wakeHandle = undefined;
    this.wakeAt = Number.POSITIVE_INFINITY;
  }

  /** Next time something must happen: end of a pause, circuit probe, or the batch interval. */
  private afterPump(): void {
    if (this.stopped || this.queued <= 0) return;
    const now = this.config.clock.now();
    const wake = this.gate.wakeAfter(now);
    if (wake !== undefined) this.armWake(wake);
    else if (this.inFlightRequests === 0 || this.wakeHandle === undefined) {
      this.armWake(now + this.config.flushIntervalMs);
    }
  }

  private async pump(): Promise<void> {
    if (this.pumping) {
      this.pumpAgain = true;
      return;
    }
    this.pumping = true;
    try {
      do {
        this.pumpAgain = false;
        await this.fillSlots();
      } while (this.pumpAgain && !this.stopped);
    } catch (error) {
      this.say.outboxError(error);
      // The outbox failed to hand out work; try again after a short pause instead of spinning.
      this.gate.outboxFailed(this.config.clock.now());
    } finally {
      this.pumping = false;
      this.afterPump();
      this.notify();
    }
  }

  private async fillSlots(): Promise<void> {
    const { config } = this;
    // After a transient failure one small batch probes at a time until one succeeds: a struggling
    // Graph API gets one tiny request, not `maxConcurrency` full ones; an outage allocates no
    // megabyte bodies per attempt (nor `fetch`'s copies of them); and only the probe's events spend
    // attempts, so a long outage does not push whole batches towards `maxAttempts`.
    const failing = this.gate.failing;
    const limit = failing ? 1 : config.maxConcurrency;
    const batchEvents = failing ? PROBE_EVENTS : config.maxBatchEvents;
    while (!this.stopped && !this.halted && this.inFlightRequests < limit) {
      const now = config.clock.now();
      if (this.gate.isBlocked(now)) return;
      // A request started at close's deadline would be aborted at once, yet it may already have
      // reached the platform: then its events, released as unattempted, are sent again later (a
      // duplicate, as a BullMQ worker's round saw when its backoff had run out while the event loop
      // was busy). `close({ timeoutMs: 0 })` sends nothing. Checked again after each await below.
      if (now >= this.closeDeadline) return;
      const waiting = this.suspects.shift();
      if (waiting) {
        const { records, leaseUntil } = waiting;
        // The stream is probing: a part of a rejected batch goes out one probe at a time too, the
        // rest waiting at the front with the same lease.
        const part =
          records.length <= batchEvents
            ? waiting
            : { records: records.slice(0, batchEvents), leaseUntil };
        if (part !== waiting)
          this.suspects.unshift({ records: records.slice(batchEvents), leaseUntil });
        if (part.leaseUntil - now < this.leaseReserve()) {
          // Its lease could end mid-request, and the outbox would then hand the same records out
          // again: give it back unattempted (still queued) and let it come back as a batch.
          await this.putBack(part.records, undefined, () =>
            config.outbox.release(ids(part.records), now),
          );
          continue;
        }
        const live = await this.dropExpired(part.records, config.wallNow());
        if (live.length === 0) continue;
        if (this.mayNotStart()) {
          await this.unclaim(live, now);
          return;
        }
        this.gate.starting(); // half-open circuit: this is the one probe
        this.startSlot(live, part.leaseUntil);
        continue;
      }
      const sendPartial = this.draining || this.closing;
      if (this.queued <= 0) {
        this.draining = false;
        return;
      }
      if (
        !sendPartial &&
        this.queued < config.maxBatchEvents &&
        this.queuedBytes < config.maxBatchBytes
      ) {
        return;
      }
      const epoch = this.claimEpoch;
      const records = await config.outbox.claim(batchEvents, config.leaseMs, {
        pixelId: this.pixelId,
        maxBytes: config.maxBatchBytes,
        now,
      });
      if (this.mayNotStart()) {
        // close() reached its deadline (or finished) while we waited on an async outbox.
        await this.unclaim(records, now);
        return;
      }
      if (records.length === 0) {
        // Asked before an append landed or a drain began (an async outbox, or one that answers
        // from a snapshot): the outbox may hold records now, and a drain wants them. Ask again.
        if (epoch !== this.claimEpoch) continue;
        // Records waiting out their own backoff: the stream waits with them (send-gate.ts).
        if (this.queued > 0 && this.gate.waitForRetries(now)) return;
        this.claimEmpty = true;
        this.draining = false;
        return;
      }
      if (this.queued <= records.length) this.draining = false;
      const live = await this.dropExpired(records, config.wallNow());
      if (live.length === 0) continue;
      if (this.mayNotStart()) {
        await this.unclaim(live, now);
        return;
      }
      this.gate.starting(); // half-open circuit: exactly one probe batch
      this.startSlot(live, now + config.leaseMs);
    }
  }

  /**
   * Records the pump claimed that no request will carry: close() reached its deadline, or
   * finished, while the outbox answered. A durable outbox gets them back untouched, for the next
   * start. A non-durable one keeps them leased: its shutdown sweep claims leased records too, and
   * a release landing between that sweep's claim and its dead letter would leave them in the
   * outbox after they were counted as dropped, for a later sweep to count again.
   */
  private async unclaim(records: readonly OutboxRecord[], now: number): Promise<void> {
    if (records.length === 0) return;
    if (this.config.outbox.durable) {
      await this.putBack(records, undefined, () => this.config.outbox.release(ids(records), now));
    } else if (this.stopped) {
      this.sweeps.afterStop();
    }
  }

  /**
   * No request may start now: the pipe stopped, or close's deadline came (`halted`, or the clock
   * at it). Checked after every await in `fillSlots`, since an async outbox (a claim, a dead
   * letter) can hold the pump across the deadline.
   */
  private mayNotStart(): boolean {
    return this.stopped || this.halted || this.config.clock.now() >= this.closeDeadline;
  }

  private async dropExpired(records: OutboxRecord[], now: number): Promise<OutboxRecord[]> {
    let expired: OutboxRecord[] | undefined;
    let live = records;
    for (let i = 0; i < records.length; i++) {
      const record = records[i] as OutboxRecord;
      if (!this.expired(record, now)) continue;
      if (!expired) {
        expired = [];
        live = records.slice(0, i);
      }
      expired.push(record);
    }
    if (!expired) return records;
    if (live !== records) {
      live = records.filter((r) => !this.expired(r, now));
    }
    // Counted by this call, not by a shutdown sweep that runs while the outbox holds it.
    const batch: readonly OutboxRecord[] = expired;
    this.owners.expiryBegins(batch);
    try {
      await this.config.outbox.deadLetter(
        ids(expired),
        `expired: event_time is past ${this.label}'s upload window`,
      );
    } catch (error) {
      // Still in the outbox and counted as queued; past a shutdown, only a sweep would find them.
      this.owners.expiryEnds(batch);
      if (this.stopped) this.sweeps.leftAfterStop(expired);
      throw error;
    }
    this.owners.expiryEnds(batch);
    this.owners.counted(expired);
    this.queued -= expired.length;
    this.queuedBytes -= sumBytes(expired);
    this.drop('expired', expired);
    this.say.line(
      'warn',
      { pixelId: this.pixelId, count: expired.length },
      `capi-kit: dropped events past ${this.label}'s upload window${this.label === 'Meta' ? ' (7 days; 62 for physical_store)' : ''}`,
    );
    return live;
  }

  // ---------------------------------------------------------------- sending

  /** Moves claimed records from `queued` to `inFlight` in the same step, and sends them. */
  private startSlot(records: OutboxRecord[], leaseUntil: number): void {
    // Records given back by a call that has not answered yet: they are this request's now.
    this.owners.claimed(records);
    const bytes = sumBytes(records);
    const slot: Slot = {
      controller: undefined,
      aborted: false,
      suspected: 0,
      events: records.length,
      bytes,
      leaseUntil,
      unlanded: records,
      settling: false,
    };
    this.slots.add(slot);
    this.inFlightRequests++;
    this.queued -= records.length;
    this.queuedBytes -= bytes;
    this.inFlightEvents += records.length;
    void this.deliver(records, slot)
      .catch((error: unknown) => this.say.outboxError(error))
      .finally(() => {
        this.slots.delete(slot);
        this.inFlightRequests--;
        const left = slot.events;
        const leftBehind = left > 0 && this.stopped ? slot.unlanded : undefined;
        if (left > 0) {
          // An outbox call failed before these were accounted: they are still leased in the
          // outbox and come back when the lease ends, so they count as queued, not as nothing.
          // (A request abandoned at shutdown has none left: `finalize` counted them.)
          this.inFlightEvents -= left;
          this.queued += left;
          this.queuedBytes += slot.bytes;
          this.mayHaveRecords();
        }
        if (this.stopped) {
          // What it left behind is swept, or lost if a durable outbox's take had it.
          if (leftBehind !== undefined) this.sweeps.leftAfterStop(leftBehind);
          return;
        }
        this.settled += records.length - slot.suspected;
        this.gate.settled();
        this.schedulePump();
        this.notify();
      });
  }

  /** Lease a part needs left to be sent: one request (bounded by `timeoutMs`) and its outbox calls. */
  private leaseReserve(): number {
    return 2 * this.config.timeoutMs + 5_000;
  }

  /**
   * These records of a request are no longer in flight: called in the same synchronous step as the
   * counter that takes them (sent, queued, dead-lettered), so `stats()` adds up at every moment,
   * hooks included.
   */
  private land(slot: Slot, records: readonly OutboxRecord[]): void {
    if (records.length >= slot.events) {
      slot.unlanded = [];
    } else {
      const landed = new Set(records);
      slot.unlanded = slot.unlanded.filter((r) => !landed.has(r));
    }
    slot.events -= records.length;
    slot.bytes -= sumBytes(records);
    this.inFlightEvents -= records.length;
  }

  private async send(records: readonly OutboxRecord[], slot: Slot): Promise<Verdict> {
    const { config } = this;
    if (slot.aborted)
      return { cls: 'aborted', status: 0, durationMs: 0, message: 'aborted by close()' };
    const controller = new AbortController();
    slot.controller = controller;
    const body = buildBody(config.endpoint, records, this.spareBody);
    this.spareBody = undefined;
    const outcome = await postBatch(config.fetch, config.endpoint.url, body, {
      headers: config.endpoint.headers,
      timeoutMs: config.timeoutMs,
      clock: config.clock,
      controller,
    });
    // Settled: `fetch` copies the body when it is called (Fetch standard, "extract a body"), and a
    // wrapper is done with it once its answer is in, so the buffer can carry the next batch. Not
    // after a timeout or an abort: a `fetch` that ignores its signal (an old polyfill writing a
    // view of it to a socket it waits for) may still send it, and would send the next batch's
    // bytes over this one's.
    if (
      outcome.kind === 'response' ||
      outcome.kind === 'unreadable' ||
      outcome.kind === 'network'
    ) {
      this.spareBody = new Uint8Array(body.buffer);
    }
    slot.controller = undefined;
    return verdictOf(outcome, records, config);
  }

  private async deliver(records: OutboxRecord[], slot: Slot): Promise<void> {
    const verdict = await this.send(records, slot);
    if (this.stopped) return;
    // From here its records are this request's to count, even past a shutdown (ownership.ts).
    slot.settling = true;
    if (verdict.cls === 'success') return this.delivered(records, verdict, slot);
    if (verdict.cls === 'invalid') return this.rejected(records, verdict, slot);
    return this.failed(records, verdict, slot);
  }

  private async delivered(
    records: readonly OutboxRecord[],
    verdict: Verdict,
    slot: Slot,
  ): Promise<void> {
    await this.config.outbox.ack(ids(records));
    this.land(slot, records);
    this.owners.counted(records);
    this.sent += records.length;
    this.resolved += records.length;
    this.config.acknowledged?.(records);
    if (this.gate.succeeded()) {
      this.say.line('info', { pixelId: this.pixelId }, 'capi-kit: probe succeeded, circuit closed');
    }
    // The destination's classifier made sure this acknowledges every event sent.
    let ack: ReturnType<PipeConfig['destination']['acknowledgement']> = {};
    try {
      ack = this.config.destination.acknowledgement(verdict.body) ?? {};
    } catch {
      // Only the hook's figures come from it: the delivery stands.
    }
    const received = typeof ack.received === 'number' ? ack.received : undefined;
    const traceId = ack.traceId;
    this.config.hooks.emit('sent', () => {
      const info: SentInfo = {
        pixelId: this.pixelId,
        count: records.length,
        eventIds: records.map((r) => r.eventId),
        durationMs: verdict.durationMs,
      };
      if (received !== undefined) info.eventsReceived = received;
      if (typeof traceId === 'string') info[this.traceField] = this.config.redact(traceId);
      return info;
    });
    this.say.line(
      'debug',
      { pixelId: this.pixelId, count: records.length, durationMs: verdict.durationMs },
      'capi-kit: batch sent',
    );
  }

  /** Transient, throttled, auth or aborted: the records go back (or to the dead letters). */
  private async failed(
    records: readonly OutboxRecord[],
    verdict: Verdict,
    slot: Slot,
  ): Promise<void> {
    const { config } = this;
    const { outbox, clock, retry } = config;
    const now = clock.now();
    if (verdict.warning !== undefined) this.say.warning(verdict);
    // Other parts of a rejected batch keep waiting for their turn through the pause: a failure of
    // one part says nothing about them (a part whose lease runs short meanwhile is given back when
    // its turn comes, see fillSlots).
    switch (verdict.cls) {
      case 'aborted': {
        await this.putBack(records, slot, () => outbox.release(ids(records), now));
        return;
      }
      case 'auth': {
        const opened = this.gate.authRefused(now);
        // Kept (bounded by the queue limits) and ready the moment resume() closes the circuit.
        await this.putBack(records, slot, () => outbox.release(ids(records), now));
        if (opened) {
          const error = this.error(verdict);
          this.say.line(
            'error',
            {
              pixelId: this.pixelId,
              status: verdict.status,
              ...answerFields(verdict),
              retryInMs: retry.authProbeIntervalMs,
            },
            `capi-kit: ${this.label} refused the credentials for pixel ${this.pixelId}; sending stopped until resume() or the next probe. ${error.message}`,
          );
          config.hooks.emit('error', () => ({ kind: 'auth', pixelId: this.pixelId, error }));
        }
        return;
      }
      case 'throttled': {
        const { delayMs, retryAt, spendsAttempt } = this.gate.throttled(now, verdict.retryAfterMs);
        let kept: readonly OutboxRecord[] = records;
        if (spendsAttempt) {
          kept = await this.retryOrGiveUp(records, retryAt, verdict, slot);
        } else {
          await this.putBack(records, slot, () => outbox.release(ids(records), retryAt));
        }
        // Those out of attempts were dead-lettered: not retried, nor reported as such.
        this.retried += kept.length;
        if (kept.length > 0) this.say.retry(kept, verdict, 'throttled', delayMs);
        return;
      }
      default: {
        // transient (and, defensively, anything unexpected)
        if (refusesRequest(verdict)) this.say.refusal(verdict);
        else if (isNotPlatformAnswer(verdict)) this.say.notPlatformAnswer(verdict);
        const { delayMs, retryAt } = this.gate.transient(now, verdict.retryAfterMs);
        const kept = await this.retryOrGiveUp(records, retryAt, verdict, slot);
        this.retried += kept.length;
        if (kept.length > 0) this.say.retry(kept, verdict, 'transient', delayMs);
        return;
      }
    }
  }

  /** `nack` the records that have attempts left, dead-letter the rest. Returns those kept. */
  private async retryOrGiveUp(
    records: readonly OutboxRecord[],
    retryAt: number,
    verdict: Verdict,
    slot: Slot,
  ): Promise<readonly OutboxRecord[]> {
    const { maxAttempts } = this.config.retry;
    const keep: OutboxRecord[] = [];
    const spent: OutboxRecord[] = [];
    for (const r of records) (r.attempts + 1 >= maxAttempts ? spent : keep).push(r);
    if (keep.length > 0) {
      await this.putBack(keep, slot, () =>
        this.config.outbox.nack(ids(keep), retryAt, verdict.message),
      );
    }
    if (spent.length > 0) await this.deadLetterRecords(spent, 'max_attempts', verdict, slot);
    return keep;
  }

  /**
   * Gives records back to the outbox (`call`: a release or a nack), counted as queued from before
   * the call (those of `slot` move there from in flight): an outbox that takes the call before it
   * answers may hand them out again at once, and they must never count as in flight and queued
   * together. A shutdown sweep leaves them to the call (ownership.ts), and once it returns after a
   * shutdown a non-durable outbox's are swept; a durable one keeps them for the next start (those
   * its `takeNonDurable` took meanwhile are lost: `leftAfterStop`).
   */
  private async putBack(
    records: readonly OutboxRecord[],
    slot: Slot | undefined,
    call: () => unknown,
  ): Promise<void> {
    const giving = this.owners.giveBackBegins(records);
    if (slot !== undefined) {
      this.land(slot, records);
      this.queued += records.length;
      this.queuedBytes += sumBytes(records);
    }
    try {
      await call();
    } finally {
      this.owners.giveBackEnds(giving);
      // Claimable again (a claim made meanwhile may have found them still leased).
      this.mayHaveRecords();
      // Those claimed again meanwhile are the claiming request's to count.
      if (this.stopped) this.sweeps.leftAfterStop(records.filter((r) => giving.has(r.id)));
    }
  }

  /**
   * The platform rejected a batch of more than one event: the event it named is dead-lettered, the parts
   * wait for their own requests (bisection.ts). A single event is dead-lettered.
   */
  private async rejected(records: OutboxRecord[], verdict: Verdict, slot: Slot): Promise<void> {
    // A verdict on the events comes from a working endpoint that took the credentials (Graph checks
    // the token before the payload: a refused token is a 190, never a 100 about an event): the
    // half-open circuit's probe passed, and so did an outage's probe, though its events failed.
    if (this.gate.succeeded()) {
      this.say.line(
        'info',
        { pixelId: this.pixelId },
        'capi-kit: probe answered (its events rejected), credentials accepted, circuit closed',
      );
    }
    if (records.length === 1) {
      await this.deadLetterRecords(records, 'rejected', verdict, slot);
      return;
    }
    const { named, parts } = splitRejected(records, verdict);
    if (named !== undefined) {
      await this.deadLetterRecords([records[named] as OutboxRecord], 'rejected', verdict, slot);
    }
    this.say.line(
      'debug',
      { pixelId: this.pixelId, count: records.length, status: verdict.status, named },
      'capi-kit: batch rejected, sending its parts separately',
    );
    for (const part of parts) {
      if (part.length === 0) continue;
      // The parts keep the batch's lease: fillSlots gives a part back if it runs short.
      if (!this.stopped) this.suspects.push({ records: part, leaseUntil: slot.leaseUntil });
      this.land(slot, part);
      this.queued += part.length;
      this.queuedBytes += sumBytes(part);
      slot.suspected += part.length;
    }
    this.mayHaveRecords();
    // Past a shutdown nothing sends the parts: a non-durable outbox's are swept (still leased,
    // counted as queued); a durable one keeps them for the next start.
    if (this.stopped) this.sweeps.leftAfterStop(parts.flat());
  }

  private async deadLetterRecords(
    records: readonly OutboxRecord[],
    reason: DeadLetterReason,
    verdict: Verdict,
    slot: Slot,
  ): Promise<void> {
    const error = this.error(verdict);
    await this.config.outbox.deadLetter(ids(records), error.message);
    this.land(slot, records);
    this.owners.counted(records);
    this.deadLettered += records.length;
    this.resolved += records.length;
    this.say.deadLetter(records, reason, verdict);
    this.config.hooks.emit('deadLetter', () => ({
      pixelId: this.pixelId,
      reason,
      count: records.length,
      events: refs(records),
      error,
    }));
    this.config.undeliverable(records, reason);
  }

  // ---------------------------------------------------------------- reporting

  private drop(reason: DropReason, records: readonly OutboxRecord[]): void {
    this.dropped[reason] += records.length;
    this.settled += records.length;
    this.resolved += records.length;
    this.config.hooks.emit('dropped', () => ({
      reason,
      pixelId: this.pixelId,
      count: records.length,
      events: refs(records),
    }));
    if (reason === 'overflow' || reason === 'expired' || reason === 'shutdown') {
      this.config.undeliverable(records, reason);
    }
  }

  private error(verdict: Verdict): CapiDeliveryError {
    return deliveryError(verdict, this.pixelId);
  }
}
