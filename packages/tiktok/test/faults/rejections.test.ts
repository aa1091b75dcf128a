import { describe, expect, it } from 'vitest';
import {
  assertAccounted,
  assertMetaUnaffected,
  CASE_TIMEOUT_MS,
  printFigures,
  runChild,
  STREAM,
  useFaultMock,
} from './harness.js';

// Case c: TikTok refuses a whole batch for one invalid event (code 40002, "invalid parameters")
// and, per its documentation, does not say which one, so the core bisects. The `bad-` events
// carry a `_ttp` cookie of 64 hex digits, which the strict mock refuses as a hashed value where
// TikTok wants it raw; Meta never sees `_ttp`, so Meta takes every event, the bad ones included.
// TikTok must get every good event, dead-letter each bad one as `rejected` (counted, handed to
// onUndeliverable), and find them within a bounded number of requests.
//
// The bound: the core halves a refused batch (bisection.ts), so its requests are nodes of a
// binary tree over the n events, of depth ⌈log2 n⌉. A node is sent only when its parent was
// refused, i.e. held a bad event; at most k nodes of a level hold one, so at most 2k nodes of the
// next level are sent, and never more than the 2^d the level has: Σ_d min(2^d, 2k) requests.
// (The core's suite checks 2k·⌈log2(n/k)⌉ + 2, which its own comment calls "about": it holds for
// its 100 of 1,000, not in general; 20 evenly spread among 200 take 167 requests, over its 162.)
const treeBound = (n: number, k: number): number => {
  let bound = 0;
  for (let d = 0; d <= Math.ceil(Math.log2(n)); d++) bound += Math.min(2 ** d, 2 * k);
  return bound;
};

const mockOf = useFaultMock();

const ids = (n: number, isBad: (i: number) => boolean, prefix: 'ok' | 'bad') =>
  Array.from({ length: n }, (_, i) => i)
    .filter((i) => isBad(i) === (prefix === 'bad'))
    .map((i) => `${prefix}-${i}`)
    .sort();

const run = async (n: number, isBad: (i: number) => boolean, config: Record<string, unknown>) => {
  const { mock } = mockOf();
  const child = await runChild('track-and-close.mjs', mock, {
    config: {
      count: n,
      options: { timeoutMs: 5000, retry: { baseDelayMs: 50, maxDelayMs: 200 } },
      ...config,
    },
  });
  const result = assertAccounted(mock, child);
  expect(child.status, child.stderr).toBe(0);
  assertMetaUnaffected(mock, result);
  expect(
    [...new Set(mock.tiktok.events().map((e) => String(e.event.event_id)))].sort(),
    'every good event delivered to TikTok, no bad one',
  ).toEqual(ids(n, isBad, 'ok'));
  const tt = result.streams[STREAM];
  expect(tt?.deadLetter.rejected?.slice().sort(), 'every bad event dead-lettered').toEqual(
    ids(n, isBad, 'bad'),
  );
  expect(tt?.deadLetter.max_attempts).toBeUndefined();
  expect(tt?.dropped).toEqual({});
  expect(mock.tiktok.duplicates()).toEqual([]);
  // TikTok's mock blamed only bad events, for the hashed-looking `ttp`, with code 40002.
  const blamed = mock.tiktok.rejectedEvents().filter((e) => e.isInvalidOne);
  expect(blamed.every((e) => String(e.event.event_id).startsWith('bad-'))).toBe(true);
  expect(blamed.every((e) => e.invalidEvent.field.endsWith('user.ttp'))).toBe(true);
  expect(mock.tiktok.rejections().every((r) => r.code === 40002)).toBe(true);
  expect(result.messages.some((m) => m.includes('40002'))).toBe(true);
  return { mock, result, requests: mock.tiktok.requests().length };
};

describe('c. TikTok refuses a batch for one invalid event', { timeout: CASE_TIMEOUT_MS }, () => {
  it('1 bad of 100: bisection isolates it, 99 delivered, 1 dead-lettered; requests ≤ 2⌈log2 n⌉ + 1', async () => {
    const n = 100;
    const { mock, result, requests } = await run(n, (i) => i === 37, { bad: [37] });
    const bound = treeBound(n, 1);
    expect(bound).toBe(2 * Math.ceil(Math.log2(n)) + 1);
    printFigures('c. 1 invalid of 100', mock, result, `bound ${bound}`);
    expect(requests).toBeLessThanOrEqual(bound);
  });

  it('10 % of 200: 180 delivered, 20 dead-lettered; requests ≤ 2n − 1 and ≤ Σ_d min(2^d, 2k)', async () => {
    const n = 200;
    const k = 20;
    const { mock, result, requests } = await run(n, (i) => i % 10 === 9, { badEvery: 10 });
    const bound = treeBound(n, k);
    printFigures('c. 10 % invalid of 200', mock, result, `bound ${bound}`);
    expect(requests).toBeLessThanOrEqual(2 * n - 1);
    expect(requests).toBeLessThanOrEqual(bound);
  });
});
