import type {
  AppendResult,
  ClaimOptions,
  Logger,
  Outbox,
  OutboxHost,
  OutboxPixelStats,
  OutboxRecord,
  OutboxStats,
} from '@capi-kit/core';
import Database from 'better-sqlite3';
import { type DeadLetterRow, type OutboxRow, SCHEMA, SCHEMA_VERSION, toRecord } from './schema.js';

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
}

interface Waiting {
  seq: number;
  rec: OutboxRecord;
}

interface Leased extends Waiting {
  leaseUntil: number;
}

/**
 * One pixel's bookkeeping. Rows in the file with `seq > cursor` are "fresh" (never claimed by this
 * process) and read in order straight from the index; everything claimed since open is tracked
 * here: leased, or given back (`returned`, few: at most the in-flight batches). This mirrors the
 * in-memory outbox, so a claim is one indexed range read and no write.
 */
class PixelState {
  constructor(readonly pixelId: string) {}
  count = 0;
  bytes = 0;
  cursor = 0;
  /** Appended since the last commit, in seq order; `head` skips the evicted. */
  buffered: Waiting[] = [];
  head = 0;
  returned: Waiting[] = [];
  leased = new Map<string, Leased>();
  nextLeaseExpiry = Number.POSITIVE_INFINITY;
  /** The next fresh rows, read ahead for drop-oldest so an eviction is not a query. */
  evictAhead: Waiting[] = [];

