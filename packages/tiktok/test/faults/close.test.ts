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

// Case d: an app that opted into installShutdownHooks gets SIGTERM while TikTok's stream waits
// out a pause TikTok asked for (Retry-After). The hooks' close() must deliver every event of both
// streams when the pause ends within its budget, or count every one it could not deliver, and the
// process must still die of SIGTERM (143).

const mockOf = useFaultMock();

const N = 50;
const OPTIONS = {
  flushIntervalMs: 50,
  timeoutMs: 5000,
  retry: { baseDelayMs: 100, maxDelayMs: 400 },
};

describe('d. SIGTERM during TikTok’s retry pause', { timeout: CASE_TIMEOUT_MS }, () => {
  it('503 with Retry-After: 1, hooks’ budget 5 s: every event of both streams delivered, then death by SIGTERM (143)', async () => {
    const { mock } = mockOf();
    mock.tiktok.failNext({ kind: 'http', status: 503, body: 'tiktok', retryAfterSeconds: 1 });
    let signalled = false;
    const run = await runChild('sigterm.mjs', mock, {
      config: { count: N, options: OPTIONS, shutdownTimeoutMs: 5000 },
      onLine: (line, child) => {
        // TikTok's first retry line: its stream is now in its one-second pause.
        if (line.type === 'retry' && line.stream === STREAM && !signalled) {
          signalled = true;
          child.kill('SIGTERM');
        }
      },
    });
    expect(signalled, 'TikTok’s stream never reported a retry').toBe(true);
    const result = assertAccounted(mock, run);
    printFigures(
      'd. SIGTERM in a Retry-After 1 pause, hooks 5 s',
      mock,
      result,
      `closeMs ${result.closeMs}`,
    );
    expect(run.signal).toBe('SIGTERM');
    expect(run.status).toBe(143);
    assertMetaUnaffected(mock, result);
    expect(result.stats.pixels[STREAM]).toMatchObject({ sent: N, queued: 0, inFlight: 0 });
    expect(result.streams[STREAM]?.dropped).toEqual({});
    expect(result.streams[STREAM]?.retries.map((r) => r.delayMs)).toEqual([1000]);
    expect(mock.tiktok.duplicates()).toEqual([]);
    // The pause TikTok asked for was waited out, not cut short by the signal.
    const [refused, retried] = mock.tiktok.requests();
    expect((retried?.receivedAt ?? 0) - (refused?.receivedAt ?? 0)).toBeGreaterThanOrEqual(950);
  });

  it('code 40100 with Retry-After: 120, hooks’ budget 1.5 s: Meta’s all delivered, TikTok’s all counted as shutdown and handed to onUndeliverable, 143', async () => {
    const { mock } = mockOf();
    mock.tiktok.failNext({ kind: 'tiktok', code: 40100, retryAfterSeconds: 120 });
    let signalled = false;
    const run = await runChild('sigterm.mjs', mock, {
      config: { count: N, options: OPTIONS, shutdownTimeoutMs: 1500 },
      onLine: (line, child) => {
        if (line.type === 'retry' && line.stream === STREAM && !signalled) {
          signalled = true;
          child.kill('SIGTERM');
        }
      },
    });
    expect(signalled, 'TikTok’s stream never reported a retry').toBe(true);
    const result = assertAccounted(mock, run);
    printFigures(
      'd. SIGTERM in a Retry-After 120 pause, hooks 1.5 s',
      mock,
      result,
      `closeMs ${result.closeMs}`,
    );
    expect(run.signal).toBe('SIGTERM');
    expect(run.status).toBe(143);
    assertMetaUnaffected(mock, result);
    expect(result.streams[STREAM]?.retries.map((r) => [r.reason, r.delayMs])).toEqual([
      ['throttled', 120_000],
    ]);
    expect(mock.tiktok.requests()).toHaveLength(1);
    expect(result.streams[STREAM]?.dropped.shutdown?.length).toBe(N);
    expect(result.streams[STREAM]?.undeliverable.shutdown?.length).toBe(N);
  });
});
