import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CASE_TIMEOUT_MS, PIXEL, runChild, useFaultMock } from './harness.js';

// Case i: a durable outbox answering asynchronously (a database) holds a previous run's records,
// and its start-up stats() is slow, or refused twice first (a database still starting). The script
// tracks at once, before the count is known, and simply ends. Every call of the engine's waits for
// the count: before, an append landing first was counted twice, and a refused stats() left the
// previous run's records uncounted, so claiming them drove queued below zero and this run's own
// events stayed unsent (test/delivery/outbox-host.test.ts has both at the unit level).
//
// i1 also found that such a script never ended once everything was sent: `closeOnExit` checked
// for pending events with client.stats(), which asks an async outbox for its figures; that query
// kept the process alive, so `beforeExit` came again and asked again, forever (exit-close.ts now
// reads the engine's own counts).

const mockOf = useFaultMock();
const PREVIOUS = 3;
const COUNT = 40;

let dir = '';
let file = '';
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'capi-kit-start-count-'));
  file = join(dir, 'outbox.json');
  const now = Date.now();
  // What a previous run left: three wire events, never attempted.
  const previous = Array.from({ length: PREVIOUS }, (_, i) => {
    const body = JSON.stringify({
      event_name: 'Purchase',
      event_time: Math.floor(now / 1000) - 60,
      event_id: `prev-${i}`,
      action_source: 'website',
      event_source_url: 'https://shop.example.com/checkout',
      user_data: { client_ip_address: '203.0.113.9', client_user_agent: 'Mozilla/5.0' },
      custom_data: { currency: 'USD', value: 5 },
    });
    return {
      id: `previous-run-${i}`,
      pixelId: PIXEL,
      eventId: `prev-${i}`,
      eventName: 'Purchase',
      eventTime: Math.floor(now / 1000) - 60,
      actionSource: 'website',
      body,
      bytes: Buffer.byteLength(body),
      attempts: 0,
      enqueuedAt: now - 60_000,
      retryAt: now - 60_000,
    };
  });
  await writeFile(file, JSON.stringify(previous));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const expectEveryEventOnce = async (run: Awaited<ReturnType<typeof runChild>>) => {
  const result = run.result;
  expect(result, `no result line; status ${run.status}; stderr: ${run.stderr}`).toBeDefined();
  if (!result) return;
  const { stats } = result;
  const dropped = Object.values(stats.dropped).reduce((a, b) => a + b, 0);
  // The previous run's records are this run's to count once: tracked + previous.
  expect(
    stats.sent + stats.queued + stats.inFlight + stats.deadLettered + dropped,
    'tracked + previous = sent + queued + inFlight + deadLettered + Σ dropped',
  ).toBe(result.tracked + PREVIOUS);
  const received = mockOf()
    .events({ pixelId: PIXEL })
    .map((e) => String(e.event.event_id));
  expect(new Set(received).size, 'an event received twice').toBe(received.length);
  expect(received.sort()).toEqual(
    [
      ...Array.from({ length: PREVIOUS }, (_, i) => `prev-${i}`),
      ...Array.from({ length: COUNT }, (_, i) => `ok-${i}`),
    ].sort(),
  );
  expect({ sent: stats.sent, queued: stats.queued, dropped }).toEqual({
    sent: COUNT + PREVIOUS,
    queued: 0,
    dropped: 0,
  });
  // Nothing left for the next process.
  expect(JSON.parse(await readFile(file, 'utf8'))).toEqual([]);
  console.log(
    `${run.status === 0 ? 'ok' : 'FAILED'}: tracked ${result.tracked}, previous ${PREVIOUS}, delivered ${received.length}, stats() asked ${result.statsCalls} times`,
  );
};

describe('a durable async outbox whose start-up count is late', {
  timeout: CASE_TIMEOUT_MS,
}, () => {
  it('i1. stats() answers after 300 ms, the script tracked 40 before and ended: all 43 delivered once, exit 0', async () => {
    const run = await runChild('slow-start-count.mjs', mockOf(), {
      config: { count: COUNT },
      env: { FAULT_OUTBOX_FILE: file, FAULT_STATS_MS: '300' },
    });
    expect(run.status, run.stderr).toBe(0);
    await expectEveryEventOnce(run);
  });

  it('i2. stats() refused twice (a database still starting), answered at the third ask: all 43 delivered once, exit 0', async () => {
    const run = await runChild('slow-start-count.mjs', mockOf(), {
      config: { count: COUNT, options: { closeOnExit: { timeoutMs: 10_000 } } },
      env: { FAULT_OUTBOX_FILE: file, FAULT_STATS_REFUSALS: '2' },
    });
    expect(run.status, run.stderr).toBe(0);
    await expectEveryEventOnce(run);
    expect(run.result?.statsCalls).toBeGreaterThanOrEqual(3);
  });

  it('i3. SIGTERM while stats() is out (10 s late), appends taking 300 ms: they land within close()’s budget, the process dies of SIGTERM, and the next process delivers all 43 once', async () => {
    // The held appends used to start only at close()'s deadline, 50 ms before it resolved and the
    // hooks re-raised the signal: 300-ms appends were still out when the process died.
    let signalled = false;
    const first = await runChild('slow-start-count.mjs', mockOf(), {
      config: { count: COUNT, shutdownTimeoutMs: 2000 },
      env: {
        FAULT_OUTBOX_FILE: file,
        FAULT_STATS_MS: '10000',
        FAULT_WRITE_MS: '300',
        FAULT_SIGTERM: '1',
      },
      onLine: (line, child) => {
        if (line.type === 'tracked' && !signalled) {
          signalled = true;
          child.kill('SIGTERM');
        }
      },
    });
    expect(signalled, 'the child never reported its events tracked').toBe(true);
    expect(first.status, first.stderr).toBe(143);
    const stats = first.result?.stats;
    expect(stats, `no result line; stderr: ${first.stderr}`).toBeDefined();
    // The count was given up: this run's 40 are counted, as queued for the next start; nothing
    // was sent; the previous run's 3 stay uncounted by it.
    expect({ sent: stats?.sent, queued: stats?.queued, tracked: first.result?.tracked }).toEqual({
      sent: 0,
      queued: COUNT,
      tracked: COUNT,
    });
    expect(mockOf().events({ pixelId: PIXEL })).toHaveLength(0);
    // They were in the outbox when the process died, with the previous run's.
    expect(JSON.parse(await readFile(file, 'utf8'))).toHaveLength(COUNT + PREVIOUS);

    // The next process: no new events; it counts the 43 at start and delivers them.
    const next = await runChild('slow-start-count.mjs', mockOf(), {
      config: { count: 0 },
      env: { FAULT_OUTBOX_FILE: file },
    });
    expect(next.status, next.stderr).toBe(0);
    const received = mockOf()
      .events({ pixelId: PIXEL })
      .map((e) => String(e.event.event_id));
    expect(received.sort()).toEqual(
      [
        ...Array.from({ length: PREVIOUS }, (_, i) => `prev-${i}`),
        ...Array.from({ length: COUNT }, (_, i) => `ok-${i}`),
      ].sort(),
    );
    expect(next.result?.stats).toMatchObject({ sent: COUNT + PREVIOUS, queued: 0 });
    expect(JSON.parse(await readFile(file, 'utf8'))).toEqual([]);
  });
});
