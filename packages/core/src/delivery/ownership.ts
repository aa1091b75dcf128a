import type { MaybePromise, OutboxRecord } from './outbox/types.js';
import type { Slot } from './slots.js';

// Which call counts a record while a pipe shuts down (docs/architecture.md, delivery guarantees).
// An outbox call that is still running when close() gives up (a request's answer being recorded,
// expired records being dead-lettered, records being given back) owns its records: it counts
// them when it returns, and the shutdown's own calls (the sweep of a non-durable outbox, a durable
// one's `takeNonDurable`) leave them to it, whatever order the outbox serves the calls in. The pipe
// keeps the counters and moves them; this class only knows who owns what. Tested by
// test/delivery/outbox-host.test.ts (each order by hand) and interleavings.test.ts (random ones).

const NONE: readonly OutboxRecord[] = Object.freeze([]);

/** One pipe's record ownership during outbox calls and at shutdown. */
export class RecordOwnership {
  /** Expired records being dead-lettered (`dropExpired`), one batch per call. */
  private readonly expiring = new Set<readonly OutboxRecord[]>();
  /**
   * Ids being given back to the outbox (a release or nack), one set per call; a request that
   * claims one again takes it out (`claimed`): it is that request's now.
   */
  private readonly givingBack = new Set<Set<string>>();
  /**
   * Ids a durable outbox's `takeNonDurable` returned while an outbox call owned them: the call
   * counts them, except where it would leave them queued in an outbox that no longer holds them
   * (`lost`).
   */
  private readonly takenWhileOwned = new Set<string>();
  /** While a take runs: ids owning calls left queued meanwhile (`take`). */
  private leftQueued: Set<string> | undefined;
  /**
   * Ids every take so far returned: a record is counted once, even from an outbox that returns
   * it again (its `takeNonDurable` should have removed it).
   */
  private readonly takenIds = new Set<string>();

  /** `slots`: the pipe's requests in flight (the live set, read at each question). */
  constructor(private readonly slots: ReadonlySet<Slot>) {}

  /**
   * Ids of the records an outbox call in progress will account for or change: those of requests
   * whose answer is being recorded (`settling`), expired ones being dead-lettered, and those being
   * given back. Read synchronously before a shutdown's claim or take, so that whichever call the
   * outbox serves first, a record belongs to exactly one of them.
   */
  ids(): Set<string> {
    const owned = new Set<string>();
    for (const slot of this.slots) {
      if (slot.settling) for (const r of slot.unlanded) owned.add(r.id);
    }
    for (const batch of this.expiring) for (const r of batch) owned.add(r.id);
    for (const giving of this.givingBack) for (const id of giving) owned.add(id);
    return owned;
  }

  /** A dead letter of these expired records begins: they are its call's to count. */
  expiryBegins(batch: readonly OutboxRecord[]): void {
    this.expiring.add(batch);
  }

  /** That dead letter returned or failed. */
  expiryEnds(batch: readonly OutboxRecord[]): void {
    this.expiring.delete(batch);
  }

  /** A give-back of these records begins; the returned set shrinks as requests claim them again. */
  giveBackBegins(records: readonly OutboxRecord[]): Set<string> {
    const giving = new Set<string>();
    for (const r of records) giving.add(r.id);
    this.givingBack.add(giving);
    return giving;
  }

  /** That give-back returned or failed; `giving` still holds the ids nobody claimed again. */
  giveBackEnds(giving: Set<string>): void {
    this.givingBack.delete(giving);
  }

  /** A request claimed these records: any given back by a call still running are its own now. */
  claimed(records: readonly OutboxRecord[]): void {
    for (const giving of this.givingBack) for (const r of records) giving.delete(r.id);
  }

  /** These records were counted for good (sent, dead-lettered, expired): none is lost any more. */
  counted(records: readonly OutboxRecord[]): void {
    if (this.takenWhileOwned.size === 0) return;
    for (const r of records) this.takenWhileOwned.delete(r.id);
  }

  /**
   * Runs a durable outbox's `takeNonDurable` (at close, and for records that land after it) and
   * returns the records it took that are lost now (to count as dropped `shutdown`): those no call
   * owned when it began, and those an owning call left queued while it ran. What an owning call
   * still holds when it answers stays that call's to count (`takenWhileOwned`, decided by `lost`
   * when the call ends). One take at a time (the pipe's late sweep serializes them).
   */
  async take(
    call: () => MaybePromise<readonly OutboxRecord[]> | undefined,
  ): Promise<readonly OutboxRecord[]> {
    const owned = this.ids();
    const leftQueued = new Set<string>();
    this.leftQueued = leftQueued;
    let taken: readonly OutboxRecord[];
    try {
      taken = (await call()) ?? NONE;
    } finally {
      this.leftQueued = undefined;
    }
    const stillOwned = owned.size === 0 ? owned : this.ids();
    const lost: OutboxRecord[] = [];
    for (const r of taken) {
      if (this.takenIds.has(r.id)) continue;
      this.takenIds.add(r.id);
      if (!owned.has(r.id) || leftQueued.has(r.id)) lost.push(r);
      else if (stillOwned.has(r.id)) this.takenWhileOwned.add(r.id);
      // Otherwise its call ended meanwhile and counted it (sent, dead-lettered, expired).
    }
    return lost;
  }

  /**
   * A call that ended after the stop left these records queued (put back, or failed): those a
   * durable outbox's take had already removed are lost, and returned to be counted as dropped
   * `shutdown`. A record claimed again meanwhile is the claiming request's. While a take runs
   * (the one at close, or a later one for records that landed after it), it decides about the
   * others: it may still find them in memory only.
   */
  lost(records: readonly OutboxRecord[]): readonly OutboxRecord[] {
    const { leftQueued } = this;
    if (leftQueued === undefined && this.takenWhileOwned.size === 0) return NONE;
    const others = this.ids();
    const left = others.size === 0 ? records : records.filter((r) => !others.has(r.id));
    const lost: OutboxRecord[] = [];
    for (const r of left) {
      if (this.takenWhileOwned.delete(r.id)) lost.push(r);
      else leftQueued?.add(r.id);
    }
    return lost;
  }
}
