import { addPixelStats, type OutboxPixelStats, type OutboxStats } from '@capi-kit/core';
import type { OutboxState } from './outbox-state.js';

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
  /**
   * True while another process holds the file (a deploy that started this process before the old
   * one exited): events are held in memory (`memory`) and delivered from there until this process
   * takes the file over.
   */
  waitingForFile: boolean;
  /** Since when this process waits for the file (epoch ms); set while `waitingForFile`. */
  waitingForFileSince?: number;
}

/**
 * The engine's counters (the file's and memory's records together, per pixel and in total) plus
 * the outbox's own. The oldest waiting record of a pixel is the oldest given-back, fresh (one
 * indexed read) or buffered one.
 */
export const outboxStats = (s: OutboxState): SqliteOutboxStats => {
  const inMemory = s.memory.stats();
  const result: SqliteOutboxStats = {
    queued: 0,
    leased: 0,
    bytes: 0,
    deadLettered: s.deadLettered,
    pixels: {},
    pending: s.pendingCount,
    evicted: s.evictedTotal,
    commits: s.commits,
    deadLetters: s.deadLetterRows,
    memory: inMemory.queued + inMemory.leased,
    writeFailing: s.health.failing,
    writeFailures: s.health.failures,
    waitingForFile: false,
  };
  if (s.health.since !== undefined) result.writeFailingSince = s.health.since;
  if (s.health.lastError !== undefined) result.lastWriteError = s.health.lastError;
  const pixelIds = new Set([...s.pixels.keys(), ...Object.keys(inMemory.pixels)]);
  for (const pixelId of pixelIds) {
    const state = s.pixels.get(pixelId);
    const held = inMemory.pixels[pixelId];
    const pixel: OutboxPixelStats = {
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
      if (!s.closed) {
        try {
          older(s.stmt.oldestFresh.get(pixelId, state.cursor)?.enqueued_at);
        } catch {
          // An unreadable file: the figure is approximate until it reads again.
        }
      }
      older(state.buffered[state.head]?.rec.enqueuedAt);
    }
    if (oldest !== undefined && pixel.queued > 0) pixel.oldestEnqueuedAt = oldest;
    addPixelStats(result, pixelId, pixel);
  }
  return result;
};
