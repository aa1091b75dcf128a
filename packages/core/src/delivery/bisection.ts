import type { OutboxRecord } from './outbox/types.js';
import type { Verdict } from './verdict.js';

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
