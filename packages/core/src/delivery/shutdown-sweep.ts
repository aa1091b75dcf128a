import type { OutboxRecord } from './outbox/types.js';
import { isPromise } from './outbox-calls.js';
import type { RecordOwnership } from './ownership.js';
import type { PipeConfig } from './pipe-config.js';
import { ids } from './pipe-counts.js';

// What a stopped stream does with the records its outbox still holds (docs/architecture.md,
// delivery guarantees). A non-durable outbox's are claimed, leased ones included, and
// dead-lettered; a durable one keeps them for the next start, except what it holds in memory only
// (its storage failed), which its `takeNonDurable` hands over. That happens at close, again for
// every record that comes back after it (one sweep at a time), and in one synchronous step when the
// process exits before close() ended. Records an outbox call in progress owns are left to it
// (ownership.ts). The pipe (pixel-pipe.ts) moves the counters: it is told what a sweep took, in
// the same synchronous step as the outbox call that took it.

/** Why a durable outbox's records were dropped at shutdown (`takeNonDurable`). */
const NOT_DURABLE = 'capi-kit: closed with events the outbox could not make durable';

/** A promise and the function that resolves it. */
const deferred = (): { promise: Promise<void>; resolve: () => void } => {
  let resolve: () => void = () => {};
  const promise = new Promise<void>((done) => {
    resolve = done;
  });
  return { promise, resolve };
};

/** What the sweeps need of the pipe they belong to. */
export interface ShutdownSweepDeps {
  config: Pick<PipeConfig, 'pixelId' | 'outbox' | 'clock' | 'leaseMs' | 'background'>;
  owners: RecordOwnership;
  /**
   * Records a sweep took from the outbox, all counted as queued: the pipe counts them as dropped
   * `shutdown` (handed to `onUndeliverable`) and logs `message`. Called in the step the outbox
   * call that settled their fate answered in (the sweep's own, or the owning call that ended).
   */
  swept(records: readonly OutboxRecord[], message: string): void;
  /** An outbox call of a sweep failed: the records stay in the outbox, counted as queued. */
  outboxError(error: unknown): void;
  /** A sweep ended: whoever waits on the pipe's figures looks again. */
  ended(): void;
}

/** The shutdown sweeps of one stream (see the module comment). */
export class ShutdownSweep {
  /** A sweep of records put back after the pipe stopped (`afterStop`), while it runs. */
  private lateSweep: Promise<void> | undefined;
  /** More records were put back while `lateSweep` ran: it sweeps once more. */
  private lateSweepAgain = false;
  /** close() called the outbox's own `close()`: no take asks it about late records any more. */
  private outboxClosing = false;

  constructor(private readonly deps: ShutdownSweepDeps) {}

  /**
   * A sweep may still find records: the outbox is not durable, or it is and has a
   * `takeNonDurable` that close() has not yet cut off by calling the outbox's own `close()`.
   */
  get mayFind(): boolean {
    const { outbox } = this.deps.config;
    return !outbox.durable || (outbox.takeNonDurable !== undefined && !this.outboxClosing);
  }

  /**
   * The sweep at close, once the pipe stopped. Registered as the running sweep before its first
   * outbox call (an outbox may report records put back from inside that call): records put back
   * meanwhile (`afterStop`) wait for it and are swept after it, not by a second sweep claiming the
   * same leased records.
   */
  async atClose(): Promise<void> {
    const ended = deferred();
    this.lateSweep = ended.promise;
    try {
      await this.sweep();
    } catch (error) {
      // Their fate is the outbox's now; they stay counted as waiting there.
      this.deps.outboxError(error);
    } finally {
      this.lateSweep = undefined;
      ended.resolve();
      if (this.lateSweepAgain) this.afterStop();
    }
    this.deps.ended();
  }

  /**
   * The process is exiting before close() ended (the pipe stopped, and no await will ever resume;
   * called only when {@link mayFind}): what a non-durable outbox still holds, queued or in flight,
   * is swept in this one synchronous step when its calls answer synchronously (the in-memory
   * outbox's do), so a sink that writes synchronously (a spill file) still gets it. A durable
   * outbox is asked for what it holds in memory only (`takeNonDurable`, which tries one last
   * write), which dies with the process; the rest stays for the next start. A shutdown sweep
   * already under way is overtaken: its continuation never runs.
   */
  atExit(): void {
    const { outbox, clock, pixelId, leaseMs } = this.deps.config;
    if (outbox.durable) {
      this.takeAtExit();
      return;
    }
    const owned = this.deps.owners.ids();
    const taken = outbox.claim(Number.MAX_SAFE_INTEGER, leaseMs, {
      pixelId,
      all: true,
      now: clock.now(),
    });
    if (isPromise(taken)) {
      taken.then(undefined, () => {});
      return;
    }
    const left = owned.size === 0 ? taken : taken.filter((r) => !owned.has(r.id));
    if (left.length === 0) return;
    const dead = outbox.deadLetter(ids(left), 'shutdown: the process exited before close() ended');
    if (isPromise(dead)) dead.then(undefined, () => {});
    this.deps.swept(
      left,
      'capi-kit: the process is exiting before close() ended: undelivered events dropped (await client.close() before process.exit())',
    );
  }

