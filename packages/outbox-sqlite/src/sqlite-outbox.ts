import {
  type AppendResult,
  addPixelStats,
  type ClaimOptions,
  type FreshEntries,
  findLeased,
  type LedgerEntry,
  type Logger,
  memoryOutbox,
  type Outbox,
  type OutboxHost,
  type OutboxPixelStats,
  type OutboxRecord,
  type OutboxStats,
  PixelLedger,
  retriedRecord,
} from '@capi-kit/core';
import Database from 'better-sqlite3';
import { type DeadLetterRow, type OutboxRow, SCHEMA, SCHEMA_VERSION, toRecord } from './schema.js';
import { QUIET_MS, WriteHealth } from './write-health.js';

/** Options of {@link sqliteOutbox}. */
export interface SqliteOutboxOptions {
  /** Database file, created if missing. One process at a time: use one file per process (e.g. per cluster worker). */
  path: string;
  /**
   * `normal` (default): in WAL mode a committed write survives a process crash but the last
   * transactions may roll back on power loss or an OS crash. `full`: fsync at every commit,
   * survives both, costs more per commit (see the README's table).
   */
  synchronous?: 'normal' | 'full' | undefined;
  /** Longest time an appended record waits in memory before its group commit; default 25 ms. */
  commitIntervalMs?: number | undefined;
  /** Records that trigger a group commit right away (on the next event-loop turn); default 500. */
  commitEvents?: number | undefined;
  /** Most records held per pixel (waiting + in flight); beyond it the oldest waiting ones are dropped. Default 1 000 000. */
  maxEvents?: number | undefined;
  /** Most UTF-8 bytes held per pixel; default 1 GiB. */
  maxBytes?: number | undefined;
  /** Dead letters kept (oldest removed beyond it); default 100 000. */
  maxDeadLetters?: number | undefined;
  /** Commit what is buffered when the process exits normally (`process.on('exit')`); default true. */
  commitOnExit?: boolean | undefined;
  /** How long opening waits for a lock held by another process before failing; default 2000 ms. */
  lockTimeoutMs?: number | undefined;
  /** Where failures go before `createCapi` attaches (afterwards: its logger and `error` hook). */
  logger?: Logger | undefined;
  /**
   * Bounds of the memory queue that takes new events while the file refuses writes (disk full,
   * read-only file, I/O error), per pixel; beyond them the oldest are dropped (`overflow`).
   * Default: the in-memory outbox's, 10 000 events and 16 MiB.
   */
  memoryFallback?: { maxEvents?: number | undefined; maxBytes?: number | undefined } | undefined;
  /** While writes fail, how often they are tried again; default 1000 ms. */
  writeRetryMs?: number | undefined;
}

