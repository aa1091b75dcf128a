import {
  type MemoryOutbox,
  memoryOutbox,
  type OutboxHost,
  type OutboxRecord,
} from '@capi-kit/core';
import type Database from 'better-sqlite3';
import { setAsideUnreadable } from './dead-letters.js';
import type { ResolvedOptions } from './options.js';
import { PixelState } from './pixel-state.js';
import { cannotOpen, openDatabase } from './schema.js';
import { type DeadRecord, prepareStatements, type Statements } from './statements.js';
import { WriteHealth } from './write-health.js';

/** What one open outbox knows: its file, its pixels, its counters and the writes it owes the file. */
export interface OutboxState {
  readonly opts: ResolvedOptions;
  readonly db: Database.Database;
  readonly stmt: Statements;
  readonly pixels: Map<string, PixelState>;
  /** The seq the next record gets: append order, across pixels. */
  nextSeq: number;
  /** Rows in the dead-letter table. */
  deadLetterRows: number;
  /** Records dead-lettered since open (the engine's `deadLettered`). */
  deadLettered: number;
  /** Records dropped to stay within the bounds since open. */
  evictedTotal: number;
  /** Group commits since open. */
  commits: number;
  /** Appended records waiting for the group commit. */
  pendingCount: number;
  // Writes waiting for the next commit: evictions always; acknowledgements, retries and dead
  // letters only while the file refuses writes (otherwise they are written at once).
  pendingDeletes: number[];
  readonly pendingUpdates: Map<number, OutboxRecord>;
  pendingDead: DeadRecord[];
  commitTimer: ReturnType<typeof setTimeout> | undefined;
  commitImmediate: ReturnType<typeof setImmediate> | undefined;
  retryTimer: ReturnType<typeof setTimeout> | undefined;
  /** When writes were last tried, on `performance.now()` (a clock that never steps). */
  lastWriteAttempt: number;
  host: OutboxHost | undefined;
  closed: boolean;
  /** The engine's clock as last seen in a claim: `retryAt` and leases of records are on it. */
  engineNow: number | undefined;
  /** Rows of a previous run set aside at open, their body not a JSON object (told the app at attach). */
  unreadableAtOpen: number;
  readonly health: WriteHealth;
  /**
   * While the file refuses writes, new events wait in the core's in-memory outbox (its bounds,
   * drop-oldest and leases) and are delivered from there; they go back into the file as soon as
   * writes work again, so memory holds them only as long as it must.
   */
  readonly memory: MemoryOutbox;
}

/**
 * What an outbox that waited for the file (another process held it) brings to it: the memory queue
 * that held its events meanwhile (still leased ones are acknowledged there), the engine it reports
 * to, and the lock wait of a try in the background (0: the event loop is not blocked).
 */
export interface TakeOver {
  memory: MemoryOutbox;
  host: OutboxHost | undefined;
  lockTimeoutMs: number;
  /** Records memory dropped while waiting: `stats().evicted` counts since open, the wait included. */
  evicted: number;
}

/**
 * Opens the file and recovers what the previous process left: every row is waiting (its leases
 * died with it), counted per pixel; append order goes on after the highest seq.
 */
export const openOutboxState = (opts: ResolvedOptions, takeOver?: TakeOver): OutboxState => {
  const db = openDatabase(opts.path, {
    synchronous: opts.synchronous,
    lockTimeoutMs: takeOver?.lockTimeoutMs ?? opts.lockTimeoutMs,
  });
  let stmt: Statements;
  let recovered: ReturnType<typeof readRecovered>;
  let unreadable: number;
  try {
    stmt = prepareStatements(db);
    unreadable = setAsideUnreadable(db, Date.now());
    recovered = readRecovered(stmt);
  } catch (error) {
    // A damaged file can pass the open and fail its first full read (the totals). Closed here, or
    // the connection keeps the exclusive lock: every later open, a fixed file's too, would be
    // told the file is open in another process.
    db.close();
    throw cannotOpen(opts.path, error);
  }
  const s: OutboxState = {
    opts,
    db,
    stmt,
    pixels: new Map(),
    nextSeq: recovered.maxSeq + 1,
    deadLetterRows: recovered.deadLetterRows,
    // Since open, the wait included: memory's dead letters then, and its drops.
    deadLettered: takeOver?.memory.stats().deadLettered ?? 0,
    evictedTotal: takeOver?.evicted ?? 0,
    commits: 0,
    pendingCount: 0,
    pendingDeletes: [],
    pendingUpdates: new Map(),
    pendingDead: [],
    commitTimer: undefined,
    commitImmediate: undefined,
    retryTimer: undefined,
    lastWriteAttempt: Number.NEGATIVE_INFINITY,
    host: takeOver?.host,
    closed: false,
    engineNow: undefined,
    unreadableAtOpen: unreadable,
    health: new WriteHealth(),
    memory: takeOver?.memory ?? memoryOutboxOf(opts),
  };
  for (const row of recovered.totals) {
    const state = stateFor(s, row.pixel_id);
    state.count = row.n;
    state.bytes = row.b;
  }
  if (unreadable > 0) reportUnreadable(s);
  return s;
};

