import { type ClaimOptions, findLeased, type LedgerEntry, type OutboxRecord } from '@capi-kit/core';
import { assertOpen, memoryHeld, type OutboxState } from './outbox-state.js';
import { FreshRows, type PixelState } from './pixel-state.js';
import type { OutboxRow } from './schema.js';
import { insertDeadRow, persistRetry } from './statements.js';
import type { Writer } from './writer.js';

// Claims and leases: what the engine takes to send, and how it comes back (given back for a
// retry, acknowledged, dead-lettered). Leases live in this process only (the file is opened by one
// process at a time): a claim is an indexed read and no write, and at the next open every lease
// of a dead process is void, so its in-flight records are simply waiting again.

const readFresh =
  (s: OutboxState) =>
  (pixelId: string, cursor: number, limit: number): OutboxRow[] =>
    s.stmt.fresh.all(pixelId, cursor, limit);

/**
 * Leases up to `limit` ready records, memory's first (the ones a crash or close() would lose),
 * then the file's, oldest first per pixel; commits what is buffered before (what goes on the wire
 * must be on disk first).
 */
export const claimRecords = (
  s: OutboxState,
  writer: Writer,
  limit: number,
  leaseMs: number,
  claimOptions: ClaimOptions = {},
): OutboxRecord[] => {
  assertOpen(s);
  const now = claimOptions.now ?? Date.now();
  s.engineNow = now;
  // What is claimed from the file goes on the wire: it must be on disk first. While writes
  // fail this only retries them (at most every writeRetryMs) and never throws.
  writer.commit();
  const all = claimOptions.all === true;
  const maxClaimBytes = claimOptions.maxBytes ?? Number.POSITIVE_INFINITY;
  const out: OutboxRecord[] = [];
  let bytes = 0;
  if (memoryHeld(s) > 0) {
    // Memory first: these are the records a crash or close() would lose.
    const memoryOptions: ClaimOptions = { now, all, maxBytes: maxClaimBytes };
    if (claimOptions.pixelId !== undefined) memoryOptions.pixelId = claimOptions.pixelId;
    for (const rec of s.memory.claim(limit, leaseMs, memoryOptions)) {
      out.push(rec);
      bytes += rec.bytes + 1;
    }
    if (out.length >= limit || (out.length > 0 && bytes >= maxClaimBytes)) return out;
  }
  const targets =
    claimOptions.pixelId === undefined
      ? [...s.pixels]
      : s.pixels.has(claimOptions.pixelId)
        ? [[claimOptions.pixelId, s.pixels.get(claimOptions.pixelId) as PixelState] as const]
        : [];
  try {
    for (const [, state] of targets) {
      if (out.length >= limit) break;
      state.expireLeases(now);
      state.evictAhead = [];
      bytes += state.claim(
        new FreshRows(state, readFresh(s)),
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
    writer.storageFailed(error);
  }
  return out;
};

/** Records given back (nack/release); returns the ids that are not the file's (memory's). */
export const giveBack = (
  s: OutboxState,
  writer: Writer,
  ids: readonly string[],
  update: (rec: OutboxRecord) => OutboxRecord,
): string[] => {
  const back: [PixelState, LedgerEntry, OutboxRecord][] = [];
  const others: string[] = [];
  for (const id of ids) {
    const found = findLeased(s.pixels.values(), id);
    if (found) back.push([found[0], found[1], update(found[1].rec)]);
    else others.push(id);
  }
  if (back.length > 0) {
    writer.writeNowOrLater(
      () =>
        s.db.transaction(() => {
          for (const [, entry, rec] of back) persistRetry(s.stmt, entry.seq, rec);
        })(),
      () => {
        for (const [, entry, rec] of back) s.pendingUpdates.set(entry.seq, rec);
      },
    );
    for (const [state, entry, rec] of back) state.giveBack(entry, rec);
  }
  return others;
};

/** Records leaving the file (ack, or dead letter with `dead`); returns how many, and the ids that are not the file's. */
export const removeLeased = (
  s: OutboxState,
  writer: Writer,
  ids: readonly string[],
  dead?: { error: string; deadAt: number },
): { removed: number; others: string[] } => {
  const gone: [PixelState, LedgerEntry][] = [];
  const others: string[] = [];
  for (const id of ids) {
    const found = findLeased(s.pixels.values(), id);
    if (found) gone.push(found);
    else others.push(id);
  }
  if (gone.length === 0) return { removed: 0, others };
  writer.writeNowOrLater(
    () => {
      s.db.transaction(() => {
        for (const [, entry] of gone) {
          if (dead) insertDeadRow(s.stmt, { seq: entry.seq, rec: entry.rec, ...dead });
          s.stmt.delete.run(entry.seq);
        }
        if (dead && s.deadLetterRows + gone.length > s.opts.maxDeadLetters) {
          s.stmt.deadTrim.run(s.deadLetterRows + gone.length - s.opts.maxDeadLetters);
        }
      })();
      if (dead) s.deadLetterRows = Math.min(s.opts.maxDeadLetters, s.deadLetterRows + gone.length);
    },
    () => {
      for (const [, entry] of gone) {
        s.pendingUpdates.delete(entry.seq);
        if (dead) s.pendingDead.push({ seq: entry.seq, rec: entry.rec, ...dead });
        else s.pendingDeletes.push(entry.seq);
      }
    },
  );
  for (const [state, entry] of gone) state.remove(entry);
  return { removed: gone.length, others };
};
