import type { OutboxPixelStats, OutboxRecord, OutboxStats } from './types.js';

// The bookkeeping every outbox that leases records in process keeps per pixel: what it holds,
// what is leased until when, and what was given back (nack/release or an expired lease). The
// in-memory outbox and @capi-kit/outbox-sqlite differ only in where never-claimed records come
// from (an array, an indexed range read), so a claim is written once, here.

/** A record an outbox holds, with its append order (`seq`: "oldest" means lowest) and its lease. */
export interface LedgerEntry {
  /** Append order; kept when a retry puts the record back, so it stays "old". */
  seq: number;
  /** The record. */
  rec: OutboxRecord;
  /** End of the lease on the engine's clock (epoch ms); meaningful only while leased. */
  leaseUntil: number;
  /** Where {@link LeaseTable} keeps the entry while leased; set and read by the table alone. */
  leaseSlot?: number | undefined;
}

/**
 * A pixel's leased entries, found by record id. Kept in claim order rather than in a `Map` keyed
 * by id: the engine acknowledges (or gives back) a batch's ids in the order it claimed them, so
 * a lookup is usually the entry after the previous one, one comparison of two references to the
 * same id string. Putting every record of every batch into a `Map` and deleting it on the ack cost
 * about 6 % of a tracked request in process (bench/request-path.mjs, December 2026). An id asked
 * out of order (batches answered out of order, a split batch, another pixel's ids) is found
 * through an index of the slots leased so far, extended only when such a lookup misses it; its
 * entries are checked against the slot, so leases ending need not touch it.
 */
export class LeaseTable {
  /** Leased entries in claim order; `undefined` where one left. */
  private order: (LedgerEntry | undefined)[] = [];
  /** Slots before it are all empty. */
  private head = 0;
  /** Where the next in-order lookup looks first. */
  private cursor = 0;
  /** Slot by record id for slots before `indexed` (some may have emptied since). */
  private index: Map<string, number> | undefined;
  /** Slots before it are in `index`. */
  private indexed = 0;
  /** Entries leased. */
  size = 0;

  /** Leases `entry` (it must not be leased already). */
  add(entry: LedgerEntry): void {
    entry.leaseSlot = this.order.length;
    this.order.push(entry);
    this.size++;
  }

  /** The leased entry of record `id`, if any. */
  get(id: string): LedgerEntry | undefined {
    if (this.size === 0) return undefined;
    const next = this.order[this.cursor];
    if (next !== undefined && next.rec.id === id) {
      this.cursor++;
      return next;
    }
    let slot = this.indexedSlot(id);
    if (slot === undefined && this.indexed < this.order.length) {
      if (this.index === undefined) this.index = new Map();
      const index = this.index;
      for (let at = Math.max(this.indexed, this.head); at < this.order.length; at++) {
        const entry = this.order[at];
        if (entry !== undefined) index.set(entry.rec.id, at);
      }
      this.indexed = this.order.length;
      slot = this.indexedSlot(id);
    }
    if (slot === undefined) return undefined;
    this.cursor = slot + 1;
    return this.order[slot];
  }

  /** `id`'s slot from the index, when the entry there is still `id`'s. */
  private indexedSlot(id: string): number | undefined {
    const slot = this.index?.get(id);
    return slot !== undefined && this.order[slot]?.rec.id === id ? slot : undefined;
  }

  /** Ends `entry`'s lease (a no-op when it is not leased here). */
  delete(entry: LedgerEntry): void {
    const slot = entry.leaseSlot;
    if (slot === undefined || this.order[slot] !== entry) return;
    this.order[slot] = undefined;
    entry.leaseSlot = undefined;
    if (--this.size === 0) {
      this.clear();
      return;
    }
    while (this.order[this.head] === undefined) this.head++;
    // Compact once most slots are empty, at the front or behind a lease that stays open (a request
    // never answered holds its records until the lease ends, and the records claimed after it are
    // acked meanwhile): memory stays proportional to the leases held. Amortized O(1) per entry.
    if (this.order.length > 1024 && this.size * 2 < this.order.length) this.compact();
  }

  /** The leased entries, in claim order (a copy: ending leases while reading it is safe). */
  values(): LedgerEntry[] {
    const out: LedgerEntry[] = [];
    for (let slot = this.head; slot < this.order.length; slot++) {
      const entry = this.order[slot];
      if (entry !== undefined) out.push(entry);
    }
    return out;
  }

  /** Ends every lease. */
  clear(): void {
    for (let slot = this.head; slot < this.order.length; slot++) {
      const entry = this.order[slot];
      if (entry !== undefined) entry.leaseSlot = undefined;
    }
    this.order = [];
    this.head = 0;
    this.cursor = 0;
    this.index = undefined;
    this.indexed = 0;
    this.size = 0;
  }

  /** Keeps the leased entries alone; slots move, so the index is rebuilt when next needed. */
  private compact(): void {
    const kept: LedgerEntry[] = [];
    let cursor = -1;
    for (let slot = this.head; slot < this.order.length; slot++) {
      if (cursor === -1 && slot >= this.cursor) cursor = kept.length;
      const entry = this.order[slot];
      if (entry === undefined) continue;
      entry.leaseSlot = kept.length;
      kept.push(entry);
    }
    this.order = kept;
    this.head = 0;
    this.cursor = cursor === -1 ? kept.length : cursor;
    this.index = undefined;
    this.indexed = 0;
  }
}

/** A pixel's never-claimed records, oldest first, as {@link PixelLedger.claim} reads them. */
export interface FreshEntries {
  /** The oldest never-claimed entry, not taken yet; `wanted` is how many the claim still wants. */
  peek(wanted: number): LedgerEntry | undefined;
  /** Takes the entry `peek` returned (claimed, or set aside as not ready yet). */
  take(): void;
}