/** A dead-lettered record and Meta's reason, as kept in the `capi_dead_letters` table. */
export interface DeadLetter {
  /** Record id (pass to `retryDeadLetters`). */
  id: string;
  /** Pixel the record was for. */
  pixelId: string;
  /** The event's `event_id`. */
  eventId: string;
  /** The event's `event_name`. */
  eventName: string;
  /** The event's `event_time` (Unix seconds). */
  eventTime: number;
  /** The event's `action_source`. */
  actionSource: string;
  /** The serialized wire event, exactly as it would be sent. */
  body: string;
  /** UTF-8 size of `body`. */
  bytes: number;
  /** Failed attempts before it was dead-lettered. */
  attempts: number;
  /** When it was first appended (epoch ms). */
  enqueuedAt: number;
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

/** {@link SqliteOutbox.stats}: the engine's counters plus the outbox's own. */
export interface SqliteOutboxStats extends OutboxStats {
  /** Appended, not yet committed (lost by a crash right now). */
  pending: number;
  /** Records dropped to stay within `maxEvents`/`maxBytes` since open. */
  evicted: number;
  /** Group commits since open. */
  commits: number;
  /** Rows in the dead-letter table now. */
  deadLetters: number;
  /**
   * Records held in memory only (included in `queued`/`leased`), because the file refused them:
   * a crash loses them, `close()` counts them as dropped (`shutdown`). 0 while writes work and
   * what was held has been moved back to the file or delivered.
   */
  memory: number;
  /** True while writes to the file fail: new events go to memory (`memory`) and are delivered from there. */
  writeFailing: boolean;
  /** Failed writes (group commits, acknowledgements, retries) since open. */
  writeFailures: number;
  /** When the current write failure began (epoch ms); set while `writeFailing`. */
  writeFailingSince?: number;
  /** SQLite's message for the last failed write, e.g. `database or disk is full`. */
  lastWriteError?: string;
}

/** The SQLite {@link Outbox}: every method answers synchronously, plus inspection. */
export interface SqliteOutbox extends Outbox {
  /** Always true: records survive a restart. */
  readonly durable: true;
  /** The database file. */
  readonly path: string;
  /** Buffers records for the next group commit; evicts the oldest waiting beyond the bounds. Never touches the disk. */
  append(records: readonly OutboxRecord[]): AppendResult;
  /** Commits what is buffered, then leases the oldest ready records (one indexed read, no write). */
  claim(limit: number, leaseMs: number, options?: ClaimOptions): OutboxRecord[];
  /** Delivered: deleted from the file. */
  ack(ids: readonly string[]): void;
  /** A failed attempt: `attempts + 1`, `retryAt` and the error are stored. */
  nack(ids: readonly string[], retryAt: number, error?: string): void;
  /** Given back unattempted; `retryAt` is stored (a throttle pause survives a restart). */
  release(ids: readonly string[], retryAt: number): void;
  /** Moves records to the dead-letter table with `error`. */
  deadLetter(ids: readonly string[], error: string): void;
  /** Counters, with the outbox's own (pending, evicted, commits, dead letters). */
  stats(): SqliteOutboxStats;
  /** Called by `createCapi`: retried dead letters and failures are reported through `host`. */
  attach(host: OutboxHost): void;
  /** Commits what is buffered now (the group commit, early). */
  flush(): void;
  /** Commits and closes the database; the outbox is unusable afterwards. Idempotent. */
  close(): void;
  /** Dead letters with Meta's error message, oldest first. */
  deadLetters(query?: DeadLetterQuery): DeadLetter[];
  /** Puts dead letters (all, or these record ids) back in the queue with attempts reset; the attached client sends them. Returns how many. */
  retryDeadLetters(ids?: readonly string[]): number;
  /** Deletes dead letters (all, or these record ids). Returns how many. */
  purgeDeadLetters(ids?: readonly string[]): number;
  /** Removes and returns the records this pixel has in memory only, after one last try to write them (called by `client.close()`). */
  takeNonDurable(pixelId: string): OutboxRecord[];
}

/**
 * One pixel's bookkeeping. Rows in the file with `seq > cursor` are "fresh" (never claimed by this
 * process) and read in order straight from the index; everything claimed since open is kept in
 * the ledger the in-memory outbox keeps too (the core's `PixelLedger`): leased, or given back
 * (`returned`, few: at most the in-flight batches). So a claim is one indexed range read and no
 * write.
 */
class PixelState extends PixelLedger {
  constructor(readonly pixelId: string) {
    super();
  }
  cursor = 0;
  /** Appended since the last commit, in seq order; `head` skips the evicted. */
  buffered: LedgerEntry[] = [];
  head = 0;
  /** The next fresh rows, read ahead for drop-oldest so an eviction is not a query. */
  evictAhead: LedgerEntry[] = [];

