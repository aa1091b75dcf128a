import { accessSync, closeSync, constants, existsSync, openSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { OutboxRecord } from '@capi-kit/core';
import Database from 'better-sqlite3';

/** On-disk format version (`PRAGMA user_version`); bump with a migration when the tables change. */
export const SCHEMA_VERSION = 1;

/**
 * `capi_outbox` holds waiting records, `seq` (the rowid) is the append order that "oldest" means.
 * Leases are not stored: the file is opened by one process at a time (exclusive locking), so at
 * open every lease of the previous process is void and its in-flight records are simply waiting.
 */
export const SCHEMA = `
CREATE TABLE IF NOT EXISTS capi_outbox (
  seq INTEGER PRIMARY KEY,
  id TEXT NOT NULL,
  pixel_id TEXT NOT NULL,
  event_id TEXT NOT NULL,
  event_name TEXT NOT NULL,
  event_time INTEGER NOT NULL,
  action_source TEXT NOT NULL,
  body TEXT NOT NULL,
  bytes INTEGER NOT NULL,
  attempts INTEGER NOT NULL,
  enqueued_at INTEGER NOT NULL,
  retry_at INTEGER NOT NULL,
  last_error TEXT
);
CREATE INDEX IF NOT EXISTS capi_outbox_pixel_seq ON capi_outbox (pixel_id, seq);
CREATE TABLE IF NOT EXISTS capi_dead_letters (
  seq INTEGER PRIMARY KEY,
  id TEXT NOT NULL,
  pixel_id TEXT NOT NULL,
  event_id TEXT NOT NULL,
  event_name TEXT NOT NULL,
  event_time INTEGER NOT NULL,
  action_source TEXT NOT NULL,
  body TEXT NOT NULL,
  bytes INTEGER NOT NULL,
  attempts INTEGER NOT NULL,
  enqueued_at INTEGER NOT NULL,
  dead_at INTEGER NOT NULL,
  error TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS capi_dead_letters_id ON capi_dead_letters (id);
`;

/** A `capi_outbox` row as better-sqlite3 returns it. */
export interface OutboxRow {
  seq: number;
  id: string;
  pixel_id: string;
  event_id: string;
  event_name: string;
  event_time: number;
  action_source: string;
  body: string;
  bytes: number;
  attempts: number;
  enqueued_at: number;
  retry_at: number;
  last_error: string | null;
}

/** A `capi_dead_letters` row. */
export interface DeadLetterRow extends Omit<OutboxRow, 'retry_at' | 'last_error'> {
  dead_at: number;
  error: string;
}

/** Row → the engine's record. */
export const toRecord = (row: OutboxRow | DeadLetterRow): OutboxRecord => {
  const record: OutboxRecord = {
    id: row.id,
    pixelId: row.pixel_id,
    eventId: row.event_id,
    eventName: row.event_name,
    eventTime: row.event_time,
    actionSource: row.action_source,
    body: row.body,
    bytes: row.bytes,
    attempts: row.attempts,
    enqueuedAt: row.enqueued_at,
    retryAt: 'retry_at' in row ? row.retry_at : row.enqueued_at,
  };
  if ('last_error' in row && row.last_error !== null) record.lastError = row.last_error;
  return record;
};

/**
 * Creates the file, if it does not exist yet, readable and writable by its owner alone: its rows
 * hold what Meta takes unhashed (the client's IP address and user agent, fbp/fbc, the page URL),
 * and SQLite would create it with the umask's mode (0644 with the usual 022), readable by every
 * account on the host. SQLite gives the -wal file the database file's mode. A file that exists
 * keeps the mode its owner gave it; any failure here is left to SQLite's open to report.
 */
const createPrivate = (path: string): void => {
  try {
    closeSync(openSync(path, 'wx', 0o600));
  } catch {
    // It exists (another process may have just created it), or the open below says what is wrong.
  }
};

/**
 * better-sqlite3 loads its native addon on the first `new Database`. When its install script never
 * ran (npm 12 and pnpm 10 run a dependency's install script only when the project approves it),
 * the `bindings` package throws its list of the paths it tried; when the addon is there but cannot
 * be loaded (built for another Node.js, another platform, or damaged), Node throws
 * `ERR_DLOPEN_FAILED`. Either way this says so, with the command that fixes it, instead of
 * blaming the database file.
 */
const openFile = (path: string, timeout: number): Database.Database => {
  createPrivate(path);
  try {
    return new Database(path, { timeout });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const oneLine = message.replace(/\s*\n\s*/g, ' ');
    if (/^Could not locate the bindings file/.test(message)) {
      throw new Error(
        `sqliteOutbox: better-sqlite3's native addon is not built (its install script did not run; npm 12 and pnpm 10 run it only when your project approves it). Run \`npm approve-scripts better-sqlite3 && npm rebuild better-sqlite3\` (pnpm: \`pnpm approve-builds\`). better-sqlite3 said: ${message.split('\n', 1)[0]}`,
        { cause: error },
      );
    }
    if ((error as { code?: unknown }).code === 'ERR_DLOPEN_FAILED') {
      const otherNode = /NODE_MODULE_VERSION/.test(message);
      throw new Error(
        `sqliteOutbox: better-sqlite3's native addon cannot be loaded by this Node.js (${process.version}, ${process.platform}-${process.arch}): ${otherNode ? 'it was built for another Node.js' : 'it was built for another platform, or is damaged'}. Run \`npm rebuild better-sqlite3\` with this Node. Node.js said: ${oneLine}`,
        { cause: error },
      );
    }
    throw cannotOpen(path, error);
  }
};

/** Why this process may not write `path` or create files beside it, if that is the case. */
const notWritable = (path: string): string | undefined => {
  const check = (target: string, what: string): string | undefined => {
    try {
      accessSync(target, constants.W_OK);
      return undefined;
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      return code === 'ENOENT'
        ? undefined
        : `${what} is not writable by this process, ${String(code)}`;
    }
  };
  return (
    (existsSync(path) ? check(path, 'the file') : undefined) ??
    check(dirname(resolve(path)), `its directory ${dirname(resolve(path))}`)
  );
};

/**
 * The error for a file SQLite cannot open, set up or read at open, naming the file. A damaged
 * file (`SQLITE_CORRUPT`, `SQLITE_NOTADB`) says what to do: SQLite will not repair it in place.
 */
export const cannotOpen = (path: string, error: unknown): Error => {
  const code = (error as { code?: unknown } | null)?.code;
  const damaged =
    typeof code === 'string' && (code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB');
  // SQLite says 'disk I/O error' or 'unable to open database file' for a file or directory it
  // may not write (a read-only file system, a file of another user): what is wrong is the access.
  const access =
    typeof code === 'string' && /^SQLITE_(IOERR|CANTOPEN|READONLY)/.test(code)
      ? notWritable(path)
      : undefined;
  // The README's './var/capi-outbox.db' in a fresh project: say what to create, not only that it is missing.
  const noDirectory =
    error instanceof Error && /directory does not exist/.test(error.message)
      ? ` (create ${dirname(resolve(path))} first, e.g. mkdir -p ${JSON.stringify(dirname(resolve(path)))}: the outbox creates the file, not its directory)`
      : undefined;
  const hint = noDirectory
    ? noDirectory
    : damaged
      ? ' (the file is damaged or is not a SQLite database: move it aside and start with a new file; `sqlite3 <file> .recover` may retrieve the events it holds)'
      : access !== undefined
        ? ` (${access}; the outbox writes the file and a -wal file beside it)`
        : '';
  return new Error(
    `sqliteOutbox: cannot open ${path}: ${error instanceof Error ? error.message : String(error)}${hint}`,
    { cause: error },
  );
};

/** The file is a SQLite database, but not one this package wrote. */
class NotAnOutbox extends Error {}

/** Another process holds the file's lock (`sqliteOutbox` then waits for it in the background). */
export class FileHeldElsewhere extends Error {}

/**
 * Opens (creating if missing) and migrates the file: exclusive locking, WAL, `synchronous`, the
 * tables, `user_version`. Throws {@link FileHeldElsewhere} when another process holds it after
 * `lockTimeoutMs`, and a message naming the file when a newer version of this package wrote it,
 * when it is another app's database, or when SQLite cannot open it.
 */
export const openDatabase = (
  path: string,
  options: { synchronous: 'NORMAL' | 'FULL'; lockTimeoutMs: number },
): Database.Database => {
  const db = openFile(path, options.lockTimeoutMs);
  try {
    // Exclusive before WAL: no shared-memory index, and the lock taken below is held until close,
    // so a second process gets SQLITE_BUSY instead of stealing (and re-sending) our records.
    db.pragma('locking_mode = EXCLUSIVE');
    // The lock, and a look at what the file holds, before anything is written to it: switching to
    // WAL rewrites the file's header, and another app's database (or a newer format) is refused
    // as it was. It was left in WAL mode, which its own app may not read (a network file system,
    // read-only media) and whose backups of the .db file alone then miss the -wal file's writes.
    db.exec('BEGIN EXCLUSIVE');
    const tables = db
      .prepare<[], { name: string }>(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name",
      )
      .all()
      .map((t) => t.name);
    if (tables.length > 0 && !tables.includes('capi_outbox')) {
      // Another app's database: our tables and user_version would be written into it, and the
      // exclusive lock would shut its own connections out.
      throw new NotAnOutbox(
        `it is not an outbox file: it holds other tables (${tables.slice(0, 5).join(', ')}${tables.length > 5 ? ', …' : ''}). Give the outbox a file of its own`,
      );
    }
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version > SCHEMA_VERSION) {
      throw new Error(
        `the file was written by a newer @capi-kit/outbox-sqlite (format ${version}, this one reads ${SCHEMA_VERSION})`,
      );
    }
    db.exec('COMMIT');
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${options.synchronous}`);
    db.pragma('journal_size_limit = 67108864');
    // A file already at this format needs no write (WAL already, the tables exist, user_version
    // is set): a restart on a full disk then opens it, delivers what it holds (reads work) and
    // keeps new events in memory until writes work again.
    db.exec('BEGIN EXCLUSIVE');
    db.exec(SCHEMA);
    if (version !== SCHEMA_VERSION) db.pragma(`user_version = ${SCHEMA_VERSION}`);
    db.exec('COMMIT');
  } catch (error) {
    db.close();
    if (error instanceof NotAnOutbox) {
      throw new Error(`sqliteOutbox: ${path}: ${error.message}`);
    }
    const busy = (error as { code?: string }).code === 'SQLITE_BUSY';
    if (!busy) throw cannotOpen(path, error);
    throw new FileHeldElsewhere(`sqliteOutbox: ${path} is open in another process`, {
      cause: error,
    });
  }
  return db;
};