/** The memory queue of an outbox whose file refuses writes, or that waits for the file. */
export const memoryOutboxOf = (opts: ResolvedOptions): MemoryOutbox =>
  memoryOutbox({ maxEvents: opts.memoryMaxEvents, maxBytes: opts.memoryMaxBytes });

/** Rows set aside at open: the logger hears it at once, the engine's `error` hook when it attaches. */
export const reportUnreadable = (s: OutboxState): void =>
  reportError(
    s,
    new Error(
      `${s.unreadableAtOpen} records in the file had a body that is not a JSON object (changed outside capi-kit, or damaged): moved to the dead letters instead of being sent, where each would have made its whole request unreadable (deadLetters() lists them)`,
    ),
    'records set aside at open',
  );

/** What the previous process left, read once at open (the totals read every row). */
const readRecovered = (stmt: Statements) => ({
  maxSeq: stmt.maxSeq.get()?.s ?? 0,
  deadLetterRows: stmt.deadCount.get()?.n ?? 0,
  totals: stmt.totals.all(),
});

/** The pixel's bookkeeping, created on first use. */
export const stateFor = (s: OutboxState, pixelId: string): PixelState => {
  let state = s.pixels.get(pixelId);
  if (!state) {
    state = new PixelState(pixelId);
    s.pixels.set(pixelId, state);
  }
  return state;
};

/** Records held in memory only (waiting or leased). */
export const memoryHeld = (s: OutboxState): number => {
  const stats = s.memory.stats();
  return stats.queued + stats.leased;
};

/** Throws once the outbox is closed. */
export const assertOpen = (s: OutboxState): void => {
  if (s.closed) throw new Error(`sqliteOutbox: ${s.opts.path} is closed`);
};

/** An error's message, for the texts the app hears. */
export const messageOf = (error: unknown): string =>
  error instanceof Error ? error.message : String(error);

/** The ids of `records`. */
export const idsOf = (records: readonly OutboxRecord[]): string[] => records.map((r) => r.id);

/** A failure the app must hear: the engine's `error` hook once attached, the logger before. */
export const reportError = (s: OutboxState, error: unknown, what: string): void => {
  const wrapped = new Error(`sqliteOutbox (${s.opts.path}): ${what}: ${messageOf(error)}`, {
    cause: error,
  });
  if (s.host) s.host.error(wrapped);
  else s.opts.logger.error({ path: s.opts.path }, wrapped.message);
};

/** Something worth a look: the engine's `warn` hook, or the logger. */
export const reportWarning = (s: OutboxState, message: string): void => {
  const text = `sqliteOutbox (${s.opts.path}): ${message}`;
  if (s.host) s.host.warn(text);
  else s.opts.logger.warn({ path: s.opts.path }, text);
};

/** Records dropped to stay within the bounds: counted, and handed to the engine (`overflow`). */
export const reportEvicted = (s: OutboxState, evicted: readonly OutboxRecord[]): void => {
  if (evicted.length === 0) return;
  s.evictedTotal += evicted.length;
  if (s.host) s.host.evicted(evicted);
  else
    s.opts.logger.error(
      { path: s.opts.path, count: evicted.length },
      'sqliteOutbox: dropped the oldest events to stay within the bounds',
    );
};
