import type {
  AppendResult,
  ClaimOptions,
  Outbox,
  OutboxPixelStats,
  OutboxRecord,
  OutboxStats,
} from './types.js';

/** Bounds of {@link memoryOutbox}, per pixel. */
export interface MemoryOutboxOptions {
  /** Most records held per pixel (waiting + leased); default 10 000. */
  maxEvents?: number;
  /** Most UTF-8 bytes held per pixel; default 16 MiB. */
  maxBytes?: number;
}

/** The in-memory outbox: the {@link Outbox} contract, answered synchronously. */
export interface MemoryOutbox extends Outbox {
  append(records: readonly OutboxRecord[]): AppendResult;
  claim(limit: number, leaseMs: number, options?: ClaimOptions): OutboxRecord[];
  ack(ids: readonly string[]): void;
  nack(ids: readonly string[], retryAt: number, error?: string): void;
  release(ids: readonly string[], retryAt: number): void;
  deadLetter(ids: readonly string[], error: string): void;
  stats(): OutboxStats;
}

interface Entry {
  rec: OutboxRecord;
  /** Append order: "oldest" means lowest seq, also after a retry puts it back. */
  seq: number;
  leaseUntil: number;
}

/**
 * One pixel's records. Fresh records form a FIFO (appended in seq order, leave only from the
 * front), so `track()` stays O(1) even while evicting. Records given back by nack/release go to a
 * small seq-sorted list: they are few (at most `maxConcurrency` batches) and older than the FIFO.
 */
class PixelStore {
  fresh: Entry[] = [];
  head = 0;
  returned: Entry[] = [];
  leased = new Map<string, Entry>();
  count = 0;
  bytes = 0;
  nextLeaseExpiry = Number.POSITIVE_INFINITY;

  freshLength(): number {
    return this.fresh.length - this.head;
  }

  peekFresh(): Entry | undefined {
    return this.fresh[this.head];
  }

  shiftFresh(): Entry | undefined {
    const entry = this.fresh[this.head];
    if (entry === undefined) return undefined;
    this.fresh[this.head] = undefined as unknown as Entry;
    this.head++;
    // Compact lazily: amortized O(1) per record.
    if (this.head > 1024 && this.head * 2 > this.fresh.length) {
      this.fresh = this.fresh.slice(this.head);
      this.head = 0;
    }
    return entry;
  }

  insertReturned(entry: Entry): void {
    const list = this.returned;
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((list[mid] as Entry).seq < entry.seq) lo = mid + 1;
      else hi = mid;
    }
    list.splice(lo, 0, entry);
  }

  /** The oldest waiting entry (ready or not) and where it lives. */
  oldest(): { entry: Entry; from: 'fresh' | 'returned' } | undefined {
    const f = this.peekFresh();
    const r = this.returned[0];
    if (f && (!r || f.seq < r.seq)) return { entry: f, from: 'fresh' };
    if (r) return { entry: r, from: 'returned' };
    return undefined;
  }

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

  stats(): OutboxPixelStats {
    const s: OutboxPixelStats = {
      queued: this.count - this.leased.size,
      leased: this.leased.size,
      bytes: this.bytes,
    };
    const oldest = this.oldest();
    if (oldest) s.oldestEnqueuedAt = oldest.entry.rec.enqueuedAt;
    return s;
  }
}

/**
 * The default, in-process {@link Outbox}: bounded per pixel by count and bytes, dropping the oldest
 * waiting records on overflow (fresher conversions are worth more, and Meta refuses events older
 * than 7 days anyway). Not durable: what is left at `close()` is reported as dropped.
 */
