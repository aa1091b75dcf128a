import type { OutboxRecord } from '@capi-kit/core';
import { countWritten } from './eviction.js';
import { assertOpen, type OutboxState } from './outbox-state.js';
import { type DeadLetterRow, toRecord } from './schema.js';
import { insertRow } from './statements.js';
import type { Writer } from './writer.js';

// Dead letters: records Meta rejected or that ran out of attempts, kept in `capi_dead_letters`
// with the reason (up to `maxDeadLetters`, the oldest removed beyond) for inspection, retry and
// purge. Records the file never held (memory only, while writes failed) are not kept here.

/**
 * A dead-lettered record (its `attempts` are those spent before) and Meta's reason, as kept in
 * the `capi_dead_letters` table; its `id` is what `retryDeadLetters` and `purgeDeadLetters` take.
 */
export interface DeadLetter extends Omit<OutboxRecord, 'retryAt' | 'lastError'> {
  /** When it was dead-lettered (epoch ms). */
  deadAt: number;
  /** Why: Meta's error message (redacted), `expired: …`, or the last transient failure. */
  error: string;
}

/** Options of {@link SqliteOutbox.deadLetters}. */
export interface DeadLetterQuery {
  /** Most rows returned, oldest first; default 100. */
  limit?: number | undefined;
  /** Rows skipped first; default 0. */
  offset?: number | undefined;
  /** Only this pixel's. */
  pixelId?: string | undefined;
}

const toDeadLetter = (row: DeadLetterRow): DeadLetter => {
  const { retryAt: _retryAt, ...record } = toRecord(row);
  return { ...record, deadAt: row.dead_at, error: row.error };
};

// Each id once: rows are read before any is moved or deleted, so an id named twice would be put
// back in the queue twice (sent twice, counted twice) or purged twice (the row count going below
// zero, and the maxDeadLetters bound with it).
const deadRows = (s: OutboxState, ids: readonly string[] | undefined): DeadLetterRow[] =>
  ids === undefined
    ? s.stmt.deadAll.all()
    : [...new Set(ids)].flatMap((id) => s.stmt.deadById.all(id));

/** Dead letters with Meta's error message, oldest first. */
export const listDeadLetters = (s: OutboxState, query: DeadLetterQuery = {}): DeadLetter[] => {
  assertOpen(s);
  const limit = Math.max(0, Math.floor(query.limit ?? 100));
  const offset = Math.max(0, Math.floor(query.offset ?? 0));
  const rows =
    query.pixelId === undefined
      ? s.stmt.deadList.all(limit, offset)
      : s.stmt.deadListPixel.all(query.pixelId, limit, offset);
  return rows.map(toDeadLetter);
};

/**
 * Puts dead letters (all, or these record ids) back in the queue with attempts reset and hands
 * them to the attached engine, which counts and sends them. Returns how many.
 */
export const retryDeadLetters = (
  s: OutboxState,
  writer: Writer,
  ids: readonly string[] | undefined,
): number => {
  assertOpen(s);
  writer.commit();
  const now = Date.now();
  const back: OutboxRecord[] = [];
  s.db.transaction(() => {
    for (const row of deadRows(s, ids)) {
      // A fresh start: no attempts spent, no error of the last life.
      const { lastError: _lastError, ...kept } = toRecord(row);
      const rec: OutboxRecord = { ...kept, attempts: 0, retryAt: now };
      insertRow(s.stmt, s.nextSeq++, rec);
      s.stmt.deadDelete.run(row.seq);
      back.push(rec);
    }
  })();
  s.deadLetterRows -= back.length;
  const evicted = countWritten(s, back);
  if (s.pendingDeletes.length > 0) writer.scheduleCommit();
  if (s.host && back.length > 0) {
    s.host.added(back);
    if (evicted.length > 0) s.host.evicted(evicted);
  }
  return back.length;
};

/** Deletes dead letters (all, or these record ids). Returns how many. */
export const purgeDeadLetters = (s: OutboxState, ids: readonly string[] | undefined): number => {
  assertOpen(s);
  let removed = 0;
  s.db.transaction(() => {
    for (const row of deadRows(s, ids)) {
      s.stmt.deadDelete.run(row.seq);
      removed++;
    }
  })();
  s.deadLetterRows -= removed;
  return removed;
};
