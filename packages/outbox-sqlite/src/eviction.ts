import type { LedgerEntry, OutboxRecord } from '@capi-kit/core';
import { type OutboxState, stateFor } from './outbox-state.js';
import { entryOf, type PixelState } from './pixel-state.js';

// Drop-oldest: beyond `maxEvents`/`maxBytes` a pixel loses its oldest waiting records (fresher
// conversions are worth more, and Meta refuses events older than 7 days anyway), whether they
// were given back, are in the file or still wait for the group commit; in-flight ones stay.

const EVICT_READ_AHEAD = 256;

const nextFresh = (s: OutboxState, state: PixelState): LedgerEntry | undefined => {
  while (state.evictAhead.length > 0 && (state.evictAhead[0] as LedgerEntry).seq <= state.cursor) {
    state.evictAhead.shift();
  }
  if (state.evictAhead.length === 0 && state.count - state.bufferedLength() > 0) {
    // Evictions advance the cursor past what they remove, so these rows are all still waiting.
    state.evictAhead = s.stmt.fresh.all(state.pixelId, state.cursor, EVICT_READ_AHEAD).map(entryOf);
  }
  return state.evictAhead[0];
};

/**
 * Records an `append` may drop beyond those it adds. Within its bounds, a pixel drops at most what
 * an append adds; far past them (a restart with a lower `maxEvents` or `maxBytes` than the file
 * holds), dropping the excess at once would hold the app's request that tracked the event (200,000
 * records: half a second; a million: seconds). Each append takes off this much more instead, and
 * the excess, already on disk, goes over the following appends (oldest first, as claims send it).
 */
export const EVICT_CATCH_UP = EVICT_READ_AHEAD;

/**
 * Drops the pixel's oldest waiting records until it is within the bounds, or `limit` records are
 * dropped; adds them to `evicted`.
 */
export const evictOver = (
  s: OutboxState,
  state: PixelState,
  evicted: OutboxRecord[],
  limit = Number.POSITIVE_INFINITY,
): void => {
  const { maxEvents, maxBytes } = s.opts;
  for (let dropped = 0; dropped < limit && (state.count > maxEvents || state.bytes > maxBytes); ) {
    const returned = state.returned[0];
    const fresh = nextFresh(s, state);
    const buffered = state.buffered[state.head];
    let victim: LedgerEntry | undefined;
    if (returned && (!fresh || returned.seq < fresh.seq)) {
      victim = state.returned.shift();
      s.pendingDeletes.push(returned.seq);
    } else if (fresh) {
      victim = state.evictAhead.shift();
      state.cursor = fresh.seq;
      s.pendingDeletes.push(fresh.seq);
    } else if (buffered) {
      victim = buffered;
      state.buffered[state.head] = undefined as unknown as LedgerEntry;
      state.head++;
      s.pendingCount--;
    }
    if (!victim) return; // everything left is in flight: nothing we may drop
    state.count--;
    state.bytes -= victim.rec.bytes;
    s.evictedTotal++;
    evicted.push(victim.rec);
    dropped++;
  }
};

/**
 * Records just written to the file outside `append` (moved back from memory, retried dead
 * letters) join their pixels' counts; a pixel now over its bounds drops its oldest. Returns what
 * was dropped.
 */
export const countWritten = (s: OutboxState, records: readonly OutboxRecord[]): OutboxRecord[] => {
  const touched = new Set<PixelState>();
  for (const rec of records) {
    const state = stateFor(s, rec.pixelId);
    state.count++;
    state.bytes += rec.bytes;
    touched.add(state);
  }
  const evicted: OutboxRecord[] = [];
  for (const state of touched) evictOver(s, state, evicted);
  return evicted;
};
