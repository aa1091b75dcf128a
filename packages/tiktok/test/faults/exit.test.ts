import { describe, expect, it } from 'vitest';
import {
  assertAccounted,
  assertMetaUnaffected,
  CASE_TIMEOUT_MS,
  PIXEL,
  printFigures,
  runChild,
  STREAM,
  type StreamStats,
  useFaultMock,
} from './harness.js';

// Case e: a script whose process simply runs out of work (no close() in its flow, no signal)
// while TikTok is down (every connection reset). The client's timers never hold a process open,
// so the loop empties during TikTok's backoff and Node emits `beforeExit`: the one place left to
// close() the client. Meta's events went out during the script's own work; TikTok's must then be
// delivered by that close() (when TikTok is back) or counted and handed to onUndeliverable.

const mockOf = useFaultMock();

const N = 50;
const OPTIONS = {
  flushIntervalMs: 20,
  timeoutMs: 5000,
  retry: { baseDelayMs: 200, maxDelayMs: 400, maxAttempts: 50 },
};

const beforeExitStats = (lines: { type: string; [key: string]: unknown }[]) =>
  lines.find((l) => l.type === 'beforeExit')?.stats as Record<string, StreamStats> | undefined;

describe('e. the process ends on its own with TikTok down', { timeout: CASE_TIMEOUT_MS }, () => {
  it('close() from beforeExit, TikTok still down: Meta’s all delivered before the end, TikTok’s all counted as shutdown, exit 0', async () => {
    const { mock } = mockOf();
    mock.tiktok.outage('reset');
    const run = await runChild('before-exit.mjs', mock, {
      config: { count: N, options: OPTIONS, handler: 'close', closeTimeoutMs: 1500 },
    });
    const result = assertAccounted(mock, run);
    printFigures(
      'e. beforeExit → close(1.5 s), TikTok down',
      mock,
      result,
      `closeMs ${result.closeMs}`,
    );
    expect(run.status, run.stderr).toBe(0);
    expect(result.afterClose).toBe(true);
    assertMetaUnaffected(mock, result);
    // When the loop emptied, Meta had everything and TikTok kept everything (failing, in backoff).
    const atEnd = beforeExitStats(run.lines);
    expect(atEnd?.[PIXEL]).toMatchObject({ sent: N, queued: 0, inFlight: 0 });
    expect(atEnd?.[STREAM]).toMatchObject({ sent: 0, queued: N, inFlight: 0 });
    expect(atEnd?.[STREAM]?.retried).toBeGreaterThan(0);
    expect(mock.tiktok.events()).toEqual([]);
    expect(result.streams[STREAM]?.dropped.shutdown?.length).toBe(N);
    expect(result.streams[STREAM]?.undeliverable.shutdown?.length).toBe(N);
  });

  it('close() from beforeExit, TikTok back by then: every event of both streams delivered, once, exit 0', async () => {
    const { mock } = mockOf();
    mock.tiktok.outage('reset');
    const run = await runChild('before-exit.mjs', mock, {
      config: { count: N, options: OPTIONS, handler: 'close' },
      onLine: (line) => {
        if (line.type === 'beforeExit') mock.tiktok.recover();
      },
    });
    const result = assertAccounted(mock, run);
    printFigures(
      'e. beforeExit → close(5 s), TikTok back',
      mock,
      result,
      `closeMs ${result.closeMs}`,
    );
    expect(run.status, run.stderr).toBe(0);
    assertMetaUnaffected(mock, result);
    expect(beforeExitStats(run.lines)?.[STREAM]).toMatchObject({ sent: 0, queued: N });
    expect(result.stats.pixels[STREAM]).toMatchObject({ sent: N, queued: 0, inFlight: 0 });
    expect(result.streams[STREAM]?.dropped).toEqual({});
    expect(mock.tiktok.duplicates()).toEqual([]);
  });

  it("no listener at all: the core closes the client at beforeExit (closeOnExit), TikTok's events counted as shutdown and reported", async () => {
    // What the core does for a script that never calls close(): Node's beforeExit closes every
    // client with events pending (closeOnExit, 2000 ms by default). TikTok is still down, so its
    // events are counted as dropped at shutdown and handed to onUndeliverable, never left queued.
    const { mock } = mockOf();
    mock.tiktok.outage('reset');
    const run = await runChild('before-exit.mjs', mock, {
      config: { count: N, options: OPTIONS, handler: 'none' },
    });
    const result = assertAccounted(mock, run);
    printFigures('e. no beforeExit listener, TikTok down, closeOnExit', mock, result);
    expect(run.status, run.stderr).toBe(0);
    expect(result.atExit).toBe(true);
    assertMetaUnaffected(mock, result);
    expect(mock.tiktok.events()).toEqual([]);
    expect(result.stats.pixels[STREAM]).toMatchObject({ queued: 0, inFlight: 0 });
    expect(result.stats.pixels[STREAM]?.dropped.shutdown).toBe(N);
    expect(result.streams[STREAM]?.undeliverable.shutdown).toHaveLength(N);
  });
});
