import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import {
  type AppendResult,
  type ClaimOptions,
  type Outbox,
  type OutboxHost,
  type OutboxRecord,
  retriedRecord,
} from '@capi-kit/core';
import { claimRecords, giveBack, removeLeased } from './claims.js';
import {
  type DeadLetter,
  type DeadLetterQuery,
  listDeadLetters,
  purgeDeadLetters,
  retryDeadLetters,
} from './dead-letters.js';
import { EVICT_CATCH_UP, evictOver } from './eviction.js';
import { resolveOptions, type SqliteOutboxOptions } from './options.js';
import {
  assertOpen,
  memoryHeld,
  type OutboxState,
  openOutboxState,
  reportError,
  reportUnreadable,
  reportWarning,
  stateFor,
} from './outbox-state.js';
import type { PixelState } from './pixel-state.js';
import { FileHeldElsewhere } from './schema.js';
import { outboxStats, type SqliteOutboxStats } from './stats.js';
import { waitForFile } from './waiting.js';
import { createWriter } from './writer.js';

// The outbox as the engine and the app see it, put together from the modules that hold each
// concept: options.ts, schema.ts (format and migrations), statements.ts, outbox-state.ts (what an
// open outbox knows, recovered at open), writer.ts (group commit and the memory fallback while
// the file refuses writes), claims.ts (claims and leases), eviction.ts (drop-oldest),
// dead-letters.ts and stats.ts.

export type { DeadLetter, DeadLetterQuery } from './dead-letters.js';
export type { SqliteOutboxOptions } from './options.js';
export type { SqliteOutboxStats } from './stats.js';

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
 * The files this process has open as outboxes (see {@link fileIdentity}), until their `close()`.
 * Kept on `globalThis` under a `Symbol.for` key, so every copy of this package loaded in the
 * process (its ESM and CJS builds side by side, Next.js's bundle layers) sees the same set: a set
 * per copy let a second copy open the file, which blocked the event loop for `lockTimeoutMs` on
 * SQLite's lock, then blamed another process.
 */
const openHere: Set<string> = (() => {
  const global = globalThis as { [key: symbol]: Set<string> | undefined };
  const key = Symbol.for('@capi-kit/outbox-sqlite.openFiles');
  global[key] ??= new Set();
  return global[key];
})();

/**
 * The file `path` names: its device and inode once it exists, so a symlinked directory or a hard
 * link is the same file as the path it was opened by; its resolved path before it exists.
 */
const fileIdentity = (path: string): string => {
  try {
    const { dev, ino } = statSync(path);
    return `${dev}:${ino}`;
  } catch {
    return resolve(path);
  }
};

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
  const opts = resolveOptions(options);
  if (openHere.has(fileIdentity(opts.path))) {
    // SQLite's lock does not tell this process from another: the open would wait `lockTimeoutMs`,
    // blocking the event loop, and then blame another process.
    throw new Error(
      `sqliteOutbox: ${opts.path} is already open in this process (one outbox per file): close the first (its client's close() does) before opening the file again, or keep one client and outbox for the process (a dev server reloading a module that opens it, for one)`,
    );
  }
  let s: OutboxState;
  try {
    s = openOutboxState(opts);
  } catch (error) {
    if (!(error instanceof FileHeldElsewhere)) throw error;
    // A deploy that starts the new process before the old one exits: this one keeps its events
    // in memory and delivers them from there until the file is let go, then takes it over. The
    // file is the one the path names now: a process.chdir() meanwhile must not take another.
    const file = { ...opts, path: resolve(opts.path) };
    return waitForFile(
      opts,
      openHere,
      () => fileIdentity(file.path),
      (takeOver) => {
        const taken = openOutboxState(file, takeOver);
        const recovered = [...taken.pixels.values()].map(({ pixelId, count, bytes }) => ({
          pixelId,
          count,
          bytes,
        }));
        return { outbox: outboxOn(taken), recovered };
      },
    );
  }
  openHere.add(fileIdentity(opts.path));
  return outboxOn(s);
};

