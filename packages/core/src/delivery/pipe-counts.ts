import { emptyDrops } from './client-stats.js';
import type { OutboxRecord } from './outbox/types.js';
import type { PipeConfig } from './pipe-config.js';
import { reportedEventName } from './redact.js';
import type { Slot } from './slots.js';
import type { DropReason, EventRef } from './types.js';

// Where one stream's events are, in figures (docs/architecture.md, delivery guarantees): queued,
// in flight, sent, dead-lettered, dropped, and the two progress measures `flush()` and `drain()`
// wait on, with their waiters. Each move is one synchronous method, called by the pipe
// (pixel-pipe.ts, send-loop.ts, answer-handling.ts) in the same step as the outbox call
// it reflects, so `stats()` adds up at every moment, hooks included. This class makes no outbox
// call, knows nothing of who owns a record at shutdown (ownership.ts), nor of when to send.

type Waiter = { done: () => boolean; resolve: () => void };

/** Bytes of these records' events. */
export const sumBytes = (records: readonly OutboxRecord[]): number => {
  let total = 0;
  for (const r of records) total += r.bytes;
  return total;
};

/** The records' outbox ids, as `ack`, `nack` and `deadLetter` take them. */
export const ids = (records: readonly OutboxRecord[]): string[] => records.map((r) => r.id);

/** The records as hooks name them (no payload). */
export const refs = (records: readonly OutboxRecord[]): EventRef[] =>
  records.map((r) => ({ eventId: r.eventId, eventName: reportedEventName(r.eventName) }));

/** One stream's figures (events, not requests) and who waits on them. */
export class PipeCounts {
  // Read by the pipe's `stats()` and its waiting conditions; moved only by the methods below.
  queued = 0;
  queuedBytes = 0;
  inFlightEvents = 0;
  sent = 0;
  retried = 0;
  deadLettered = 0;
  readonly dropped = emptyDrops();
  /** Records whose fate was decided at least once (attempted, dropped, evicted): flush's progress measure. */
  settled = 0;
  /** Records that left for good (delivered, dead-lettered, dropped, delegated): drain's progress measure. */
  resolved = 0;
  private readonly waiters = new Set<Waiter>();

  constructor(private readonly config: Pick<PipeConfig, 'pixelId' | 'hooks' | 'undeliverable'>) {}

  /** Records were appended (counted queued before the outbox answers an async append). */
  appended(count: number, bytes: number): void {
    this.queued += count;
    this.queuedBytes += bytes;
  }

  /** Queued records that left the queue without a request (evicted, delegated, failed, expired). */
  unqueued(records: readonly OutboxRecord[]): void {
    this.queued -= records.length;
    this.queuedBytes -= sumBytes(records);
  }

  /** Queued records a shutdown swept: never below zero. */
  swept(records: readonly OutboxRecord[]): void {
    this.queued = Math.max(0, this.queued - records.length);
    this.queuedBytes = Math.max(0, this.queuedBytes - sumBytes(records));
  }

  /** Queued records handed to an external deliverer: they left for good. */
  delegated(records: readonly OutboxRecord[]): void {
    this.unqueued(records);
    this.settled += records.length;
    this.resolved += records.length;
  }

  /** A request took these claimed records (its `slot.events` and `slot.bytes`): queued to in flight. */
  startedRequest(slot: Slot): void {
    this.queued -= slot.events;
    this.queuedBytes -= slot.bytes;
    this.inFlightEvents += slot.events;
  }

  /**
   * These records of a request are no longer in flight: called in the same synchronous step as the
   * counter that takes them (sent, queued, dead-lettered).
   */
  land(slot: Slot, records: readonly OutboxRecord[]): void {
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

  /** These records of `slot` go back to the queue (given back, or parts of a rejected batch). */
  requeued(slot: Slot, records: readonly OutboxRecord[]): void {
    this.land(slot, records);
    this.queued += records.length;
    this.queuedBytes += sumBytes(records);
  }

  /** What a request has not accounted for goes back to the queue (still leased in the outbox). */
  requeuedUnlanded(slot: Slot): void {
    this.inFlightEvents -= slot.events;
    this.queued += slot.events;
    this.queuedBytes += slot.bytes;
    slot.events = 0;
    slot.bytes = 0;
    slot.unlanded = [];
  }

  /** A request ended: its records, less those set aside for bisection, were attempted. */
  requestEnded(attempted: number): void {
    this.settled += attempted;
  }

  /** The platform acknowledged these records of `slot`. */
  delivered(slot: Slot, records: readonly OutboxRecord[]): void {
    this.land(slot, records);
    this.sent += records.length;
    this.resolved += records.length;
  }

  /** These records of `slot` were dead-lettered. */
  deadLetteredFrom(slot: Slot, records: readonly OutboxRecord[]): void {
    this.land(slot, records);
    this.deadLettered += records.length;
    this.resolved += records.length;
  }

  /** Records given back for a retry (not those dead-lettered for want of attempts). */
  retriedSome(count: number): void {
    this.retried += count;
  }

  /**
   * `track()` built no record for this stream while other streams took it: counted as dropped,
   * never queued, so neither progress measure moves.
   */
  rejectedAtIntake(reason: DropReason): void {
    this.dropped[reason]++;
  }

  /** Records dropped for `reason`, told through the `dropped` hook (and `onUndeliverable` when due). */
  drop(reason: DropReason, records: readonly OutboxRecord[]): void {
    this.dropped[reason] += records.length;
    this.settled += records.length;
    this.resolved += records.length;
    this.config.hooks.emit('dropped', () => ({
      reason,
      pixelId: this.config.pixelId,
      count: records.length,
      events: refs(records),
    }));
    if (reason === 'overflow' || reason === 'expired' || reason === 'shutdown') {
      this.config.undeliverable(records, reason);
    }
  }

  /** Resolves once `done()` holds, checked now and at every `notify()`. */
  waitFor(done: () => boolean): Promise<void> {
    if (done()) return Promise.resolve();
    return new Promise((resolve) => this.waiters.add({ done, resolve }));
  }

  /** The figures (or the pipe's state) moved: waiters whose condition holds are resolved. */
  notify(): void {
    for (const waiter of [...this.waiters]) {
      if (waiter.done()) {
        this.waiters.delete(waiter);
        waiter.resolve();
      }
    }
  }
}
