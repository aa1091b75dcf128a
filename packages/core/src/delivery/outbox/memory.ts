import {
  addPixelStats,
  type FreshEntries,
  findLeased,
  type LedgerEntry,
  PixelLedger,
  retriedRecord,
} from './ledger.js';
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

/**
 * One pixel's records. Fresh records form a FIFO (appended in seq order, leave only from the
 * front), so `track()` stays O(1) even while evicting. Leases and records given back by
 * nack/release are the ledger's (ledger.ts), shared with the SQLite outbox.
 */
class PixelStore extends PixelLedger implements FreshEntries {
  fresh: LedgerEntry[] = [];
  head = 0;

  freshLength(): number {
    return this.fresh.length - this.head;
  }

  peek(): LedgerEntry | undefined {
    return this.fresh[this.head];
  }

  take(): void {
    this.shiftFresh();
  }

  shiftFresh(): LedgerEntry | undefined {
    const entry = this.fresh[this.head];
    if (entry === undefined) return undefined;
    this.fresh[this.head] = undefined as unknown as LedgerEntry;
    this.head++;
    // Compact lazily: amortized O(1) per record.
    if (this.head > 1024 && this.head * 2 > this.fresh.length) {
      this.fresh = this.fresh.slice(this.head);
      this.head = 0;
    }
    return entry;
  }

  /** The oldest waiting entry (ready or not) and where it lives. */
  oldest(): { entry: LedgerEntry; from: 'fresh' | 'returned' } | undefined {
    const f = this.peek();
    const r = this.returned[0];
    if (f && (!r || f.seq < r.seq)) return { entry: f, from: 'fresh' };
    if (r) return { entry: r, from: 'returned' };
    return undefined;
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

const NOTHING_EVICTED: AppendResult = Object.freeze({ evicted: Object.freeze([]) });

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

  // The stores listed once per call, not once per id: an ack of a 1000-event batch would otherwise
  // make 1000 iterators. One store (one pixel) is the common case: asked directly, no pair per id.
  const eachLeased = (
    ids: readonly string[],
    visit: (store: PixelStore, entry: LedgerEntry) => void,
  ): void => {
    const ledgers = [...stores.values()];
    const only = ledgers.length === 1 ? ledgers[0] : undefined;
    for (const id of ids) {
      if (only !== undefined) {
        const entry = only.leased.get(id);
        if (entry !== undefined) visit(only, entry);
      } else {
        const found = findLeased(ledgers, id);
        if (found) visit(found[0], found[1]);
      }
    }
  };

  const giveBack = (ids: readonly string[], update: (rec: OutboxRecord) => OutboxRecord): void =>
    eachLeased(ids, (store, entry) => store.giveBack(entry, update(entry.rec)));

  const remove = (ids: readonly string[]): number => {
    let removed = 0;
    eachLeased(ids, (store, entry) => {
      store.remove(entry);
      removed++;
    });
    return removed;
  };

  return {
    durable: false,

    append(records: readonly OutboxRecord[]): AppendResult {
      const evicted: OutboxRecord[] = [];
      // `track()` appends one record per stream: the stores touched are few, kept in an array.
      const touched: PixelStore[] = [];
      for (const rec of records) {
        // Past maxBytes on its own, it would have every waiting record evicted and then go too:
        // it alone is dropped (overflow).
        if (rec.bytes > maxBytes) {
          evicted.push(rec);
          continue;
        }
        const store = storeFor(rec.pixelId);
        store.fresh.push({ rec, seq: seq++, leaseUntil: 0, leaseSlot: undefined });
        store.count++;
        store.bytes += rec.bytes;
        if (!touched.includes(store)) touched.push(store);
      }
      for (const store of touched) evictOver(store, evicted);
      return evicted.length === 0 ? NOTHING_EVICTED : { evicted };
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
        bytes += store.claim(store, limit, now + leaseMs, now, maxClaimBytes - bytes, all, out);
      }
      return out;
    },

    ack(ids: readonly string[]): void {
      remove(ids);
    },

    nack(ids: readonly string[], retryAt: number, error?: string): void {
      giveBack(ids, (rec) => retriedRecord(rec, retryAt, error));
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
      for (const [pixelId, store] of stores) addPixelStats(total, pixelId, store.stats());
      return total;
    },
  };
};
