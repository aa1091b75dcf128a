import { type Logger, MAX_TIMER_MS } from '@capi-kit/core';

/** Options of {@link sqliteOutbox}. */
export interface SqliteOutboxOptions {
  /** Database file of its own (another app's database is refused), created if missing. One process at a time: use one file per process (e.g. per cluster worker); a process that finds it held waits for it. */
  path: string;
  /**
   * `normal` (default): in WAL mode a committed write survives a process crash but the last
   * transactions may roll back on power loss or an OS crash. `full`: fsync at every commit,
   * survives both, costs more per commit (see the README's table).
   */
  synchronous?: 'normal' | 'full' | undefined;
  /** Longest time an appended record waits in memory before its group commit; default 25 ms, at most 2^31 − 1 (a timer). */
  commitIntervalMs?: number | undefined;
  /** Records that trigger a group commit right away (on the next event-loop turn); default 500. */
  commitEvents?: number | undefined;
  /** Most records held per stream (a Meta pixel, `tiktok:<code>`…; waiting + in flight); beyond it the oldest waiting ones are dropped. Default 1 000 000. */
  maxEvents?: number | undefined;
  /** Most UTF-8 bytes held per stream; default 1 GiB. */
  maxBytes?: number | undefined;
  /** Dead letters kept (oldest removed beyond it); default 100 000. */
  maxDeadLetters?: number | undefined;
  /** Commit what is buffered when the process exits normally (`process.on('exit')`); default true. */
  commitOnExit?: boolean | undefined;
  /**
   * How long opening waits (blocking) for a lock another process holds; default 2000 ms, at most
   * 2^31 − 1 (SQLite's busy timeout). Past it the outbox starts on memory and takes the file over
   * once it is let go (`stats().waitingForFile`; the README's "Rolling deploys").
   */
  lockTimeoutMs?: number | undefined;
  /** Where failures go before `createCapi` attaches (afterwards: its logger and `error` hook). */
  logger?: Logger | undefined;
  /**
   * Bounds of the memory queue that takes new events while the file refuses writes (disk full,
   * read-only file, I/O error), per stream; beyond them the oldest are dropped (`overflow`).
   * Default: the in-memory outbox's, 10 000 events and 16 MiB.
   */
  memoryFallback?: { maxEvents?: number | undefined; maxBytes?: number | undefined } | undefined;
  /** While writes fail, or another process holds the file, how often it is tried again; default 1000 ms, at most 2^31 − 1 (a timer). */
  writeRetryMs?: number | undefined;
}

/** {@link SqliteOutboxOptions} checked, with every default filled in. */
export interface ResolvedOptions {
  path: string;
  commitIntervalMs: number;
  commitEvents: number;
  maxEvents: number;
  maxBytes: number;
  maxDeadLetters: number;
  lockTimeoutMs: number;
  synchronous: 'NORMAL' | 'FULL';
  logger: Logger;
  memoryMaxEvents: number;
  memoryMaxBytes: number;
  writeRetryMs: number;
  commitOnExit: boolean;
}

// Timer options are bounded by MAX_TIMER_MS, setTimeout's largest delay (2^31 − 1 ms, ~24.8 days):
// Node runs a longer one after 1 ms (with a TimeoutOverflowWarning), so a larger commitIntervalMs
// would commit at once and a larger writeRetryMs would retry failing writes every millisecond.
// SQLite's busy timeout (lockTimeoutMs) is a 32-bit int too. Such values are refused, as other
// out-of-range values are.
const positive = (
  name: string,
  value: number | undefined,
  fallback: number,
  max = Number.POSITIVE_INFINITY,
): number => {
  const v = value ?? fallback;
  if (typeof v !== 'number' || !(v > 0) || !Number.isFinite(v) || v > max) {
    const bound = max === Number.POSITIVE_INFINITY ? '' : ` ≤ ${max}`;
    throw new RangeError(
      `sqliteOutbox: ${name} must be a positive number${bound}, got ${String(value)}`,
    );
  }
  return v;
};

/** A count of records: a positive number, rounded down, that must still be at least 1 (0.5 would become 0: every event dropped). */
const count = (name: string, value: number | undefined, fallback: number): number => {
  const v = Math.floor(positive(name, value, fallback));
  if (v < 1) throw new RangeError(`sqliteOutbox: ${name} must be at least 1, got ${String(value)}`);
  return v;
};

/**
 * `'normal'` or `'full'`. Anything else is refused: SQLite's own spelling (`'FULL'`, `'EXTRA'`, as
 * in `PRAGMA synchronous`) was taken for the default, so an app that asked for an fsync per commit
 * silently ran without one.
 */
const synchronousOf = (value: unknown): 'NORMAL' | 'FULL' => {
  if (value === undefined || value === 'normal') return 'NORMAL';
  if (value === 'full') return 'FULL';
  throw new TypeError(
    `sqliteOutbox: synchronous must be 'normal' or 'full' (lower case), got ${typeof value === 'string' ? `'${value}'` : String(value)}`,
  );
};

const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

/** Checks `options` (a `TypeError` or `RangeError` naming the option) and fills in the defaults. */
export const resolveOptions = (options: SqliteOutboxOptions): ResolvedOptions => {
  if (typeof options?.path !== 'string' || options.path === '') {
    throw new TypeError('sqliteOutbox: `path` (the database file) is required');
  }
  if (options.path === ':memory:') {
    // SQLite's in-memory database dies with its connection, yet the outbox says it is durable:
    // close() would leave the last events to a next start that never sees them, counted nowhere.
    throw new TypeError(
      "sqliteOutbox: `path` ':memory:' is not durable (the database is gone at close()): give it a file, or leave `outbox` unset for the in-memory outbox, which counts what close() leaves as dropped",
    );
  }
  return {
    path: options.path,
    commitIntervalMs: positive('commitIntervalMs', options.commitIntervalMs, 25, MAX_TIMER_MS),
    commitEvents: count('commitEvents', options.commitEvents, 500),
    maxEvents: count('maxEvents', options.maxEvents, 1_000_000),
    maxBytes: positive('maxBytes', options.maxBytes, 1024 * 1024 * 1024),
    maxDeadLetters: count('maxDeadLetters', options.maxDeadLetters, 100_000),
    lockTimeoutMs: Math.floor(positive('lockTimeoutMs', options.lockTimeoutMs, 2000, MAX_TIMER_MS)),
    synchronous: synchronousOf(options.synchronous),
    logger: options.logger ?? silentLogger,
    memoryMaxEvents: count('memoryFallback.maxEvents', options.memoryFallback?.maxEvents, 10_000),
    memoryMaxBytes: positive(
      'memoryFallback.maxBytes',
      options.memoryFallback?.maxBytes,
      16 * 1024 * 1024,
    ),
    writeRetryMs: positive('writeRetryMs', options.writeRetryMs, 1000, MAX_TIMER_MS),
    commitOnExit: options.commitOnExit !== false,
  };
};
