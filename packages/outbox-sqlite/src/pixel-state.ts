import { type FreshEntries, type LedgerEntry, PixelLedger } from '@capi-kit/core';
import { type OutboxRow, toRecord } from './schema.js';

/**
 * One pixel's bookkeeping. Rows in the file with `seq > cursor` are "fresh" (never claimed by this
 * process) and read in order straight from the index; everything claimed since open is kept in
 * the ledger the in-memory outbox keeps too (the core's `PixelLedger`): leased, or given back
 * (`returned`, few: at most the in-flight batches). So a claim is one indexed range read and no
 * write.
 */
export class PixelState extends PixelLedger {
  constructor(readonly pixelId: string) {
    super();
  }
  /** The last row of the file this process claimed or evicted; later rows are fresh. */
  cursor = 0;
  /** Appended since the last commit, in seq order; `head` skips the evicted. */
  buffered: LedgerEntry[] = [];
  head = 0;
  /** The next fresh rows, read ahead for drop-oldest so an eviction is not a query. */
  evictAhead: LedgerEntry[] = [];

  /** Records waiting for the group commit. */
  bufferedLength(): number {
    return this.buffered.length - this.head;
  }
}

/** The entry of a row the file holds, not leased. */
export const entryOf = (row: OutboxRow): LedgerEntry => ({
  seq: row.seq,
  rec: toRecord(row),
  leaseUntil: 0,
});

/**
 * A pixel's fresh rows for one claim, read from the index in chunks of what the claim still
 * wants (at least 16); taking one moves the pixel's cursor past it.
 */
export class FreshRows implements FreshEntries {
  private rows: OutboxRow[] = [];
  private index = 0;
  private done = false;
  private current: LedgerEntry | undefined;
  constructor(
    private readonly state: PixelState,
    private readonly read: (pixelId: string, cursor: number, limit: number) => OutboxRow[],
  ) {}

  peek(wanted: number): LedgerEntry | undefined {
    if (this.current) return this.current;
    if (this.index >= this.rows.length) {
      if (this.done) return undefined;
      const want = Math.max(16, wanted);
      this.rows = this.read(this.state.pixelId, this.state.cursor, want);
      this.index = 0;
      if (this.rows.length < want) this.done = true;
    }
    const row = this.rows[this.index];
    this.current = row && entryOf(row);
    return this.current;
  }

  take(): void {
    if (!this.current) return;
    this.state.cursor = this.current.seq;
    this.index++;
    this.current = undefined;
  }
}
