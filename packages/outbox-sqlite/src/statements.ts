import type { OutboxRecord } from '@capi-kit/core';
import type Database from 'better-sqlite3';
import type { DeadLetterRow, OutboxRow } from './schema.js';

type Statement<P extends unknown[] = unknown[], R = unknown> = Database.Statement<P, R>;

/** The prepared statements of one open file. */
export interface Statements {
  insert: Statement;
  delete: Statement;
  nack: Statement;
  fresh: Statement<[string, number, number], OutboxRow>;
  oldestFresh: Statement<[string, number], { enqueued_at: number }>;
  totals: Statement<[], { pixel_id: string; n: number; b: number }>;
  maxSeq: Statement<[], { s: number | null }>;
  deadInsert: Statement;
  deadCount: Statement<[], { n: number }>;
  deadTrim: Statement;
  deadList: Statement<[number, number], DeadLetterRow>;
  deadListPixel: Statement<[string, number, number], DeadLetterRow>;
  deadAll: Statement<[], DeadLetterRow>;
  deadById: Statement<[string], DeadLetterRow>;
  deadDelete: Statement;
}

/** Every statement the outbox runs, prepared once per open file. */
export const prepareStatements = (db: Database.Database): Statements => ({
  insert: db.prepare(
    `INSERT INTO capi_outbox (seq, id, pixel_id, event_id, event_name, event_time, action_source, body, bytes, attempts, enqueued_at, retry_at, last_error)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  ),
  delete: db.prepare('DELETE FROM capi_outbox WHERE seq = ?'),
  nack: db.prepare(
    'UPDATE capi_outbox SET attempts = ?, retry_at = ?, last_error = ? WHERE seq = ?',
  ),
  fresh: db.prepare<[string, number, number], OutboxRow>(
    'SELECT * FROM capi_outbox WHERE pixel_id = ? AND seq > ? ORDER BY seq LIMIT ?',
  ),
  oldestFresh: db.prepare<[string, number], { enqueued_at: number }>(
    'SELECT enqueued_at FROM capi_outbox WHERE pixel_id = ? AND seq > ? ORDER BY seq LIMIT 1',
  ),
  totals: db.prepare<[], { pixel_id: string; n: number; b: number }>(
    'SELECT pixel_id, COUNT(*) AS n, SUM(bytes) AS b FROM capi_outbox GROUP BY pixel_id',
  ),
  maxSeq: db.prepare<[], { s: number | null }>('SELECT MAX(seq) AS s FROM capi_outbox'),
  deadInsert: db.prepare(
    `INSERT INTO capi_dead_letters (id, pixel_id, event_id, event_name, event_time, action_source, body, bytes, attempts, enqueued_at, dead_at, error)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  ),
  deadCount: db.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM capi_dead_letters'),
  deadTrim: db.prepare(
    'DELETE FROM capi_dead_letters WHERE seq IN (SELECT seq FROM capi_dead_letters ORDER BY seq LIMIT ?)',
  ),
  deadList: db.prepare<[number, number], DeadLetterRow>(
    'SELECT * FROM capi_dead_letters ORDER BY seq LIMIT ? OFFSET ?',
  ),
  deadListPixel: db.prepare<[string, number, number], DeadLetterRow>(
    'SELECT * FROM capi_dead_letters WHERE pixel_id = ? ORDER BY seq LIMIT ? OFFSET ?',
  ),
  deadAll: db.prepare<[], DeadLetterRow>('SELECT * FROM capi_dead_letters ORDER BY seq'),
  deadById: db.prepare<[string], DeadLetterRow>(
    'SELECT * FROM capi_dead_letters WHERE id = ? ORDER BY seq',
  ),
  deadDelete: db.prepare('DELETE FROM capi_dead_letters WHERE seq = ?'),
});

/** A record on its way to the dead-letter table. */
export interface DeadRecord {
  /** Its row in `capi_outbox`, deleted in the same transaction. */
  seq: number;
  rec: OutboxRecord;
  deadAt: number;
  error: string;
}

/** The columns both tables share, in their order. */
const recordColumns = (rec: OutboxRecord) =>
  [
    rec.id,
    rec.pixelId,
    rec.eventId,
    rec.eventName,
    rec.eventTime,
    rec.actionSource,
    rec.body,
    rec.bytes,
    rec.attempts,
    rec.enqueuedAt,
  ] as const;

/** Inserts `rec` into `capi_outbox` at `seq`. */
export const insertRow = (stmt: Statements, seq: number, rec: OutboxRecord) =>
  stmt.insert.run(seq, ...recordColumns(rec), rec.retryAt, rec.lastError ?? null);

/** Inserts a dead letter into `capi_dead_letters` (its `capi_outbox` row is the caller's to delete). */
export const insertDeadRow = (stmt: Statements, { rec, deadAt, error }: DeadRecord) =>
  stmt.deadInsert.run(...recordColumns(rec), deadAt, error);

/** Stores a retry's `attempts`, `retryAt` and error on its row. */
export const persistRetry = (stmt: Statements, seq: number, rec: OutboxRecord) =>
  stmt.nack.run(rec.attempts, rec.retryAt, rec.lastError ?? null, seq);
