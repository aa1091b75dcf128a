import type { LedgerEntry, OutboxRecord } from '@capi-kit/core';
import { countWritten } from './eviction.js';
import {
  idsOf,
  memoryHeld,
  messageOf,
  type OutboxState,
  reportError,
  reportEvicted,
  reportWarning,
  stateFor,
} from './outbox-state.js';
import { FreshRows } from './pixel-state.js';
import { insertDeadRow, insertRow, persistRetry } from './statements.js';
import { QUIET_MS } from './write-health.js';

// Every write to the file. `append` never touches the disk: records are buffered and written in
// one transaction (the group commit) at most `commitIntervalMs` later or as soon as
// `commitEvents` are waiting. Acknowledgements, retries and dead letters are written at once;
// evictions wait for the next commit. When the file refuses writes (full disk, read-only file,
// I/O error), new events and the buffer go to the memory queue, the writes the file owes wait,
// and everything is tried again every `writeRetryMs` until the file takes it.

/** The writes of one open outbox (see {@link createWriter}). */
export interface Writer {
  /** The group commit: every buffered append and pending write in one transaction; then a chunk of what memory holds goes back to the file. Never throws. */
  commit(): void;
  /** A group commit on the next turn of the event loop. */
  commitSoon(): void;
  /** A group commit within `commitIntervalMs` (sooner when `commitEvents` wait). */
  scheduleCommit(): void;
  /** While writes fail: a retry in `writeRetryMs`. */
  scheduleRetry(): void;
  /** While writes fail: the deferred writes, then a chunk of memory; `force` skips the `writeRetryMs` wait. */
  retryWrites(force: boolean): void;
  /** A write or read failed: reported once per episode, the buffer goes to memory, a retry is scheduled. */
  storageFailed(error: unknown): void;
  /** Runs `write` at once, or (while writes fail, or when it fails) `defer`s it to the next commit that works. */
  writeNowOrLater(write: () => void, defer: () => void): void;
  /** Commits the buffer, then removes and returns the pixel's records memory alone holds, after one last try to write them. */
  takeNonDurable(pixelId: string): OutboxRecord[];
  /** Stops the commit and retry timers and the exit hook (at close). */
  stop(): void;
}

// Every open outbox's commit at exit, run by one `exit` listener: one listener per outbox made
// Node warn of a likely leak (MaxListenersExceededWarning) once an app had more than ten open.
const exitCommits = new Set<() => void>();
// Once the exit commit ran, no timer will: an event appended after it (track() in an `exit`
// listener registered after the outbox) is committed in append, or it would be lost uncounted.
let exited = false;
const commitAll = () => {
  exited = true;
  for (const commitAtExit of exitCommits) commitAtExit();
};
let listening = false;
const atExit = (commitAtExit: () => void): void => {
  if (!listening) process.on('exit', commitAll);
  listening = true;
  exitCommits.add(commitAtExit);
};

/**
 * The writer of one open outbox. With `commitOnExit`, a normal process exit commits the last
 * window (SIGKILL cannot). `movedAway` says why the file the outbox opened is no longer the one
 * its path names (deleted, or replaced), or undefined while it is.
 */
