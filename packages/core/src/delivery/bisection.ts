import type { OutboxRecord } from './outbox/types.js';
import type { Part } from './slots.js';
import type { Verdict } from './verdict.js';

// How a rejected batch is taken apart (`splitRejected`), and its parts waiting for requests of
// their own (`SuspectParts`). What a rejection does to the records (the named event dead-lettered,
// the parts counted back as queued) is answer-handling.ts's; when a part goes out is the pipe's.

/**
 * A platform rejects a whole batch for one invalid event (TikTok too, [BATCH] in @capi-kit/tiktok).
 * Meta ([UA]: "If any event you send in a batch is
 * invalid, we reject the entire batch"). Take it apart, each part sent in its own slot:
 * - Meta named the event (`$['data'][i]…` in its message, or `error_data.blame_field_specs`
 *   starting `["data", i, …]`): dead-letter it with Meta's message,
 *   and send the events before it (which passed) and the two halves of those after it. With k
 *   named bad events this costs at most 3k requests after the original, never more than n.
 * - Meta named none (or a 413, which blames no event): send both halves. Every request of a
 *   batch of n then covers a node of a binary tree over it: at most 2n − 1 requests in all, about
 *   2k·log2(n/k) for k bad events, and a one-off glitch (both halves pass) blames no one.
 * A single event is dead-lettered only when it failed in a request of its own, or Meta named it.
 * Returns the index Meta named, if any, and the parts to send (some may be empty).
 */
export const splitRejected = (
  records: OutboxRecord[],
  verdict: Verdict,
): { named: number | undefined; parts: OutboxRecord[][] } => {
  // The destination's classifier names the event when the platform does (Meta: not for a 413).
  const index = verdict.rejectedIndex;
  const named = index !== undefined && index >= 0 && index < records.length ? index : undefined;
  let parts: OutboxRecord[][];
  if (named === undefined) {
    const mid = Math.ceil(records.length / 2);
    parts = [records.slice(0, mid), records.slice(mid)];
  } else {
    const after = records.slice(named + 1);
    const mid = Math.ceil(after.length / 2);
    parts = [records.slice(0, named), after.slice(0, mid), after.slice(mid)];
  }
  return { named, parts };
};

/**
 * Parts of rejected batches waiting to be sent on their own. Their records stay leased in the
 * outbox and count as `queued`; they go out before anything new is claimed, each in its own slot,
 * so a poisoned batch is taken apart at full concurrency.
 */
export class SuspectParts {
  private readonly parts: Part[] = [];

  /** A part of a rejected batch, with the batch's lease, waits for its own request. */
  add(part: Part): void {
    this.parts.push(part);
  }

  /**
   * The next part to send, at most `maxEvents` of it: while the stream probes, a part goes out one
   * probe at a time too, the rest waiting at the front with the same lease.
   */
  next(maxEvents: number): Part | undefined {
    const waiting = this.parts.shift();
    if (waiting === undefined || waiting.records.length <= maxEvents) return waiting;
    const { records, leaseUntil } = waiting;
    this.parts.unshift({ records: records.slice(maxEvents), leaseUntil });
    return { records: records.slice(0, maxEvents), leaseUntil };
  }

  /** The pipe stopped: the parts' records are left to the shutdown's sweep or the lease's expiry. */
  clear(): void {
    this.parts.length = 0;
  }
}