/** The outbox on the file `s` opened, which `openHere` holds until its close(). */
const outboxOn = (s: OutboxState): SqliteOutbox => {
  const { opts } = s;
  const file = fileIdentity(opts.path);
  // Checked before each write (a stat): a file deleted or replaced while open takes no more. The
  // path as it resolved at open, as SQLite holds it: a process.chdir() later changes nothing.
  const absolute = resolve(opts.path);
  const writer = createWriter(s, () => {
    let identity: string;
    try {
      const { dev, ino } = statSync(absolute);
      identity = `${dev}:${ino}`;
    } catch {
      return 'no file is there now';
    }
    return identity === file ? undefined : 'another file is there now';
  });

  const outbox: SqliteOutbox = {
    durable: true,
    path: opts.path,

    append(records) {
      assertOpen(s);
      if (s.health.failing) {
        // The file refuses writes: memory takes them (bounded, drop-oldest); the engine counts
        // what it evicts as dropped (`overflow`).
        const { evicted } = s.memory.append(records);
        s.evictedTotal += evicted.length;
        writer.scheduleRetry();
        return { evicted };
      }
      const evicted: OutboxRecord[] = [];
      const touched = new Set<PixelState>();
      for (const rec of records) {
        if (rec.bytes > opts.maxBytes) {
          // It can never fit: dropped itself, not after every waiting record of its stream was
          // dropped to make room for it (drop-oldest ran until the stream was empty, then took it).
          evicted.push(rec);
          s.evictedTotal++;
          continue;
        }
        const state = stateFor(s, rec.pixelId);
        state.buffered.push({ seq: s.nextSeq++, rec, leaseUntil: 0 });
        state.count++;
        state.bytes += rec.bytes;
        s.pendingCount++;
        touched.add(state);
      }
      for (const state of touched) {
        if (state.count > opts.maxEvents || state.bytes > opts.maxBytes)
          evictOver(s, state, evicted, records.length + EVICT_CATCH_UP);
      }
      if (s.pendingCount > 0 || s.pendingDeletes.length > 0) writer.scheduleCommit();
      return { evicted };
    },

    claim(limit, leaseMs, claimOptions = {}) {
      return claimRecords(s, writer, limit, leaseMs, claimOptions);
    },

    ack(ids) {
      assertOpen(s);
      const { others } = removeLeased(s, writer, ids);
      if (others.length > 0) s.memory.ack(others);
    },

    nack(ids, retryAt, error) {
      assertOpen(s);
      const others = giveBack(s, writer, ids, (rec) => retriedRecord(rec, retryAt, error));
      if (others.length > 0) s.memory.nack(others, retryAt, error);
    },

    release(ids, retryAt) {
      assertOpen(s);
      const others = giveBack(s, writer, ids, (rec) => ({ ...rec, retryAt }));
      if (others.length > 0) s.memory.release(others, retryAt);
    },

    deadLetter(ids, error) {
      assertOpen(s);
      const { removed, others } = removeLeased(s, writer, ids, { error, deadAt: Date.now() });
      s.deadLettered += removed;
      if (others.length > 0) {
        // Held in memory only: not kept in the table; the engine hands them to onUndeliverable.
        const before = s.memory.stats().deadLettered;
        s.memory.deadLetter(others, error);
        s.deadLettered += s.memory.stats().deadLettered - before;
      }
    },

    stats() {
      return outboxStats(s);
    },

    attach(engine) {
      s.host = engine;
      // attach runs inside createCapi: told once the caller's synchronous code has run, so an
      // `error` listener added right after createCapi hears it.
      if (s.unreadableAtOpen > 0) queueMicrotask(() => reportUnreadable(s));
    },

    flush() {
      assertOpen(s);
      writer.commit();
    },

    takeNonDurable(pixelId) {
      return writer.takeNonDurable(pixelId);
    },

    close() {
      if (s.closed) return;
      try {
        if (s.health.failing) writer.retryWrites(true);
        else writer.commit();
      } catch (error) {
        reportError(s, error, 'final commit failed');
      }
      // What the engine did not take (takeNonDurable) or an app appended without an engine.
      const lost = memoryHeld(s);
      if (lost > 0) {
        reportError(
          s,
          new Error(`${lost} events held in memory could not be written`),
          'closed while the file refuses writes',
        );
      }
      const unwritten = s.pendingDeletes.length + s.pendingDead.length;
      if (unwritten > 0) {
        reportWarning(
          s,
          `closed with ${unwritten} acknowledgements or dead letters not written (the file refuses writes): the next process sends those events again, and Meta deduplicates them by event_id`,
        );
      }
      s.closed = true;
      writer.stop();
      openHere.delete(file);
      try {
        s.db.close();
      } catch (error) {
        reportError(s, error, 'closing the database failed');
      }
    },

    deadLetters(query = {}) {
      return listDeadLetters(s, query);
    },

    retryDeadLetters(ids) {
      return retryDeadLetters(s, writer, ids);
    },

    purgeDeadLetters(ids) {
      return purgeDeadLetters(s, ids);
    },
  };
  return outbox;
};