/**
 * One pixel's leases and given-back records, shared by the outboxes that lease in process (the
 * in-memory and SQLite ones). Given-back records are few (at most the batches in flight) and older
 * than the fresh ones, so they are kept in a small `seq`-sorted list.
 */
export class PixelLedger {
  /** Records held, waiting and leased. */
  count = 0;
  /** UTF-8 bytes of the records held. */
  bytes = 0;
  /** Records given back or whose lease ended, `seq`-sorted. */
  returned: LedgerEntry[] = [];
  /** Leased records, found by record id. */
  leased = new LeaseTable();
  /** The earliest `leaseUntil` among `leased` (or later): no lease can end before it. */
  nextLeaseExpiry = Number.POSITIVE_INFINITY;

  /** Puts `entry` among the given-back records, in `seq` order. */
  insertReturned(entry: LedgerEntry): void {
    const list = this.returned;
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((list[mid] as LedgerEntry).seq < entry.seq) lo = mid + 1;
      else hi = mid;
    }
    list.splice(lo, 0, entry);
  }

  /** Leases that ended by `now` become given-back records, claimable again. */
  expireLeases(now: number): void {
    if (now < this.nextLeaseExpiry) return;
    let next = Number.POSITIVE_INFINITY;
    for (const entry of this.leased.values()) {
      if (entry.leaseUntil <= now) {
        this.leased.delete(entry);
        this.insertReturned(entry);
      } else if (entry.leaseUntil < next) {
        next = entry.leaseUntil;
      }
    }
    this.nextLeaseExpiry = next;
  }

  /**
   * Leases the oldest ready records (fresh ones and given-back ones merged by `seq`) until `out`
   * holds `limit` or their bodies (plus a comma each) would pass `maxBytes`; at least one is taken.
   * A fresh record scheduled for later (`retryAt` > `now`, a backoff a previous process stored)
   * waits with the given-back ones. With `all` (a shutdown sweep) every record is taken, leased or
   * not, ready or not. Returns the bytes taken.
   */
  claim(
    fresh: FreshEntries,
    limit: number,
    leaseUntil: number,
    now: number,
    maxBytes: number,
    all: boolean,
    out: OutboxRecord[],
  ): number {
    let bytes = 0;
    if (all) {
      // Shutdown sweep: leased ones too, so nothing is left unaccounted.
      for (const entry of this.leased.values()) this.insertReturned(entry);
      this.leased.clear();
    }
    // Not-yet-ready returned entries are skipped in place; the list is short.
    let skip = 0;
    while (out.length < limit) {
      const f = fresh.peek(limit - out.length);
      let r: LedgerEntry | undefined;
      while (skip < this.returned.length) {
        const candidate = this.returned[skip] as LedgerEntry;
        if (all || candidate.rec.retryAt <= now) {
          r = candidate;
          break;
        }
        skip++;
      }
      let entry: LedgerEntry;
      if (f && (!r || f.seq < r.seq)) {
        if (!all && f.rec.retryAt > now) {
          fresh.take();
          this.insertReturned(f);
          skip = 0;
          continue;
        }
        entry = f;
      } else if (r) {
        entry = r;
      } else {
        break;
      }
      const cost = entry.rec.bytes + 1;
      if (out.length > 0 && bytes + cost > maxBytes) break;
      if (entry === f) fresh.take();
      else this.returned.splice(skip, 1);
      bytes += cost;
      entry.leaseUntil = leaseUntil;
      this.leased.add(entry);
      if (leaseUntil < this.nextLeaseExpiry) this.nextLeaseExpiry = leaseUntil;
      out.push(entry.rec);
    }
    return bytes;
  }

  /** A leased record comes back (nack/release) as `rec`, claimable again from its `retryAt`. */
  giveBack(entry: LedgerEntry, rec: OutboxRecord): void {
    this.leased.delete(entry);
    entry.rec = rec;
    entry.leaseUntil = 0;
    this.insertReturned(entry);
  }

  /** A leased record leaves the outbox (ack or dead letter). */
  remove(entry: LedgerEntry): void {
    this.leased.delete(entry);
    this.count--;
    this.bytes -= entry.rec.bytes;
  }
}

/** The ledger among `ledgers` that leased record `id`, with its entry. */
export const findLeased = <L extends PixelLedger>(
  ledgers: Iterable<L>,
  id: string,
): [L, LedgerEntry] | undefined => {
  for (const ledger of ledgers) {
    const entry = ledger.leased.get(id);
    if (entry) return [ledger, entry];
  }
  return undefined;
};

/** `rec` after a failed attempt (`nack`): one more attempt spent, `retryAt`, and the error if any. */
export const retriedRecord = (rec: OutboxRecord, retryAt: number, error?: string): OutboxRecord => {
  const next: OutboxRecord = { ...rec, attempts: rec.attempts + 1, retryAt };
  if (error !== undefined) next.lastError = error;
  return next;
};

/** Adds one pixel's counters to `total` (its `pixels` entry, sums and the oldest waiting record). */
export const addPixelStats = (total: OutboxStats, pixelId: string, s: OutboxPixelStats): void => {
  total.pixels[pixelId] = s;
  total.queued += s.queued;
  total.leased += s.leased;
  total.bytes += s.bytes;
  if (
    s.oldestEnqueuedAt !== undefined &&
    (total.oldestEnqueuedAt === undefined || s.oldestEnqueuedAt < total.oldestEnqueuedAt)
  ) {
    total.oldestEnqueuedAt = s.oldestEnqueuedAt;
  }
};