  insertReturned(entry: Waiting): void {
    const list = this.returned;
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((list[mid] as Waiting).seq < entry.seq) lo = mid + 1;
      else hi = mid;
    }
    list.splice(lo, 0, entry);
  }

  expireLeases(now: number): void {
    if (now < this.nextLeaseExpiry) return;
    let next = Number.POSITIVE_INFINITY;
    for (const [id, entry] of this.leased) {
      if (entry.leaseUntil <= now) {
        this.leased.delete(id);
        this.insertReturned({ seq: entry.seq, rec: entry.rec });
      } else if (entry.leaseUntil < next) next = entry.leaseUntil;
    }
    this.nextLeaseExpiry = next;
  }

  bufferedLength(): number {
    return this.buffered.length - this.head;
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
    release: db.prepare('UPDATE capi_outbox SET retry_at = ? WHERE seq = ?'),
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
  let pendingDeletes: number[] = [];
  let commitTimer: ReturnType<typeof setTimeout> | undefined;
  let commitImmediate: ReturnType<typeof setImmediate> | undefined;
  let host: OutboxHost | undefined;
  let closed = false;

  const reportError = (error: unknown, what: string) => {
    const wrapped = new Error(`sqliteOutbox (${options.path}): ${what}: ${messageOf(error)}`, {
      cause: error,
    });
    if (host) host.error(wrapped);
    else logger.error({ path: options.path }, wrapped.message);
  };

  const assertOpen = () => {
    if (closed) throw new Error(`sqliteOutbox: ${options.path} is closed`);
  };

  const writeBuffered = db.transaction(() => {
    for (const state of pixels.values()) {
      for (let i = state.head; i < state.buffered.length; i++) {
        const { seq, rec } = state.buffered[i] as Waiting;
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
      }
    }
    for (const seq of pendingDeletes) stmt.delete.run(seq);
  });

  const cancelCommit = () => {
    if (commitTimer !== undefined) clearTimeout(commitTimer);
    if (commitImmediate !== undefined) clearImmediate(commitImmediate);
    commitTimer = undefined;
    commitImmediate = undefined;
  };

  /** The group commit: every buffered append and pending eviction in one transaction. Throws on failure (buffer kept). */
  const commit = (): void => {
    cancelCommit();
    if (pendingCount === 0 && pendingDeletes.length === 0) return;
    writeBuffered();
    commits++;
    for (const state of pixels.values()) {
      state.buffered = [];
      state.head = 0;
    }
    pendingCount = 0;
    pendingDeletes = [];
  };

  const commitInBackground = () => {
    commitTimer = undefined;
    commitImmediate = undefined;
    if (closed) return;
    try {
      commit();
    } catch (error) {
      reportError(error, 'group commit failed (will retry)');
      scheduleCommit();
    }
  };

  const scheduleCommit = () => {
    if (closed) return;
    if (pendingCount >= commitEvents) {
      if (commitImmediate !== undefined) return;
      if (commitTimer !== undefined) clearTimeout(commitTimer);
      commitTimer = undefined;
      // Next turn of the event loop, never inside track(): the caller does not wait for the disk.
      commitImmediate = setImmediate(commitInBackground);
      commitImmediate.unref?.();
      return;
    }
    if (commitTimer !== undefined || commitImmediate !== undefined) return;
    commitTimer = setTimeout(commitInBackground, commitIntervalMs);
    commitTimer.unref?.();
  };

  const onExit = () => {
    // A normal exit (process.exit, end of work) still commits the last window; SIGKILL cannot.
    try {
      if (!closed) commit();
    } catch {
      // Exiting anyway.
    }
  };
  const commitOnExit = options.commitOnExit !== false;
  if (commitOnExit) process.on('exit', onExit);

  // ------------------------------------------------------------- drop-oldest

  const nextFresh = (state: PixelState): Waiting | undefined => {
    while (state.evictAhead.length > 0 && (state.evictAhead[0] as Waiting).seq <= state.cursor) {
      state.evictAhead.shift();
    }
    if (state.evictAhead.length === 0 && state.count - state.bufferedLength() > 0) {
      // Evictions advance the cursor past what they remove, so these rows are all still waiting.
      state.evictAhead = stmt.fresh
        .all(state.pixelId, state.cursor, EVICT_READ_AHEAD)
        .map((row) => ({ seq: row.seq, rec: toRecord(row) }));
    }
    return state.evictAhead[0];
  };

  const evictOver = (state: PixelState, evicted: OutboxRecord[]): void => {
    while (state.count > maxEvents || state.bytes > maxBytes) {
      const returned = state.returned[0];
      const fresh = nextFresh(state);
      const buffered = state.buffered[state.head];
      let victim: Waiting | undefined;
      if (returned && (!fresh || returned.seq < fresh.seq)) {
        victim = state.returned.shift();
        pendingDeletes.push(returned.seq);
      } else if (fresh) {
        victim = state.evictAhead.shift();
        state.cursor = fresh.seq;
        pendingDeletes.push(fresh.seq);
      } else if (buffered) {
        victim = buffered;
        state.buffered[state.head] = undefined as unknown as Waiting;
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

  const claimFrom = (
    state: PixelState,
    pixelId: string,
    limit: number,
    leaseUntil: number,
    now: number,
    maxClaimBytes: number,
    all: boolean,
    out: OutboxRecord[],
  ): number => {
    let bytes = 0;
    if (all) {
      for (const entry of state.leased.values()) state.insertReturned(entry);
      state.leased.clear();
    }
    let fresh: OutboxRow[] = [];
    let freshIndex = 0;
    let freshDone = false;
    const peekFresh = (): OutboxRow | undefined => {
      if (freshIndex < fresh.length) return fresh[freshIndex];
      if (freshDone) return undefined;
      const want = Math.max(16, limit - out.length);
      fresh = stmt.fresh.all(pixelId, state.cursor, want);
      freshIndex = 0;
      if (fresh.length < want) freshDone = true;
      return fresh[0];
    };
    let skip = 0;
    while (out.length < limit) {
      const f = peekFresh();
      let r: Waiting | undefined;
      while (skip < state.returned.length) {
        const candidate = state.returned[skip] as Waiting;
        if (all || candidate.rec.retryAt <= now) {
          r = candidate;
          break;
        }
        skip++;
      }
      let seq: number;
      let rec: OutboxRecord;
      if (f && (!r || f.seq < r.seq)) {
        if (!all && f.retry_at > now) {
          // Scheduled for later by the previous process (a backoff): wait with the returned ones.
          freshIndex++;
          state.cursor = f.seq;
          state.insertReturned({ seq: f.seq, rec: toRecord(f) });
          skip = 0;
          continue;
        }
        seq = f.seq;
        rec = toRecord(f);
      } else if (r) {
        seq = r.seq;
        rec = r.rec;
      } else break;
      const cost = rec.bytes + 1;
      if (out.length > 0 && bytes + cost > maxClaimBytes) break;
      if (f && seq === f.seq) {
        freshIndex++;
        state.cursor = seq;
      } else state.returned.splice(skip, 1);
      bytes += cost;
      state.leased.set(rec.id, { seq, rec, leaseUntil });
      if (leaseUntil < state.nextLeaseExpiry) state.nextLeaseExpiry = leaseUntil;
      out.push(rec);
    }
    return bytes;
  };

  const findLeased = (id: string): [PixelState, Leased] | undefined => {
    for (const state of pixels.values()) {
      const entry = state.leased.get(id);
      if (entry) return [state, entry];
    }
    return undefined;
  };

  const giveBack = (
    ids: readonly string[],
    update: (rec: OutboxRecord) => OutboxRecord,
    persist: (rec: OutboxRecord, seq: number) => void,
  ) => {
    const back: [PixelState, Leased, OutboxRecord][] = [];
    for (const id of ids) {
      const found = findLeased(id);
      if (found) back.push([found[0], found[1], update(found[1].rec)]);
    }
    if (back.length === 0) return;
    db.transaction(() => {
      for (const [, entry, rec] of back) persist(rec, entry.seq);
    })();
    for (const [state, entry, rec] of back) {
      state.leased.delete(entry.rec.id);
      state.insertReturned({ seq: entry.seq, rec });
    }
  };

  const removeLeased = (ids: readonly string[], also?: (rec: OutboxRecord) => void): number => {
    const gone: [PixelState, Leased][] = [];
    for (const id of ids) {
      const found = findLeased(id);
      if (found) gone.push(found);
    }
    if (gone.length === 0) return 0;
    db.transaction(() => {
      for (const [, entry] of gone) {
        also?.(entry.rec);
        stmt.delete.run(entry.seq);
      }
    })();
    for (const [state, entry] of gone) {
      state.leased.delete(entry.rec.id);
      state.count--;
      state.bytes -= entry.rec.bytes;
    }
    return gone.length;
  };

  const trimDeadLetters = () => {
    if (deadLetterRows > maxDeadLetters) {
      stmt.deadTrim.run(deadLetterRows - maxDeadLetters);
      deadLetterRows = maxDeadLetters;
    }
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
      const evicted: OutboxRecord[] = [];
      const touched = new Set<PixelState>();
      for (const rec of records) {
        const state = stateFor(rec.pixelId);
        state.buffered.push({ seq: nextSeq++, rec });
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
      // What is claimed goes on the wire: it must be on disk first.
      commit();
      const now = claimOptions.now ?? Date.now();
      const all = claimOptions.all === true;
      const maxClaimBytes = claimOptions.maxBytes ?? Number.POSITIVE_INFINITY;
      const out: OutboxRecord[] = [];
      const targets =
        claimOptions.pixelId === undefined
          ? [...pixels]
          : pixels.has(claimOptions.pixelId)
            ? [[claimOptions.pixelId, pixels.get(claimOptions.pixelId) as PixelState] as const]
            : [];
      let bytes = 0;
      for (const [pixelId, state] of targets) {
        if (out.length >= limit) break;
        state.expireLeases(now);
        state.evictAhead = [];
        bytes += claimFrom(
          state,
          pixelId,
          limit,
          now + leaseMs,
          now,
          maxClaimBytes - bytes,
          all,
          out,
        );
      }
      return out;
    },

    ack(ids) {
      assertOpen();
      removeLeased(ids);
    },

    nack(ids, retryAt, error) {
      assertOpen();
      giveBack(
        ids,
        (rec) => {
          const next: OutboxRecord = { ...rec, attempts: rec.attempts + 1, retryAt };
          if (error !== undefined) next.lastError = error;
          return next;
        },
        (rec, seq) => stmt.nack.run(rec.attempts, rec.retryAt, rec.lastError ?? null, seq),
      );
    },

    release(ids, retryAt) {
      assertOpen();
      giveBack(
        ids,
        (rec) => ({ ...rec, retryAt }),
        (rec, seq) => stmt.release.run(rec.retryAt, seq),
      );
    },

    deadLetter(ids, error) {
      assertOpen();
      const deadAt = Date.now();
      const removed = removeLeased(ids, (rec) => {
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
      });
      deadLettered += removed;
      deadLetterRows += removed;
      trimDeadLetters();
    },

    stats() {
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
      };
      for (const [pixelId, state] of pixels) {
        const s: OutboxPixelStats = {
          queued: state.count - state.leased.size,
          leased: state.leased.size,
          bytes: state.bytes,
        };
        let oldest = state.returned[0]?.rec.enqueuedAt;
        if (!closed) {
          const fresh = stmt.oldestFresh.get(pixelId, state.cursor)?.enqueued_at;
          if (fresh !== undefined && (oldest === undefined || fresh < oldest)) oldest = fresh;
        }
        const buffered = state.buffered[state.head]?.rec.enqueuedAt;
        if (buffered !== undefined && (oldest === undefined || buffered < oldest))
          oldest = buffered;
        if (oldest !== undefined && s.queued > 0) s.oldestEnqueuedAt = oldest;
        result.pixels[pixelId] = s;
        result.queued += s.queued;
        result.leased += s.leased;
        result.bytes += s.bytes;
        if (
          s.oldestEnqueuedAt !== undefined &&
          (result.oldestEnqueuedAt === undefined || s.oldestEnqueuedAt < result.oldestEnqueuedAt)
        ) {
          result.oldestEnqueuedAt = s.oldestEnqueuedAt;
        }
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

    close() {
      if (closed) return;
      try {
        commit();
      } catch (error) {
        reportError(error, 'final commit failed');
      }
      closed = true;
      cancelCommit();
      if (commitOnExit) process.off('exit', onExit);
      db.close();
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
          const rec: OutboxRecord = { ...toRecord(row), attempts: 0, retryAt: now };
          const seq = nextSeq++;
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
            0,
            rec.enqueuedAt,
            now,
            null,
          );
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
