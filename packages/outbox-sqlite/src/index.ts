/**
 * @capi-kit/outbox-sqlite: a durable outbox for `createCapi({ outbox })` on SQLite (better-sqlite3,
 * WAL, group commit). Events survive a crash and are sent by the next process that opens the file.
 */
export {
  type DeadLetter,
  type DeadLetterQuery,
  type SqliteOutbox,
  type SqliteOutboxOptions,
  type SqliteOutboxStats,
  sqliteOutbox,
} from './sqlite-outbox.js';