  /**
   * An outbox call ended after the stop and left these records queued (put back, or failed):
   * a non-durable outbox's are swept; a durable one's stay for the next start, except those its
   * `takeNonDurable` had already taken, lost and counted so (`RecordOwnership.lost`), and those
   * the take this starts finds in memory only.
   */
  leftAfterStop(records: readonly OutboxRecord[]): void {
    this.afterStop();
    this.deps.swept(this.deps.owners.lost(records), NOT_DURABLE);
  }

  /**
   * Records went back to the outbox after the pipe stopped (a BullMQ producer's fallback taking a
   * batch whose Redis write failed after `close()` gave up waiting for it; a request whose answer
   * was recorded after close()'s grace; an async append answered late): nothing here will send
   * them, so a non-durable outbox's are counted as dropped `shutdown` now rather than left as
   * queued on a closed client. A durable outbox keeps them for the next start, and they stay
   * counted as queued, except what it holds in memory only: its `takeNonDurable` is asked again,
   * as at close, until close() calls the outbox's own `close()` (`outboxCloses`).
   */
  afterStop(): void {
    if (!this.mayFind) return;
    // One sweep at a time: a sweep claims with `all`, leased records included, so two at once
    // would both count the same records.
    if (this.lateSweep) {
      this.lateSweepAgain = true;
      return;
    }
    // Registered before the first outbox call, as in `atClose`.
    const ended = deferred();
    this.lateSweep = ended.promise;
    void (async () => {
      do {
        this.lateSweepAgain = false;
        try {
          await this.sweep();
        } catch (error) {
          this.deps.outboxError(error);
        }
      } while (this.lateSweepAgain);
      this.lateSweep = undefined;
      ended.resolve();
      this.deps.ended();
    })();
    this.deps.config.background(ended.promise);
  }

  /** The sweep (durable: take) of records put back or appended after the stop, while it runs. */
  running(): Promise<void> | undefined {
    return this.lateSweep;
  }

  /** close() is about to call the outbox's own `close()`: late records are the outbox's from here. */
  outboxCloses(): void {
    this.outboxClosing = true;
  }

  /**
   * Non-durable outbox: every record of this pixel still in it (queued or leased) is
   * dead-lettered. Durable: the records it holds in memory only (`takeNonDurable`: its storage
   * failed) are taken; the rest come back at the next start. Either way they are counted as
   * dropped `shutdown` (handed to `onUndeliverable`), except those an outbox call in progress
   * accounts for (ownership.ts). Each sweep takes off `queued` what it found, so records put back
   * meanwhile stay counted for the next one.
   */
  private async sweep(): Promise<void> {
    const { outbox, clock, pixelId, leaseMs } = this.deps.config;
    if (outbox.durable) return this.takeAtShutdown();
    const owned = this.deps.owners.ids();
    const taken = await outbox.claim(Number.MAX_SAFE_INTEGER, leaseMs, {
      pixelId,
      all: true,
      now: clock.now(),
    });
    const left = owned.size === 0 ? taken : taken.filter((r) => !owned.has(r.id));
    if (left.length > 0) {
      await outbox.deadLetter(ids(left), 'shutdown: not delivered before close() deadline');
    }
    this.deps.swept(left, 'capi-kit: closed with undelivered events');
  }

  /**
   * `atExit` of a durable outbox: what it holds in memory only (its storage failed: a full disk)
   * dies with the process, and is taken (`takeNonDurable`, which tries one last write) and counted
   * as dropped `shutdown`, as at close. The rest stays for the next start.
   */
  private takeAtExit(): void {
    const { outbox, pixelId } = this.deps.config;
    if (outbox.takeNonDurable === undefined) return;
    const owned = this.deps.owners.ids();
    const taken = outbox.takeNonDurable(pixelId);
    if (isPromise(taken)) {
      taken.then(undefined, () => {});
      return;
    }
    const left = owned.size === 0 ? taken : taken.filter((r) => !owned.has(r.id));
    this.deps.swept(
      left,
      'capi-kit: the process is exiting before close() ended: events the outbox could not make durable dropped (await client.close() before process.exit())',
    );
  }

  /**
   * Durable outbox, at close and for records that land after it: `takeNonDurable` removes and
   * returns what the outbox holds in memory only (its storage failed), counted as dropped
   * `shutdown`, except what an outbox call in progress still counts (`RecordOwnership.take`).
   */
  private async takeAtShutdown(): Promise<void> {
    const { outbox, pixelId } = this.deps.config;
    const lost = await this.deps.owners.take(() => outbox.takeNonDurable?.(pixelId));
    this.deps.swept(lost, NOT_DURABLE);
  }
}