export const memoryOutbox = (options: MemoryOutboxOptions = {}): MemoryOutbox => {
  const maxEvents = options.maxEvents ?? 10_000;
  const maxBytes = options.maxBytes ?? 16 * 1024 * 1024;
  if (!(maxEvents >= 1) || !(maxBytes >= 1)) {
    throw new RangeError('memoryOutbox: maxEvents and maxBytes must be at least 1');
  }
  const stores = new Map<string, PixelStore>();
  let seq = 0;
  let deadLettered = 0;

  const storeFor = (pixelId: string): PixelStore => {
    let store = stores.get(pixelId);
    if (!store) {
      store = new PixelStore();
      stores.set(pixelId, store);
    }
    return store;
  };

  const evictOver = (store: PixelStore, evicted: OutboxRecord[]): void => {
    while (store.count > maxEvents || store.bytes > maxBytes) {
      const oldest = store.oldest();
      if (!oldest) return; // everything left is leased (in flight): nothing we may drop
      if (oldest.from === 'fresh') store.shiftFresh();
      else store.returned.shift();
      store.count--;
      store.bytes -= oldest.entry.rec.bytes;
      evicted.push(oldest.entry.rec);
    }
  };

  const giveBack = (ids: readonly string[], update: (rec: OutboxRecord) => OutboxRecord): void => {
    for (const id of ids) {
      for (const store of stores.values()) {
        const entry = store.leased.get(id);
        if (!entry) continue;
        store.leased.delete(id);
        entry.rec = update(entry.rec);
        entry.leaseUntil = 0;
        store.insertReturned(entry);
        break;
      }
    }
  };

  const remove = (ids: readonly string[]): number => {
    let removed = 0;
    for (const id of ids) {
      for (const store of stores.values()) {
        const entry = store.leased.get(id);
        if (!entry) continue;
        store.leased.delete(id);
        store.count--;
        store.bytes -= entry.rec.bytes;
        removed++;
        break;
      }
    }
    return removed;
  };

  const claimFrom = (
    store: PixelStore,
    limit: number,
    leaseUntil: number,
    now: number,
    maxClaimBytes: number,
    all: boolean,
    out: OutboxRecord[],
  ): number => {
    let bytes = 0;
    if (all) {
      // Shutdown sweep: leased ones too, so nothing is left unaccounted.
      for (const entry of store.leased.values()) store.insertReturned(entry);
      store.leased.clear();
    }
    // Not-yet-ready returned entries are skipped in place; the list is short.
    let skip = 0;
    while (out.length < limit) {
      const f = store.peekFresh();
      let r: Entry | undefined;
      while (skip < store.returned.length) {
        const candidate = store.returned[skip] as Entry;
        if (all || candidate.rec.retryAt <= now) {
          r = candidate;
          break;
        }
        skip++;
      }
      let entry: Entry;
      if (f && (!r || f.seq < r.seq)) {
        if (!all && f.rec.retryAt > now) {
          // A fresh record scheduled for later (durable replay semantics): park it with the returned ones.
          store.shiftFresh();
          store.insertReturned(f);
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
      if (out.length > 0 && bytes + cost > maxClaimBytes) break;
      if (entry === f) store.shiftFresh();
      else store.returned.splice(skip, 1);
      bytes += cost;
      entry.leaseUntil = leaseUntil;
      store.leased.set(entry.rec.id, entry);
      if (leaseUntil < store.nextLeaseExpiry) store.nextLeaseExpiry = leaseUntil;
      out.push(entry.rec);
    }
    return bytes;
  };

  return {
    durable: false,

    append(records: readonly OutboxRecord[]): AppendResult {
      const evicted: OutboxRecord[] = [];
      const touched = new Set<PixelStore>();
      for (const rec of records) {
        const store = storeFor(rec.pixelId);
        store.fresh.push({ rec, seq: seq++, leaseUntil: 0 });
        store.count++;
        store.bytes += rec.bytes;
        touched.add(store);
      }
      for (const store of touched) evictOver(store, evicted);
      return { evicted };
    },

    claim(limit: number, leaseMs: number, claimOptions: ClaimOptions = {}): OutboxRecord[] {
      const now = claimOptions.now ?? Date.now();
      const all = claimOptions.all === true;
      const maxClaimBytes = claimOptions.maxBytes ?? Number.POSITIVE_INFINITY;
      const out: OutboxRecord[] = [];
      const targets =
        claimOptions.pixelId === undefined
          ? [...stores.values()]
          : [stores.get(claimOptions.pixelId)].filter((s): s is PixelStore => s !== undefined);
      let bytes = 0;
      for (const store of targets) {
        if (out.length >= limit) break;
        store.expireLeases(now);
        bytes += claimFrom(store, limit, now + leaseMs, now, maxClaimBytes - bytes, all, out);
      }
      return out;
    },

    ack(ids: readonly string[]): void {
      remove(ids);
    },

    nack(ids: readonly string[], retryAt: number, error?: string): void {
      giveBack(ids, (rec) => {
        const next: OutboxRecord = { ...rec, attempts: rec.attempts + 1, retryAt };
        if (error !== undefined) next.lastError = error;
        return next;
      });
    },

    release(ids: readonly string[], retryAt: number): void {
      giveBack(ids, (rec) => ({ ...rec, retryAt }));
    },

    deadLetter(ids: readonly string[], _error: string): void {
      // In memory there is nowhere to keep them: the engine hands them to `onUndeliverable`.
      deadLettered += remove(ids);
    },

    stats(): OutboxStats {
      const pixels: Record<string, OutboxPixelStats> = {};
      const total: OutboxStats = { queued: 0, leased: 0, bytes: 0, deadLettered, pixels };
      for (const [pixelId, store] of stores) {
        const s = store.stats();
        pixels[pixelId] = s;
        total.queued += s.queued;
        total.leased += s.leased;
        total.bytes += s.bytes;
        if (
          s.oldestEnqueuedAt !== undefined &&
          (total.oldestEnqueuedAt === undefined || s.oldestEnqueuedAt < total.oldestEnqueuedAt)
        ) {
          total.oldestEnqueuedAt = s.oldestEnqueuedAt;
        }
      }
      return total;
    },
  };
};