export const createWriter = (s: OutboxState, movedAway: () => string | undefined): Writer => {
  /**
   * The file the outbox opened is gone from its path (deleted or replaced while open): SQLite
   * would go on writing to the deleted file, and every event committed there would be lost to
   * the next start, which finds a new file. Thrown before a write, so that it fails like a write
   * the disk refuses: new events stay in memory, and close() counts what is left as dropped.
   */
  const assertInPlace = () => {
    const moved = movedAway();
    if (moved === undefined) return;
    throw new Error(
      `${s.opts.path} was deleted or replaced while open (${moved}): events written from now on would be lost to the next start, which opens a new file there. What the deleted file holds is still delivered by this process, and counted as dropped at close() if it is not; restart the process to write to ${s.opts.path} again`,
    );
  };

  const hasOps = () =>
    s.pendingDeletes.length > 0 || s.pendingUpdates.size > 0 || s.pendingDead.length > 0;

  /** The deferred writes (inside a transaction). */
  const writeOps = () => {
    for (const [seq, rec] of s.pendingUpdates) persistRetry(s.stmt, seq, rec);
    for (const dead of s.pendingDead) {
      insertDeadRow(s.stmt, dead);
      s.stmt.delete.run(dead.seq);
    }
    const rows = s.deadLetterRows + s.pendingDead.length;
    if (rows > s.opts.maxDeadLetters) s.stmt.deadTrim.run(rows - s.opts.maxDeadLetters);
    for (const seq of s.pendingDeletes) s.stmt.delete.run(seq);
  };

  /** After the deferred writes were committed. */
  const clearOps = () => {
    s.deadLetterRows = Math.min(s.opts.maxDeadLetters, s.deadLetterRows + s.pendingDead.length);
    s.pendingDead = [];
    s.pendingUpdates.clear();
    s.pendingDeletes = [];
  };

  const writeBuffered = s.db.transaction(() => {
    for (const state of s.pixels.values()) {
      for (let i = state.head; i < state.buffered.length; i++) {
        const { seq, rec } = state.buffered[i] as LedgerEntry;
        insertRow(s.stmt, seq, rec);
      }
    }
    writeOps();
  });
  const writeOpsOnly = s.db.transaction(writeOps);
  const insertRecords = s.db.transaction((records: readonly OutboxRecord[], firstSeq: number) => {
    for (let i = 0; i < records.length; i++)
      insertRow(s.stmt, firstSeq + i, records[i] as OutboxRecord);
  });

  const cancelCommit = () => {
    if (s.commitTimer !== undefined) clearTimeout(s.commitTimer);
    if (s.commitImmediate !== undefined) clearImmediate(s.commitImmediate);
    s.commitTimer = undefined;
    s.commitImmediate = undefined;
  };

  /** The records waiting for the group commit go to memory: while writes fail nothing waits in the buffer. */
  const moveBufferedToMemory = () => {
    const moved: OutboxRecord[] = [];
    for (const state of s.pixels.values()) {
      for (let i = state.head; i < state.buffered.length; i++) {
        const { rec } = state.buffered[i] as LedgerEntry;
        moved.push(rec);
        state.count--;
        state.bytes -= rec.bytes;
      }
      state.buffered = [];
      state.head = 0;
    }
    s.pendingCount = 0;
    if (moved.length > 0) reportEvicted(s, s.memory.append(moved).evicted);
  };

  /**
   * A write (or a read) of the file failed: the app hears it once per episode (write-health.ts),
   * new events go to memory, and writes are tried again every `writeRetryMs`.
   */
  const storageFailed = (error: unknown) => {
    s.lastWriteAttempt = performance.now();
    const code = (error as { code?: unknown }).code;
    const message = typeof code === 'string' ? `${code}: ${messageOf(error)}` : messageOf(error);
    if (s.health.failed(message, Date.now(), performance.now()) === 'first-failure') {
      reportError(
        s,
        error,
        `the file refuses writes; new events are kept in memory (up to ${s.opts.memoryMaxEvents} per pixel, the oldest dropped beyond) and delivered from there, writes are retried every ${s.opts.writeRetryMs} ms (stats().writeFailing)`,
      );
    }
    moveBufferedToMemory();
    scheduleRetry();
  };

  const storageWorked = () => {
    if (s.health.succeeded(performance.now()) === 'episode-ended') {
      reportWarning(
        s,
        `writes have worked again for ${QUIET_MS / 1000} s after ${s.health.episodeFailures} failed writes`,
      );
      s.health.episodeFailures = 0;
    }
  };

  /**
   * Moves up to `limit` waiting in-memory records back into the file (in flight ones stay until
   * they come back). Throws when the write fails; they stay in memory then.
   */
  const moveMemoryToFile = (limit: number): number => {
    const now = s.engineNow ?? Date.now();
    const records = s.memory.claim(limit, 60_000, { now });
    if (records.length === 0) return 0;
    const firstSeq = s.nextSeq;
    s.nextSeq += records.length;
    try {
      insertRecords(records, firstSeq);
    } catch (error) {
      // All were ready (retryAt ≤ now): giving them back at `now` changes nothing.
      s.memory.release(idsOf(records), now);
      throw error;
    }
    s.memory.ack(idsOf(records));
    reportEvicted(s, countWritten(s, records));
    return records.length;
  };

  /** While writes fail: the deferred writes first (deletes free space), then a chunk of what memory holds. */
  const retryWrites = (force: boolean) => {
    if (!force && performance.now() - s.lastWriteAttempt < s.opts.writeRetryMs) return;
    s.lastWriteAttempt = performance.now();
    let moved = 0;
    try {
      // A WAL that reached the size limit takes no frame, not even a delete that would free
      // space, until it is folded back into the database file and restarted from its beginning.
      s.db.pragma('wal_checkpoint(TRUNCATE)');
    } catch {
      // The database file may be unable to grow too; the writes below tell.
    }
    try {
      assertInPlace();
      if (hasOps()) {
        writeOpsOnly();
        clearOps();
      }
      moved = moveMemoryToFile(s.opts.commitEvents);
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
    if (s.health.failing) {
      retryWrites(false);
      return;
    }
    if (s.pendingCount > 0 || hasOps()) {
      try {
        assertInPlace();
        writeBuffered();
      } catch (error) {
        storageFailed(error);
        return;
      }
      s.commits++;
      for (const state of s.pixels.values()) {
        state.buffered = [];
        state.head = 0;
      }
      s.pendingCount = 0;
      clearOps();
      storageWorked();
    }
    if (memoryHeld(s) > 0) {
      try {
        if (moveMemoryToFile(s.opts.commitEvents) > 0) commitSoon();
      } catch (error) {
        storageFailed(error);
      }
    }
  };

  const commitInBackground = () => {
    s.commitTimer = undefined;
    s.commitImmediate = undefined;
    if (s.closed) return;
    try {
      commit();
    } catch (error) {
      reportError(s, error, 'group commit failed');
    }
  };

  /** Next turn of the event loop, never inside track(): the caller does not wait for the disk. */
  const commitSoon = () => {
    if (s.closed || s.commitImmediate !== undefined) return;
    if (s.commitTimer !== undefined) clearTimeout(s.commitTimer);
    s.commitTimer = undefined;
    s.commitImmediate = setImmediate(commitInBackground);
    s.commitImmediate.unref?.();
  };

  const scheduleCommit = () => {
    if (s.closed) return;
    if (exited && s.opts.commitOnExit) {
      onExit();
      return;
    }
    if (s.health.failing) {
      scheduleRetry();
      return;
    }
    if (s.pendingCount >= s.opts.commitEvents) {
      commitSoon();
      return;
    }
    if (s.commitTimer !== undefined || s.commitImmediate !== undefined) return;
    s.commitTimer = setTimeout(commitInBackground, s.opts.commitIntervalMs);
    s.commitTimer.unref?.();
  };

  function scheduleRetry(): void {
    if (s.closed || s.retryTimer !== undefined) return;
    s.retryTimer = setTimeout(() => {
      s.retryTimer = undefined;
      if (s.closed || !s.health.failing) return;
      retryWrites(true);
    }, s.opts.writeRetryMs);
    s.retryTimer.unref?.();
  }

  const writeNowOrLater = (write: () => void, defer: () => void) => {
    if (s.health.failing) {
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

  /**
   * The pixel's records in a file deleted while open, removed from its bookkeeping: the next
   * start will not find them. Waiting and leased alike, as memory's at close().
   */
  const takeFromDeletedFile = (pixelId: string, now: number): OutboxRecord[] => {
    const state = s.pixels.get(pixelId);
    if (!state) return [];
    const out: OutboxRecord[] = [];
    try {
      state.claim(
        new FreshRows(state, (id, cursor, limit) => s.stmt.fresh.all(id, cursor, limit)),
        Number.MAX_SAFE_INTEGER,
        now,
        now,
        Number.POSITIVE_INFINITY,
        true,
        out,
      );
    } catch {
      // Unreadable as well: what was taken so far is counted.
    }
    for (const rec of out) {
      const entry = state.leased.get(rec.id);
      if (entry) state.remove(entry);
    }
    return out;
  };

  const takeNonDurable = (pixelId: string): OutboxRecord[] => {
    if (s.closed) return [];
    // The group-commit buffer first: at a process.exit() the engine's exit hook can run before
    // ours (a client made before the outbox registered it), and a buffer the file then refuses
    // (a disk full since the last commit, a file deleted) would go to memory after this call,
    // counted as queued and lost with the process. A commit that fails moves it to memory now.
    if (!s.health.failing) commit();
    const now = s.engineNow ?? Date.now();
    const gone = movedAway() === undefined ? [] : takeFromDeletedFile(pixelId, now);
    // Waiting and leased alike: at close() nothing more will be acknowledged in this process.
    const left = s.memory.claim(Number.MAX_SAFE_INTEGER, 60_000, { pixelId, all: true, now });
    if (left.length === 0) return gone;
    // One last try: written to the file, they are the next start's to deliver.
    s.lastWriteAttempt = performance.now();
    const firstSeq = s.nextSeq;
    s.nextSeq += left.length;
    try {
      assertInPlace();
      if (hasOps()) {
        writeOpsOnly();
        clearOps();
      }
      insertRecords(left, firstSeq);
    } catch (error) {
      storageFailed(error);
      s.memory.ack(idsOf(left));
      return [...gone, ...left];
    }
    s.memory.ack(idsOf(left));
    const state = stateFor(s, pixelId);
    for (const rec of left) {
      state.count++;
      state.bytes += rec.bytes;
    }
    storageWorked();
    return [];
  };

  /**
   * At exit, everything memory holds goes to the file in one transaction, waiting and in flight
   * alike (nothing more will be acknowledged): a commit moves one chunk and leaves the rest to
   * commits that no longer run. Throws when the write fails.
   */
  const moveAllMemoryToFile = () => {
    const now = s.engineNow ?? Date.now();
    const records = s.memory.claim(Number.MAX_SAFE_INTEGER, 60_000, { all: true, now });
    if (records.length === 0) return;
    const firstSeq = s.nextSeq;
    s.nextSeq += records.length;
    insertRecords(records, firstSeq);
    s.memory.ack(idsOf(records));
  };

  const onExit = () => {
    // A normal exit (process.exit, end of work) still commits the last window; SIGKILL cannot.
    try {
      if (s.closed) return;
      if (s.health.failing) retryWrites(true);
      else commit();
      if (!s.health.failing && memoryHeld(s) > 0) moveAllMemoryToFile();
    } catch {
      // Exiting anyway.
    }
  };
  if (s.opts.commitOnExit) atExit(onExit);

  const stop = () => {
    cancelCommit();
    if (s.retryTimer !== undefined) clearTimeout(s.retryTimer);
    s.retryTimer = undefined;
    if (s.opts.commitOnExit) exitCommits.delete(onExit);
  };

  return {
    commit,
    commitSoon,
    scheduleCommit,
    scheduleRetry,
    retryWrites,
    storageFailed,
    writeNowOrLater,
    takeNonDurable,
    stop,
  };
};
