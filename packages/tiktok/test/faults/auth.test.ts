import { describe, expect, it } from 'vitest';
import {
  assertAccounted,
  assertMetaUnaffected,
  CASE_TIMEOUT_MS,
  type ChildResult,
  PIXEL,
  printFigures,
  recoverWhen,
  runChild,
  STREAM,
  type StreamStats,
  useFaultMock,
} from './harness.js';

// Case b: TikTok refuses the access token (code 40105). TikTok's circuit opens, TikTok's alone:
// Meta keeps sending (a second wave is tracked while the circuit is open and reaches Meta), and
// TikTok's events are kept, not retried in a loop and not lost: they are delivered once the
// circuit closes (its probe, or resume()), or counted as dropped at shutdown when it never does.

const mockOf = useFaultMock();

const N = 25;
const OPTIONS = { flushIntervalMs: 20, timeoutMs: 5000 };

const snapshotOf = (result: ChildResult) =>
  result.snapshot as Record<string, StreamStats> | undefined;

describe('b. TikTok refuses the credentials', { timeout: CASE_TIMEOUT_MS }, () => {
  it('for good: one request, TikTok’s circuit open, Meta gets both waves, close() counts TikTok’s 2n as shutdown', async () => {
    const { mock } = mockOf();
    mock.tiktok.outage('auth');
    const run = await runChild('auth.mjs', mock, {
      config: { count: N, mode: 'close', options: OPTIONS, closeTimeoutMs: 1000 },
    });
    const result = assertAccounted(mock, run);
    printFigures('b. auth for good, close()', mock, result, `closeMs ${result.closeMs}`);
    expect(run.status, run.stderr).toBe(0);
    expect(result.opened, 'TikTok’s stream never reported the auth error').toBe(true);
    expect(
      result.metaHasBoth,
      'Meta did not get the wave tracked while TikTok’s circuit was open',
    ).toBe(true);
    assertMetaUnaffected(mock, result);
    // While the circuit was open: Meta had both waves, TikTok kept both queued.
    const snapshot = snapshotOf(result);
    expect(snapshot?.[STREAM]).toMatchObject({ state: 'circuit_open', queued: 2 * N, sent: 0 });
    expect(snapshot?.[PIXEL]).toMatchObject({ state: 'open', sent: 2 * N, queued: 0 });
    // One refused request, no loop against a token that does not work.
    expect(mock.tiktok.requests().map((r) => r.code)).toEqual([40105]);
    expect(result.streams[STREAM]?.errors).toEqual({ auth: 1 });
    expect(result.streams[STREAM]?.retries).toEqual([]);
    expect(result.streams[STREAM]?.dropped.shutdown?.length).toBe(2 * N);
    expect(Object.keys(result.streams[STREAM]?.undeliverable ?? {})).toEqual(['shutdown']);
    // The hook's message names TikTok and the stream, never a token (assertAccounted checked the output).
    expect(run.lines.find((l) => l.type === 'error' && l.stream === STREAM)?.message).toMatch(
      /TikTok/,
    );
  });

  it('code 40100 whose message names the token: TikTok’s circuit opens as for 40105, not a throttle retried until dead-lettered', async () => {
    const { mock } = mockOf();
    // Third-party pages read 40100 as an invalid token (classify.ts); TikTok's message decides.
    mock.tiktok.outage({
      kind: 'tiktok',
      code: 40100,
      message: 'Access token is invalid or has expired',
    });
    const run = await runChild('auth.mjs', mock, {
      config: { count: N, mode: 'close', options: OPTIONS, closeTimeoutMs: 1000 },
    });
    const result = assertAccounted(mock, run);
    printFigures('b. 40100 naming the token, close()', mock, result, `closeMs ${result.closeMs}`);
    expect(run.status, run.stderr).toBe(0);
    expect(result.opened, 'TikTok’s stream never reported the auth error').toBe(true);
    assertMetaUnaffected(mock, result);
    expect(mock.tiktok.requests().map((r) => r.code)).toEqual([40100]);
    expect(result.streams[STREAM]?.errors).toEqual({ auth: 1 });
    expect(result.streams[STREAM]?.retries).toEqual([]);
    expect(result.streams[STREAM]?.dropped.shutdown?.length).toBe(2 * N);
  });

  it('until it is fixed: probes every 300 ms fail until Meta has both waves, then one succeeds and TikTok gets all 2n', async () => {
    const state = mockOf();
    const { mock } = state;
    mock.tiktok.outage('auth');
    const gate = recoverWhen(state, {
      metaEvents: 2 * N,
      times: 1,
      faulted: () => mock.tiktok.rejections().length,
      recover: () => mock.tiktok.recover(),
    });
    const run = await runChild('auth.mjs', mock, {
      config: {
        count: N,
        mode: 'probe',
        options: { ...OPTIONS, retry: { authProbeIntervalMs: 300 } },
      },
    });
    const result = assertAccounted(mock, run);
    printFigures('b. auth until fixed, probe', mock, result, `closeMs ${result.closeMs}`);
    expect(run.status, run.stderr).toBe(0);
    assertMetaUnaffected(mock, result);
    const at = gate.recoveredAt();
    expect(at, 'TikTok never recovered: Meta did not get both waves').toBeDefined();
    expect(mock.events({ pixelId: PIXEL }).every((e) => e.receivedAt <= (at ?? 0))).toBe(true);
    expect(result.stats.pixels[STREAM]).toMatchObject({ sent: 2 * N, queued: 0, state: 'open' });
    expect(mock.tiktok.duplicates()).toEqual([]);
    // An open circuit sends nothing until its probe: refused requests are ≥ 300 ms apart.
    const requests = mock.tiktok.requests();
    const refused = requests.filter((r) => r.code === 40105);
    expect(refused.length).toBeGreaterThanOrEqual(1);
    for (const [i, r] of requests.entries()) {
      const next = requests[i + 1];
      if (r.code === 40105 && next) {
        expect(
          next.receivedAt - r.receivedAt,
          'a request while the circuit was open',
        ).toBeGreaterThanOrEqual(290);
      }
    }
  });

  it('resume() after the token is fixed: TikTok gets all 2n at once', async () => {
    const { mock } = mockOf();
    mock.tiktok.failNext('auth');
    const run = await runChild('auth.mjs', mock, {
      config: { count: N, mode: 'resume', options: OPTIONS },
    });
    const result = assertAccounted(mock, run);
    printFigures('b. auth, resume()', mock, result, `closeMs ${result.closeMs}`);
    expect(run.status, run.stderr).toBe(0);
    assertMetaUnaffected(mock, result);
    // The probe is ten minutes away (the default): only resume() can have closed the circuit.
    expect(snapshotOf(result)?.[STREAM]).toMatchObject({ state: 'circuit_open', queued: 2 * N });
    expect(result.stats.pixels[STREAM]).toMatchObject({ sent: 2 * N, queued: 0, state: 'open' });
    expect(mock.tiktok.requests()[0]?.code).toBe(40105);
    expect(mock.tiktok.duplicates()).toEqual([]);
  });
});
