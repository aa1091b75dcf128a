import type { OutboxRecord } from '@capi-kit/core';
import type Database from 'better-sqlite3';
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
  /** Most rows returned, oldest first; default 100, `Infinity` for all. */
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

/** The dead-letter error of a record whose stored body is not a JSON object. */
export const UNREADABLE_BODY =
  'unreadable: the body stored in the file is not a JSON object (changed outside capi-kit, or damaged); not sent, since it would make every request it joined unreadable';

// A body is the event as JSON.stringify wrote it: a JSON object. Spliced verbatim into a request,
// anything that does not parse makes the whole request unreadable to the platform (Meta answers
// that no access token was sent, which stops the stream's delivery until a probe, and the probe
// carries it again).
const UNREADABLE_ROWS = `CASE WHEN typeof(body) = 'text' AND json_valid(body) THEN json_type(body) != 'object' ELSE 1 END`;

/**
 * At open, before anything is counted or claimed: rows of a previous run whose body is not a JSON
 * object (the file was edited outside capi-kit, or damaged) move to the dead letters with
 * {@link UNREADABLE_BODY}. Returns how many. One pass of SQLite's own JSON check over the bodies.
 */
export const setAsideUnreadable = (db: Database.Database, deadAt: number): number =>
  db.transaction(() => {
    const moved = db
      .prepare(
        `INSERT INTO capi_dead_letters (id, pixel_id, event_id, event_name, event_time, action_source, body, bytes, attempts, enqueued_at, dead_at, error)
           SELECT id, pixel_id, event_id, event_name, event_time, action_source, body, bytes, attempts, enqueued_at, ?, ?
           FROM capi_outbox WHERE ${UNREADABLE_ROWS} ORDER BY seq`,
      )
      .run(deadAt, UNREADABLE_BODY).changes;
    if (moved > 0) db.prepare(`DELETE FROM capi_outbox WHERE ${UNREADABLE_ROWS}`).run();
    return moved;
  })();

const isJsonObject = (body: unknown): boolean => {
  if (typeof body !== 'string') return false;
  try {
    const value: unknown = JSON.parse(body);
    return typeof value === 'object' && value !== null && !Array.isArray(value);
  } catch {
    return false;
  }
};

/**
 * A `limit` or `offset` as SQLite takes it: `Infinity` is no limit (-1) and skips every row as an
 * offset; SQLite refuses a non-finite number bound to LIMIT ('datatype mismatch'), so `limit:
 * Infinity` (all of them) failed with a message that named neither. NaN and non-numbers throw a
 * `RangeError` naming the option.
 */
const rowCount = (name: string, value: number | undefined, fallback: number): number => {
  const v = value ?? fallback;
  if (typeof v !== 'number' || Number.isNaN(v)) {
    throw new RangeError(
      `sqliteOutbox.deadLetters: ${name} must be a number, got ${String(value)}`,
    );
  }
  if (v === Number.POSITIVE_INFINITY) return name === 'limit' ? -1 : Number.MAX_SAFE_INTEGER;
  return Math.max(0, Math.floor(v));
};

/** Dead letters with Meta's error message, oldest first. */
export const listDeadLetters = (s: OutboxState, query: DeadLetterQuery = {}): DeadLetter[] => {
  assertOpen(s);
  const limit = rowCount('limit', query.limit, 100);
  const offset = rowCount('offset', query.offset, 0);
  const rows =
    query.pixelId === undefined
      ? s.stmt.deadList.all(limit, offset)
      : s.stmt.deadListPixel.all(query.pixelId, limit, offset);
  return rows.map(toDeadLetter);
};

/**
 * Puts dead letters (all, or these record ids) back in the queue with attempts reset and hands
 * them to the attached engine, which counts and sends them. Returns how many. A dead letter whose
 * body is not a JSON object stays.
 */
export const retryDeadLetters = (
  s: OutboxState,
  writer: Writer,
  ids: readonly string[] | undefined,
): number => {
  assertOpen(s);
  writer.commit();
  // Due at once on the engine's clock (claims say what it reads), which may be behind the wall
  // clock: it runs on a monotonic clock, which stands still while the host is suspended.
  const now = Math.min(Date.now(), s.engineNow ?? Date.now());
  const back: OutboxRecord[] = [];
  s.db.transaction(() => {
    for (const row of deadRows(s, ids)) {
      // Sent, it would break the request it joins: it stays here (purge it, or fix its body).
      if (!isJsonObject(row.body)) continue;
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
