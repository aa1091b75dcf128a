import { type MockFaultInput, type MockGraph, startMockGraph } from '@capi-kit/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  assertAccounted,
  CASE_TIMEOUT_MS,
  PIXEL,
  printFigures,
  runChild,
  useFaultMock,
} from './harness.js';

// Case d: every kind of answer that is not Meta's acknowledgement, three times in a row, then the
// mock recovers. Nothing may be lost, nothing dead-lettered (none of these says anything about an
// event), and the events count as sent only once the real acknowledgement arrived: each faulted
// answer shows up in the child as a retry, and the client's `sent` matches the mock's records.

const mockOf = useFaultMock();
let other: MockGraph;
beforeEach(async () => {
  other = await startMockGraph();
});
afterEach(() => other.close());

const RETRY = { baseDelayMs: 50, maxDelayMs: 200, throttleBaseDelayMs: 100 };
// A short request deadline only where the mock hangs: elsewhere a loaded machine could make an
// answered request time out, which would (rightly) show up as a duplicate.
const timeoutFor = (name: string) => (name.startsWith('hang') ? 500 : 5000);
const TIMES = 3;

interface AnswerCase {
  name: string;
  fault: (other: MockGraph) => MockFaultInput;
  /** The HTTP status the child sees (0: no answer). */
  status: number;
}

const CASES: AnswerCase[] = [
  { name: '500 (Graph code 2)', fault: () => 500, status: 500 },
  { name: '503 (HTML page)', fault: () => 503, status: 503 },
  { name: '429 (Graph code 4)', fault: () => 429, status: 429 },
  { name: 'hang (client timeout 500 ms)', fault: () => 'hang', status: 0 },
  { name: 'HTML 200', fault: () => ({ kind: 'non-meta-2xx', body: 'html' }), status: 200 },
  { name: 'empty 200', fault: () => ({ kind: 'non-meta-2xx', body: 'empty' }), status: 200 },
  {
    name: 'truncated 200',
    fault: () => ({ kind: 'non-meta-2xx', body: 'truncated' }),
    status: 200,
  },
  { name: '{} 200', fault: () => ({ kind: 'non-meta-2xx', body: 'empty-object' }), status: 200 },
  { name: 'short events_received', fault: () => ({ kind: 'short-ack' }), status: 200 },
  {
    name: '302 to another origin',
    fault: (to) => ({ kind: 'redirect', status: 302, location: to.eventsUrl(PIXEL) }),
    status: 302,
  },
  {
    name: '307 to another origin',
    fault: (to) => ({ kind: 'redirect', status: 307, location: to.eventsUrl(PIXEL) }),
    status: 307,
  },
  {
    name: '2635 deprecated version (HTTP 400)',
    fault: () => ({ kind: 'graph', code: 2635 }),
    status: 400,
  },
  { name: 'HTML 400', fault: () => 400, status: 400 },
];

describe('d. answers that are not Meta’s acknowledgement, then recovery', {
  timeout: CASE_TIMEOUT_MS,
}, () => {
  it.each(CASES)(
    '$name ×3: nothing lost, sent only on Meta’s answer',
    async ({ name, fault, status }) => {
      mockOf().failNext(fault(other), TIMES);
      const run = await runChild('track-and-close.mjs', mockOf(), {
        config: {
          count: 50,
          options: { retry: RETRY, timeoutMs: timeoutFor(name) },
          closeTimeoutMs: 15_000,
        },
      });
      const f = assertAccounted(mockOf(), run);
      printFigures(`d. ${name} ×${TIMES}`, f);
      expect(run.status, run.stderr).toBe(0);
      expect(f.delivered).toBe(50);
      expect(f.dropped).toEqual({});
      expect(run.result?.deadLetter).toEqual({});
      expect(mockOf().pendingFaults()).toBe(0);
      // Each faulted answer was a failure to the client, with the status it saw, before any success.
      expect(run.result?.retries.slice(0, TIMES).map((r) => r.status)).toEqual(
        Array(TIMES).fill(status),
      );
      const requests = mockOf().requests();
      expect(requests.slice(0, TIMES).every((r) => r.fault !== undefined)).toBe(true);
      expect(requests.length).toBeGreaterThan(TIMES);
      // The token travels in the body: a followed redirect would have carried it to the other origin.
      expect(other.requests()).toEqual([]);
      if (name.startsWith('short')) {
        // Only the events the short answers acknowledged can arrive twice (a retry of the batch).
        const acknowledged = requests
          .filter((r) => r.fault === 'short-ack')
          .reduce(
            (n, r) =>
              n +
              (JSON.parse(r.responseBody ?? '{}') as { events_received: number }).events_received,
            0,
          );
        expect(f.duplicated).toBeLessThanOrEqual(acknowledged);
      } else if (!name.startsWith('hang')) {
        // (After a hang, a request that outlives a 500 ms timeout on a loaded machine may land twice.)
        expect(f.duplicated).toBe(0);
      }
    },
  );
});