  bufferedLength(): number {
    return this.buffered.length - this.head;
  }
}

/** The entry of a row the file holds, not leased. */
const entryOf = (row: OutboxRow): LedgerEntry => ({
  seq: row.seq,
  rec: toRecord(row),
  leaseUntil: 0,
});

/**
 * A pixel's fresh rows for one claim, read from the index in chunks of what the claim still
 * wants (at least 16); taking one moves the pixel's cursor past it.
 */
class FreshRows implements FreshEntries {
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

const positive = (name: string, value: number | undefined, fallback: number): number => {
  const v = value ?? fallback;
  if (typeof v !== 'number' || !(v > 0) || !Number.isFinite(v)) {
    throw new RangeError(`sqliteOutbox: ${name} must be a positive number, got ${String(value)}`);
  }
  return v;
};

const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

const messageOf = (error: unknown): string =>
  error instanceof Error ? error.message : String(error);

const EVICT_READ_AHEAD = 256;

const idsOf = (records: readonly OutboxRecord[]): string[] => records.map((r) => r.id);

/** A dead letter whose write waits for the file to take writes again. */
interface PendingDead {
  seq: number;
  rec: OutboxRecord;
  deadAt: number;
  error: string;
}

/**
 * A durable outbox on SQLite (better-sqlite3, WAL). `append` never touches the disk: records are
 * buffered and written in one transaction at most `commitIntervalMs` (25 ms) later or as soon as
 * `commitEvents` (500) are waiting, so `track()` stays synchronous and cheap. A crash loses only
 * what was appended after the last commit. Records claimed but never acknowledged (a crash
 * mid-request) are sent again by the next process that opens the file. Dead letters are kept with
 * Meta's error message for inspection and retry.
 *
 * @example
 * const outbox = sqliteOutbox({ path: './capi-outbox.db' });
 * const capi = createCapi({ pixelId, accessToken, outbox });
 */
export const sqliteOutbox = (options: SqliteOutboxOptions): SqliteOutbox => {
  if (typeof options?.path !== 'string' || options.path === '') {
    throw new TypeError('sqliteOutbox: `path` (the database file) is required');
  }
  const commitIntervalMs = positive('commitIntervalMs', options.commitIntervalMs, 25);
  const commitEvents = Math.floor(positive('commitEvents', options.commitEvents, 500));
  const maxEvents = Math.floor(positive('maxEvents', options.maxEvents, 1_000_000));
  const maxBytes = positive('maxBytes', options.maxBytes, 1024 * 1024 * 1024);
  const maxDeadLetters = Math.floor(positive('maxDeadLetters', options.maxDeadLetters, 100_000));
  const lockTimeoutMs = Math.floor(positive('lockTimeoutMs', options.lockTimeoutMs, 2000));
  const synchronous = options.synchronous === 'full' ? 'FULL' : 'NORMAL';
  const logger = options.logger ?? silentLogger;
  const memoryMaxEvents = Math.floor(
    positive('memoryFallback.maxEvents', options.memoryFallback?.maxEvents, 10_000),
  );
  const memoryMaxBytes = positive(
    'memoryFallback.maxBytes',
    options.memoryFallback?.maxBytes,
    16 * 1024 * 1024,
  );
  const writeRetryMs = positive('writeRetryMs', options.writeRetryMs, 1000);

  const db = new Database(options.path, { timeout: lockTimeoutMs });
  try {
    // Exclusive before WAL: no shared-memory index, and the lock taken below is held until close,
    // so a second process gets SQLITE_BUSY instead of stealing (and re-sending) our records.
    db.pragma('locking_mode = EXCLUSIVE');
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${synchronous}`);
    db.pragma('journal_size_limit = 67108864');
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version > SCHEMA_VERSION) {
      throw new Error(
        `the file was written by a newer @capi-kit/outbox-sqlite (format ${version}, this one reads ${SCHEMA_VERSION})`,
      );
    }
    db.exec('BEGIN EXCLUSIVE');
    db.exec(SCHEMA);
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
    db.exec('COMMIT');
  } catch (error) {
    db.close();
    const busy = (error as { code?: string }).code === 'SQLITE_BUSY';
    throw new Error(
      busy
        ? `sqliteOutbox: ${options.path} is open in another process (one process per file: give each process its own path)`
        : `sqliteOutbox: cannot open ${options.path}: ${messageOf(error)}`,
      { cause: error },
    );
  }

  const stmt = {
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
  };

  const readFresh = (pixelId: string, cursor: number, limit: number): OutboxRow[] =>
    stmt.fresh.all(pixelId, cursor, limit);

  const pixels = new Map<string, PixelState>();
  const stateFor = (pixelId: string): PixelState => {
    let state = pixels.get(pixelId);
    if (!state) {
      state = new PixelState(pixelId);
      pixels.set(pixelId, state);
    }
    return state;
  };
  // Replay: everything in the file is waiting (the previous process's leases died with it).
  for (const row of stmt.totals.all()) {
    const state = stateFor(row.pixel_id);
    state.count = row.n;
    state.bytes = row.b;
  }
  let nextSeq = (stmt.maxSeq.get()?.s ?? 0) + 1;
  let deadLetterRows = stmt.deadCount.get()?.n ?? 0;
  let deadLettered = 0;
  let evictedTotal = 0;
  let commits = 0;
  let pendingCount = 0;
  // Writes waiting for the next commit: evictions always; acknowledgements, retries and dead
  // letters only while the file refuses writes (otherwise they are written at once).
  let pendingDeletes: number[] = [];
  const pendingUpdates = new Map<number, OutboxRecord>();
  let pendingDead: PendingDead[] = [];
  let commitTimer: ReturnType<typeof setTimeout> | undefined;
  let commitImmediate: ReturnType<typeof setImmediate> | undefined;
  let retryTimer: ReturnType<typeof setTimeout> | undefined;
  let lastWriteAttempt = Number.NEGATIVE_INFINITY;
  let host: OutboxHost | undefined;
  let closed = false;
  /** The engine's clock as last seen in a claim: `retryAt` and leases of records are on it. */
  let engineNow: number | undefined;
  const health = new WriteHealth();
  // While the file refuses writes, new events wait in the core's in-memory outbox (its bounds,
  // drop-oldest and leases) and are delivered from there; they go back into the file as soon as
  // writes work again, so memory holds them only as long as it must.
  const memory = memoryOutbox({ maxEvents: memoryMaxEvents, maxBytes: memoryMaxBytes });
  const memoryHeld = (): number => {
    const s = memory.stats();
    return s.queued + s.leased;
  };

  const reportError = (error: unknown, what: string) => {
    const wrapped = new Error(`sqliteOutbox (${options.path}): ${what}: ${messageOf(error)}`, {
      cause: error,
    });
    if (host) host.error(wrapped);
    else logger.error({ path: options.path }, wrapped.message);
  };

  const reportWarning = (message: string) => {
    const text = `sqliteOutbox (${options.path}): ${message}`;
    if (host) host.warn(text);
    else logger.warn({ path: options.path }, text);
  };

  const reportEvicted = (evicted: readonly OutboxRecord[]) => {
    if (evicted.length === 0) return;
    evictedTotal += evicted.length;
    if (host) host.evicted(evicted);
    else
      logger.error(
        { path: options.path, count: evicted.length },
        'sqliteOutbox: dropped the oldest events to stay within the bounds',
      );
  };

  const assertOpen = () => {
    if (closed) throw new Error(`sqliteOutbox: ${options.path} is closed`);
  };

  const insertRow = (seq: number, rec: OutboxRecord) =>
    stmt.insert.run(
      seq,
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
      rec.retryAt,
      rec.lastError ?? null,
    );

  const insertDeadRow = ({ rec, deadAt, error }: PendingDead) =>
    stmt.deadInsert.run(
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
      deadAt,
      error,
    );

  const persistRetry = (seq: number, rec: OutboxRecord) =>
    stmt.nack.run(rec.attempts, rec.retryAt, rec.lastError ?? null, seq);

  const hasOps = () =>
    pendingDeletes.length > 0 || pendingUpdates.size > 0 || pendingDead.length > 0;

  /** The deferred writes (inside a transaction). */
  const writeOps = () => {
    for (const [seq, rec] of pendingUpdates) persistRetry(seq, rec);
    for (const dead of pendingDead) {
      insertDeadRow(dead);
      stmt.delete.run(dead.seq);
    }
    const rows = deadLetterRows + pendingDead.length;
    if (rows > maxDeadLetters) stmt.deadTrim.run(rows - maxDeadLetters);
    for (const seq of pendingDeletes) stmt.delete.run(seq);
  };

  /** After the deferred writes were committed. */
  const clearOps = () => {
    deadLetterRows = Math.min(maxDeadLetters, deadLetterRows + pendingDead.length);
    pendingDead = [];
    pendingUpdates.clear();
    pendingDeletes = [];
  };

  const writeBuffered = db.transaction(() => {
    for (const state of pixels.values()) {
      for (let i = state.head; i < state.buffered.length; i++) {
        const { seq, rec } = state.buffered[i] as LedgerEntry;
        insertRow(seq, rec);
      }
    }
    writeOps();
  });
  const writeOpsOnly = db.transaction(writeOps);
  const insertRecords = db.transaction((records: readonly OutboxRecord[], firstSeq: number) => {
    for (let i = 0; i < records.length; i++) insertRow(firstSeq + i, records[i] as OutboxRecord);
  });

  const cancelCommit = () => {
    if (commitTimer !== undefined) clearTimeout(commitTimer);
    if (commitImmediate !== undefined) clearImmediate(commitImmediate);
    commitTimer = undefined;
    commitImmediate = undefined;
  };

  /** The records waiting for the group commit go to memory: while writes fail nothing waits in the buffer. */
  const moveBufferedToMemory = () => {
    const moved: OutboxRecord[] = [];
    for (const state of pixels.values()) {
      for (let i = state.head; i < state.buffered.length; i++) {
        const { rec } = state.buffered[i] as LedgerEntry;
        moved.push(rec);
        state.count--;
        state.bytes -= rec.bytes;
      }
      state.buffered = [];
      state.head = 0;
    }
    pendingCount = 0;
    if (moved.length > 0) reportEvicted(memory.append(moved).evicted);
  };

  /**
   * A write (or a read) of the file failed: the app hears it once per episode (write-health.ts),
   * new events go to memory, and writes are tried again every `writeRetryMs`.
   */
  const storageFailed = (error: unknown) => {
    lastWriteAttempt = Date.now();
    const code = (error as { code?: unknown }).code;
    const message = typeof code === 'string' ? `${code}: ${messageOf(error)}` : messageOf(error);
    if (health.failed(message, Date.now()) === 'first-failure') {
      reportError(
        error,
        `the file refuses writes; new events are kept in memory (up to ${memoryMaxEvents} per pixel, the oldest dropped beyond) and delivered from there, writes are retried every ${writeRetryMs} ms (stats().writeFailing)`,
      );
    }
    moveBufferedToMemory();
    scheduleRetry();
  };

  const storageWorked = () => {
    if (health.succeeded(Date.now()) === 'episode-ended') {
      reportWarning(
        `writes have worked again for ${QUIET_MS / 1000} s after ${health.episodeFailures} failed writes`,
      );
      health.episodeFailures = 0;
    }
  };

  /**
   * Moves up to `limit` waiting in-memory records back into the file (in flight ones stay until
   * they come back). Throws when the write fails; they stay in memory then.
   */
  const moveMemoryToFile = (limit: number): number => {
    const now = engineNow ?? Date.now();
    const records = memory.claim(limit, 60_000, { now });
    if (records.length === 0) return 0;
    const firstSeq = nextSeq;
    nextSeq += records.length;
    try {
      insertRecords(records, firstSeq);
    } catch (error) {
      // All were ready (retryAt ≤ now): giving them back at `now` changes nothing.
      memory.release(idsOf(records), now);
      throw error;
    }
    memory.ack(idsOf(records));
    const touched = new Set<PixelState>();
    for (const rec of records) {
      const state = stateFor(rec.pixelId);
      state.count++;
      state.bytes += rec.bytes;
      touched.add(state);
    }
    const evicted: OutboxRecord[] = [];
    for (const state of touched) evictOver(state, evicted);
    reportEvicted(evicted);
    return records.length;
  };

  /** While writes fail: the deferred writes first (deletes free space), then a chunk of what memory holds. */
  const retryWrites = (force: boolean) => {
    if (!force && Date.now() - lastWriteAttempt < writeRetryMs) return;
    lastWriteAttempt = Date.now();
    let moved = 0;
    try {
      // A WAL that reached the size limit takes no frame, not even a delete that would free
      // space, until it is folded back into the database file and restarted from its beginning.
      db.pragma('wal_checkpoint(TRUNCATE)');
    } catch {
      // The database file may be unable to grow too; the writes below tell.
    }
    try {
      if (hasOps()) {
        writeOpsOnly();
        clearOps();
      }
      moved = moveMemoryToFile(commitEvents);
    } catch (error) {
      storageFailed(error);
      return;
    }
    storageWorked();
    if (moved > 0) commitSoon();
  };

  /** The group commit: every buffered append and pending write in one transaction; then a chunk of what memory holds goes back to the file. Never throws. */
  const commit = (): void => {
    cancelCommit();
    if (health.failing) {
      retryWrites(false);
      return;
    }
    if (pendingCount > 0 || hasOps()) {
      try {
        writeBuffered();
      } catch (error) {
        storageFailed(error);
        return;
      }
      commits++;
      for (const state of pixels.values()) {
        state.buffered = [];
        state.head = 0;
      }
      pendingCount = 0;
      clearOps();
      storageWorked();
    }
    if (memoryHeld() > 0) {
      try {
        if (moveMemoryToFile(commitEvents) > 0) commitSoon();
      } catch (error) {
        storageFailed(error);
      }
    }
  };

  const commitInBackground = () => {
    commitTimer = undefined;
    commitImmediate = undefined;
    if (closed) return;
    try {
      commit();
    } catch (error) {
      reportError(error, 'group commit failed');
    }
  };

  /** Next turn of the event loop, never inside track(): the caller does not wait for the disk. */
  const commitSoon = () => {
    if (closed || commitImmediate !== undefined) return;
    if (commitTimer !== undefined) clearTimeout(commitTimer);
    commitTimer = undefined;
    commitImmediate = setImmediate(commitInBackground);
    commitImmediate.unref?.();
  };

  const scheduleCommit = () => {
    if (closed) return;
    if (health.failing) {
      scheduleRetry();
      return;
    }
    if (pendingCount >= commitEvents) {
      commitSoon();
      return;
    }
    if (commitTimer !== undefined || commitImmediate !== undefined) return;
    commitTimer = setTimeout(commitInBackground, commitIntervalMs);
    commitTimer.unref?.();
  };

  function scheduleRetry() {
    if (closed || retryTimer !== undefined) return;
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      if (closed || !health.failing) return;
      retryWrites(true);
    }, writeRetryMs);
    retryTimer.unref?.();
  }

  const onExit = () => {
    // A normal exit (process.exit, end of work) still commits the last window; SIGKILL cannot.
    try {
      if (closed) return;
      if (health.failing) retryWrites(true);
      else commit();
    } catch {
      // Exiting anyway.
    }
  };
  const commitOnExit = options.commitOnExit !== false;
  if (commitOnExit) process.on('exit', onExit);

  // ------------------------------------------------------------- drop-oldest

  const nextFresh = (state: PixelState): LedgerEntry | undefined => {
    while (
      state.evictAhead.length > 0 &&
      (state.evictAhead[0] as LedgerEntry).seq <= state.cursor
    ) {
      state.evictAhead.shift();
    }
    if (state.evictAhead.length === 0 && state.count - state.bufferedLength() > 0) {
      // Evictions advance the cursor past what they remove, so these rows are all still waiting.
      state.evictAhead = stmt.fresh.all(state.pixelId, state.cursor, EVICT_READ_AHEAD).map(entryOf);
    }
    return state.evictAhead[0];
  };

  const evictOver = (state: PixelState, evicted: OutboxRecord[]): void => {
    while (state.count > maxEvents || state.bytes > maxBytes) {
      const returned = state.returned[0];
      const fresh = nextFresh(state);
      const buffered = state.buffered[state.head];
      let victim: LedgerEntry | undefined;
      if (returned && (!fresh || returned.seq < fresh.seq)) {
        victim = state.returned.shift();
        pendingDeletes.push(returned.seq);
      } else if (fresh) {
        victim = state.evictAhead.shift();
        state.cursor = fresh.seq;
        pendingDeletes.push(fresh.seq);
      } else if (buffered) {
        victim = buffered;
        state.buffered[state.head] = undefined as unknown as LedgerEntry;
        state.head++;
        pendingCount--;
      }
      if (!victim) return; // everything left is in flight: nothing we may drop
      state.count--;
      state.bytes -= victim.rec.bytes;
      evictedTotal++;
      evicted.push(victim.rec);
    }
  };

  // ------------------------------------------------------------- claim

  /**
   * Runs a write at once, or, while the file refuses writes (or when this one fails), keeps it for
   * the next commit that works: the in-memory state is updated either way, so delivery goes on.
   */
  const writeNowOrLater = (write: () => void, defer: () => void) => {
    if (health.failing) {
      defer();
      scheduleRetry();
      return;
    }
    try {
      write();
    } catch (error) {
      defer();
      storageFailed(error);
    }
  };

  /** Records given back (nack/release); returns the ids that are not the file's (memory's). */
  const giveBack = (ids: readonly string[], update: (rec: OutboxRecord) => OutboxRecord) => {
    const back: [PixelState, LedgerEntry, OutboxRecord][] = [];
    const others: string[] = [];
    for (const id of ids) {
      const found = findLeased(pixels.values(), id);
      if (found) back.push([found[0], found[1], update(found[1].rec)]);
      else others.push(id);
    }
    if (back.length > 0) {
      writeNowOrLater(
        () =>
          db.transaction(() => {
            for (const [, entry, rec] of back) persistRetry(entry.seq, rec);
          })(),
        () => {
          for (const [, entry, rec] of back) pendingUpdates.set(entry.seq, rec);
        },
      );
      for (const [state, entry, rec] of back) state.giveBack(entry, rec);
    }
    return others;
  };

  /** Records leaving the file (ack, or dead letter with `dead`); returns how many, and the ids that are not the file's. */
  const removeLeased = (
    ids: readonly string[],
    dead?: { error: string; deadAt: number },
  ): { removed: number; others: string[] } => {
    const gone: [PixelState, LedgerEntry][] = [];
    const others: string[] = [];
    for (const id of ids) {
      const found = findLeased(pixels.values(), id);
      if (found) gone.push(found);
      else others.push(id);
    }
    if (gone.length === 0) return { removed: 0, others };
    writeNowOrLater(
      () => {
        db.transaction(() => {
          for (const [, entry] of gone) {
            if (dead) insertDeadRow({ seq: entry.seq, rec: entry.rec, ...dead });
            stmt.delete.run(entry.seq);
          }
          if (dead && deadLetterRows + gone.length > maxDeadLetters) {
            stmt.deadTrim.run(deadLetterRows + gone.length - maxDeadLetters);
          }
        })();
        if (dead) deadLetterRows = Math.min(maxDeadLetters, deadLetterRows + gone.length);
      },
      () => {
        for (const [, entry] of gone) {
          pendingUpdates.delete(entry.seq);
          if (dead) pendingDead.push({ seq: entry.seq, rec: entry.rec, ...dead });
          else pendingDeletes.push(entry.seq);
        }
      },
    );
    for (const [state, entry] of gone) state.remove(entry);
    return { removed: gone.length, others };
  };

  const toDeadLetter = (row: DeadLetterRow): DeadLetter => ({
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
    deadAt: row.dead_at,
    error: row.error,
  });

  const deadRows = (ids: readonly string[] | undefined): DeadLetterRow[] =>
    ids === undefined ? stmt.deadAll.all() : ids.flatMap((id) => stmt.deadById.all(id));

  const outbox: SqliteOutbox = {
    durable: true,
    path: options.path,

    append(records) {
      assertOpen();
      if (health.failing) {
        // The file refuses writes: memory takes them (bounded, drop-oldest); the engine counts
        // what it evicts as dropped (`overflow`).
        const { evicted } = memory.append(records);
        evictedTotal += evicted.length;
        scheduleRetry();
        return { evicted };
      }
      const evicted: OutboxRecord[] = [];
      const touched = new Set<PixelState>();
      for (const rec of records) {
        const state = stateFor(rec.pixelId);
        state.buffered.push({ seq: nextSeq++, rec, leaseUntil: 0 });
        state.count++;
        state.bytes += rec.bytes;
        pendingCount++;
        touched.add(state);
      }
      for (const state of touched) {
        if (state.count > maxEvents || state.bytes > maxBytes) evictOver(state, evicted);
      }
      if (pendingCount > 0 || pendingDeletes.length > 0) scheduleCommit();
      return { evicted };
    },

    claim(limit, leaseMs, claimOptions = {}) {
      assertOpen();
      const now = claimOptions.now ?? Date.now();
      engineNow = now;
      // What is claimed from the file goes on the wire: it must be on disk first. While writes
      // fail this only retries them (at most every writeRetryMs) and never throws.
      commit();
      const all = claimOptions.all === true;
      const maxClaimBytes = claimOptions.maxBytes ?? Number.POSITIVE_INFINITY;
      const out: OutboxRecord[] = [];
      let bytes = 0;
      if (memoryHeld() > 0) {
        // Memory first: these are the records a crash or close() would lose.
        const memoryOptions: ClaimOptions = { now, all, maxBytes: maxClaimBytes };
        if (claimOptions.pixelId !== undefined) memoryOptions.pixelId = claimOptions.pixelId;
        for (const rec of memory.claim(limit, leaseMs, memoryOptions)) {
          out.push(rec);
          bytes += rec.bytes + 1;
        }
        if (out.length >= limit || (out.length > 0 && bytes >= maxClaimBytes)) return out;
      }
      const targets =
        claimOptions.pixelId === undefined
          ? [...pixels]
          : pixels.has(claimOptions.pixelId)
            ? [[claimOptions.pixelId, pixels.get(claimOptions.pixelId) as PixelState] as const]
            : [];
      try {
        for (const [, state] of targets) {
          if (out.length >= limit) break;
          state.expireLeases(now);
          state.evictAhead = [];
          bytes += state.claim(
            new FreshRows(state, readFresh),
            limit,
            now + leaseMs,
            now,
            maxClaimBytes - bytes,
            all,
            out,
          );
        }
      } catch (error) {
        // An unreadable file (I/O error): what was claimed so far is leased and goes out; the
        // rest waits for the next claim.
        storageFailed(error);
      }
      return out;
    },

    ack(ids) {
      assertOpen();
      const { others } = removeLeased(ids);
      if (others.length > 0) memory.ack(others);
    },

    nack(ids, retryAt, error) {
      assertOpen();
      const others = giveBack(ids, (rec) => retriedRecord(rec, retryAt, error));
      if (others.length > 0) memory.nack(others, retryAt, error);
    },

    release(ids, retryAt) {
      assertOpen();
      const others = giveBack(ids, (rec) => ({ ...rec, retryAt }));
      if (others.length > 0) memory.release(others, retryAt);
    },

    deadLetter(ids, error) {
      assertOpen();
      const { removed, others } = removeLeased(ids, { error, deadAt: Date.now() });
      deadLettered += removed;
      if (others.length > 0) {
        // Held in memory only: not kept in the table; the engine hands them to onUndeliverable.
        const before = memory.stats().deadLettered;
        memory.deadLetter(others, error);
        deadLettered += memory.stats().deadLettered - before;
      }
    },

    stats() {
      const inMemory = memory.stats();
      const result: SqliteOutboxStats = {
        queued: 0,
        leased: 0,
        bytes: 0,
        deadLettered,
        pixels: {},
        pending: pendingCount,
        evicted: evictedTotal,
        commits,
        deadLetters: deadLetterRows,
        memory: inMemory.queued + inMemory.leased,
        writeFailing: health.failing,
        writeFailures: health.failures,
      };
      if (health.since !== undefined) result.writeFailingSince = health.since;
      if (health.lastError !== undefined) result.lastWriteError = health.lastError;
      const pixelIds = new Set([...pixels.keys(), ...Object.keys(inMemory.pixels)]);
      for (const pixelId of pixelIds) {
        const state = pixels.get(pixelId);
        const held = inMemory.pixels[pixelId];
        const s: OutboxPixelStats = {
          queued: (state ? state.count - state.leased.size : 0) + (held?.queued ?? 0),
          leased: (state?.leased.size ?? 0) + (held?.leased ?? 0),
          bytes: (state?.bytes ?? 0) + (held?.bytes ?? 0),
        };
        let oldest = held?.oldestEnqueuedAt;
        const older = (at: number | undefined) => {
          if (at !== undefined && (oldest === undefined || at < oldest)) oldest = at;
        };
        if (state) {
          older(state.returned[0]?.rec.enqueuedAt);
          if (!closed) {
            try {
              older(stmt.oldestFresh.get(pixelId, state.cursor)?.enqueued_at);
            } catch {
              // An unreadable file: the figure is approximate until it reads again.
            }
          }
          older(state.buffered[state.head]?.rec.enqueuedAt);
        }
        if (oldest !== undefined && s.queued > 0) s.oldestEnqueuedAt = oldest;
        addPixelStats(result, pixelId, s);
      }
      return result;
    },

    attach(engine) {
      host = engine;
    },

    flush() {
      assertOpen();
      commit();
    },

    takeNonDurable(pixelId) {
      if (closed) return [];
      const now = engineNow ?? Date.now();
      // Waiting and leased alike: at close() nothing more will be acknowledged in this process.
      const left = memory.claim(Number.MAX_SAFE_INTEGER, 60_000, { pixelId, all: true, now });
      if (left.length === 0) return [];
      // One last try: written to the file, they are the next start's to deliver.
      lastWriteAttempt = Date.now();
      const firstSeq = nextSeq;
      nextSeq += left.length;
      try {
        if (hasOps()) {
          writeOpsOnly();
          clearOps();
        }
        insertRecords(left, firstSeq);
      } catch (error) {
        storageFailed(error);
        memory.ack(idsOf(left));
        return left;
      }
      memory.ack(idsOf(left));
      const state = stateFor(pixelId);
      for (const rec of left) {
        state.count++;
        state.bytes += rec.bytes;
      }
      storageWorked();
      return [];
    },

    close() {
      if (closed) return;
      try {
        if (health.failing) retryWrites(true);
        else commit();
      } catch (error) {
        reportError(error, 'final commit failed');
      }
      // What the engine did not take (takeNonDurable) or an app appended without an engine.
      const lost = memoryHeld();
      if (lost > 0) {
        reportError(
          new Error(`${lost} events held in memory could not be written`),
          'closed while the file refuses writes',
        );
      }
      const unwritten = pendingDeletes.length + pendingDead.length;
      if (unwritten > 0) {
        reportWarning(
          `closed with ${unwritten} acknowledgements or dead letters not written (the file refuses writes): the next process sends those events again, and Meta deduplicates them by event_id`,
        );
      }
      closed = true;
      cancelCommit();
      if (retryTimer !== undefined) clearTimeout(retryTimer);
      retryTimer = undefined;
      if (commitOnExit) process.off('exit', onExit);
      try {
        db.close();
      } catch (error) {
        reportError(error, 'closing the database failed');
      }
    },

    deadLetters(query = {}) {
      assertOpen();
      const limit = Math.max(0, Math.floor(query.limit ?? 100));
      const offset = Math.max(0, Math.floor(query.offset ?? 0));
      const rows =
        query.pixelId === undefined
          ? stmt.deadList.all(limit, offset)
          : stmt.deadListPixel.all(query.pixelId, limit, offset);
      return rows.map(toDeadLetter);
    },

    retryDeadLetters(ids) {
      assertOpen();
      commit();
      const now = Date.now();
      const back: OutboxRecord[] = [];
      db.transaction(() => {
        for (const row of deadRows(ids)) {
          // A fresh start: no attempts spent, no error of the last life.
          const { lastError: _lastError, ...kept } = toRecord(row);
          const rec: OutboxRecord = { ...kept, attempts: 0, retryAt: now };
          insertRow(nextSeq++, rec);
          stmt.deadDelete.run(row.seq);
          back.push(rec);
        }
      })();
      deadLetterRows -= back.length;
      const evicted: OutboxRecord[] = [];
      const touched = new Set<PixelState>();
      for (const rec of back) {
        const state = stateFor(rec.pixelId);
        state.count++;
        state.bytes += rec.bytes;
        touched.add(state);
      }
      for (const state of touched) evictOver(state, evicted);
      if (pendingDeletes.length > 0) scheduleCommit();
      if (host && back.length > 0) {
        host.added(back);
        if (evicted.length > 0) host.evicted(evicted);
      }
      return back.length;
    },

    purgeDeadLetters(ids) {
      assertOpen();
      let removed = 0;
      db.transaction(() => {
        for (const row of deadRows(ids)) {
          stmt.deadDelete.run(row.seq);
          removed++;
        }
      })();
      deadLetterRows -= removed;
      return removed;
    },
  };
  return outbox;
};
