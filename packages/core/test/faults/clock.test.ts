import { describe, expect, it } from 'vitest';
import {
  assertAccounted,
  CASE_TIMEOUT_MS,
  printFigures,
  runChild,
  useFaultMock,
} from './harness.js';

// Case f: the child's wall clock (Date.now) is stepped ten minutes back or forward during a 0.5 s
// backoff, right after the first failure. Scheduled on the wall clock, the retry would wait ten
// minutes (back: close() would then drop everything at its deadline) or come at once (forward).

const mockOf = useFaultMock();

const TEN_MINUTES = 10 * 60_000;

describe('f. a wall clock stepped during a backoff', { timeout: CASE_TIMEOUT_MS }, () => {
  it.each([
    ['back', -TEN_MINUTES],
    ['forward', TEN_MINUTES],
  ])(
    'stepped %s 10 minutes: the retry comes after the 0.5 s backoff, close() delivers everything',
    async (direction, step) => {
      mockOf().failNext(503);
      const run = await runChild('stepped-clock.mjs', mockOf(), {
        config: {
          count: 20,
          // random() = 0.5 in the script: the first backoff is 0.5 × 1000 ms.
          options: { retry: { baseDelayMs: 1000, maxDelayMs: 1000 } },
          closeTimeoutMs: 5000,
        },
        env: { FAULT_STEP_MS: String(step) },
      });
      const f = assertAccounted(mockOf(), run);
      const [failed, retried] = mockOf().requests();
      const gap = (retried?.receivedAt ?? 0) - (failed?.receivedAt ?? 0);
      printFigures(
        `f. wall clock stepped ${direction} 10 min in a 0.5 s backoff`,
        f,
        `retry after ${gap} ms, closeMs ${run.result?.closeMs}`,
      );
      expect(run.status, run.stderr).toBe(0);
      expect(run.result?.stepped).toBe(true);
      expect(run.result?.retries.map((r) => r.delayMs)).toEqual([500]);
      expect(f.delivered).toBe(20);
      expect(f.dropped).toEqual({});
      expect(f.duplicated).toBe(0);
      // Not cut short by a forward step (the mock's own clock is not stepped).
      expect(gap).toBeGreaterThanOrEqual(450);
    },
  );
});
