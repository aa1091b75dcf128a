import { describe, expect, it } from 'vitest';
import {
  assertAccounted,
  CASE_TIMEOUT_MS,
  printFigures,
  runChild,
  useFaultMock,
} from './harness.js';

// Case e: Meta rejects a whole batch for one invalid event and names it ($['data'][i]). The mock
// refuses every event whose id starts with `bad-`; the client must deliver every good event,
// dead-letter every bad one as `rejected`, and isolate them within a bounded number of requests.

const mockOf = useFaultMock((mock) =>
  mock.rejectEvents((event) => event.event_id?.startsWith('bad-') ?? false),
);

const N = 1000;

const run = async (badEvery: number) => {
  const child = await runChild('track-and-close.mjs', mockOf(), {
    config: {
      count: N,
      badEvery,
      options: { retry: { baseDelayMs: 50, maxDelayMs: 200 } },
      closeTimeoutMs: 60_000,
    },
    timeoutMs: 90_000,
  });
  const f = assertAccounted(mockOf(), child);
  expect(child.status, child.stderr).toBe(0);
  const ids = (prefix: string) =>
    Array.from({ length: N }, (_, i) => i)
      .filter((i) => (badEvery > 0 && i % badEvery === badEvery - 1) === (prefix === 'bad'))
      .map((i) => `${prefix}-${i}`)
      .sort();
  expect(mockOf().uniqueEventIds().sort(), 'every good event delivered, no bad one').toEqual(
    ids('ok'),
  );
  expect(
    child.result?.deadLetter.rejected?.slice().sort() ?? [],
    'every bad event dead-lettered as rejected',
  ).toEqual(ids('bad'));
  expect(child.result?.deadLetter.max_attempts).toBeUndefined();
  expect(f.dropped).toEqual({});
  expect(f.duplicated).toBe(0);
  return f;
};

describe('e. invalid events in a batch of 1,000', { timeout: 2 * CASE_TIMEOUT_MS }, () => {
  it('10 % invalid: good delivered, bad dead-lettered; requests ≤ 2n − 1 and ≤ 2k·⌈log2(n/k)⌉ + 2', async () => {
    const f = await run(10);
    const k = N / 10;
    const bound = 2 * k * Math.ceil(Math.log2(N / k)) + 2;
    printFigures('e. 10 % invalid of 1,000', f, `bound ${bound}`);
    expect(f.delivered).toBe(N - k);
    expect(f.requests).toBeLessThanOrEqual(2 * N - 1);
    expect(f.requests).toBeLessThanOrEqual(bound);
  });

  it('100 % invalid: nothing delivered, all dead-lettered; requests ≤ 2n − 1', async () => {
    // (With k = n the 2k·⌈log2(n/k)⌉ term is 0: only the tree bound applies.)
    const f = await run(1);
    printFigures('e. 100 % invalid of 1,000', f, `bound ${2 * N - 1}`);
    expect(f.delivered).toBe(0);
    expect(f.requests).toBeLessThanOrEqual(2 * N - 1);
  });
});
