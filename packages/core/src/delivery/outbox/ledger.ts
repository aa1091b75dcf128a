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
  /** Leased records by record id. */
  leased = new Map<string, LedgerEntry>();
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
    for (const [id, entry] of this.leased) {
      if (entry.leaseUntil <= now) {
        this.leased.delete(id);
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
      this.leased.set(entry.rec.id, entry);
      if (leaseUntil < this.nextLeaseExpiry) this.nextLeaseExpiry = leaseUntil;
      out.push(entry.rec);
    }
    return bytes;
  }

  /** A leased record comes back (nack/release) as `rec`, claimable again from its `retryAt`. */
  giveBack(entry: LedgerEntry, rec: OutboxRecord): void {
    this.leased.delete(entry.rec.id);
    entry.rec = rec;
    entry.leaseUntil = 0;
    this.insertReturned(entry);
  }

  /** A leased record leaves the outbox (ack or dead letter). */
  remove(entry: LedgerEntry): void {
    this.leased.delete(entry.rec.id);
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
