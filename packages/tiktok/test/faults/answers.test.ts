import type { TikTokFaultInput } from '@capi-kit/testing';
import { describe, expect, it } from 'vitest';
import { type Front, type NotTikTok200, startFront } from './front.js';
import {
  assertAccounted,
  assertMetaUnaffected,
  CASE_TIMEOUT_MS,
  PIXEL,
  printFigures,
  recoverWhen,
  runChild,
  STREAM,
  useFaultMock,
} from './harness.js';

// Case a: every kind of answer from TikTok's side that is not TikTok's success, at least three
// times in a row and until Meta has every event, then TikTok recovers. TikTok's copies are all
// delivered, once, and count as sent only on TikTok's own `code: 0`; Meta's stream never notices.

const mockOf = useFaultMock();

const N = 50;
const TIMES = 3;
const RETRY = { baseDelayMs: 50, maxDelayMs: 200, throttleBaseDelayMs: 100, maxAttempts: 50 };

interface AnswerCase {
  name: string;
  /** A fault the mock plays, or a 200 body a front before it answers. */
  fault: TikTokFaultInput | { front: NotTikTok200 };
  /** HTTP status the child sees (0: no answer). */
  status: number;
  /** How TikTok's classifier reads it. */
  reason: 'transient' | 'throttled';
}

const CASES: AnswerCase[] = [
  { name: '500, an edge’s HTML page', fault: 500, status: 500, reason: 'transient' },
  {
    name: '503 with TikTok’s envelope (code 50000)',
    fault: { kind: 'http', status: 503, body: 'tiktok' },
    status: 503,
    reason: 'transient',
  },
  {
    name: 'code 50000 at HTTP 200 (TikTok’s internal error)',
    fault: { kind: 'tiktok', code: 50000 },
    status: 200,
    reason: 'transient',
  },
  { name: 'code 40100 (TikTok’s rate limit)', fault: 'throttle', status: 200, reason: 'throttled' },
  { name: '429 without an envelope', fault: 429, status: 429, reason: 'throttled' },
  { name: 'hang (client timeout 1 s)', fault: 'hang', status: 0, reason: 'transient' },
  { name: 'connection reset', fault: 'reset', status: 0, reason: 'transient' },
  { name: '200 with an HTML page', fault: { front: 'html' }, status: 200, reason: 'transient' },
  { name: '200 with an empty body', fault: { front: 'empty' }, status: 200, reason: 'transient' },
  {
    name: '200 with Meta’s acknowledgement',
    fault: { front: 'meta-ack' },
    status: 200,
    reason: 'transient',
  },
];

describe('a. TikTok answers that are not its success, then recovery', {
  timeout: CASE_TIMEOUT_MS,
}, () => {
  it.each(CASES)(
    '$name ×3+: TikTok gets every event once, sent only on code 0; Meta unaffected',
    async ({ name, fault, status, reason }) => {
      const state = mockOf();
      const { mock } = state;
      const hang = fault === 'hang';
      let front: Front | undefined;
      if (typeof fault === 'object' && 'front' in fault) {
        front = (await startFront(mock.tiktok.url, () => state.onRequest?.())).outage(fault.front);
      } else {
        mock.tiktok.outage(fault);
      }
      const gate = recoverWhen(state, {
        metaEvents: N,
        times: TIMES,
        faulted: () =>
          front ? front.faulted() : mock.tiktok.requests().filter((r) => r.fault).length,
        recover: () => (front ? front.recover() : mock.tiktok.recover()),
      });
      try {
        const run = await runChild('track-and-close.mjs', mock, {
          config: { count: N, options: { retry: RETRY, timeoutMs: hang ? 1000 : 5000 } },
          tiktokUrl: front?.url,
        });
        const result = assertAccounted(mock, run);
        const recoveredAt = gate.recoveredAt();
        printFigures(
          `a. ${name}`,
          mock,
          result,
          `faulted ${front?.faulted() ?? mock.tiktok.rejections().length}`,
        );
        expect(run.status, run.stderr).toBe(0);
        expect(result.afterClose).toBe(true);
        assertMetaUnaffected(mock, result, { timeouts: hang });

        // Meta had everything while TikTok was still failing: the gate lifted TikTok's fault only then.
        expect(recoveredAt, 'TikTok never recovered: Meta did not get its events').toBeDefined();
        const at = recoveredAt ?? 0;
        expect(mock.events({ pixelId: PIXEL }).every((e) => e.receivedAt <= at)).toBe(true);

        // Then TikTok got every event, none lost; each faulted answer was a retry to the client.
        const tt = result.streams[STREAM];
        expect(mock.tiktok.events().length, 'TikTok got everything').toBeGreaterThanOrEqual(N);
        expect(result.stats.pixels[STREAM]?.sent).toBe(N);
        expect(tt?.dropped).toEqual({});
        expect(tt?.deadLetter).toEqual({});
        expect(result.stats.pixels[STREAM]?.state).toBe('open');
        expect(
          tt?.retries.slice(0, TIMES).map((r) => [r.status, r.reason]),
          'each faulted answer was a failure to the client, with the status it saw',
        ).toEqual(Array(TIMES).fill([status, reason]));
        if (front) {
          expect(front.faulted()).toBeGreaterThanOrEqual(TIMES);
          // Nothing answered by the front reached TikTok: every request the mock saw succeeded.
          expect(mock.tiktok.rejections()).toEqual([]);
        } else {
          // The faulted requests come first, then only TikTok's own answers (no fault after the recovery).
          const faulted = mock.tiktok.requests().map((r) => r.fault !== undefined);
          const firstOk = faulted.indexOf(false);
          expect(firstOk).toBeGreaterThanOrEqual(TIMES);
          expect(faulted.slice(firstOk).every((f) => !f)).toBe(true);
        }
        if (!hang) expect(mock.tiktok.duplicates(), 'TikTok got nothing twice').toEqual([]);
        // The token only ever in TikTok's header.
        expect(
          mock.tiktok.requests().every((r) => r.hasAccessToken && !r.tokenInUrl && !r.tokenInBody),
        ).toBe(true);
      } finally {
        await front?.close();
      }
    },
  );
});
