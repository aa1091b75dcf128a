// Real HTTP on loopback against the mock Graph API from @capi-kit/testing (build it first:
// `cd packages/testing && npx tsdown`). Backoff runs on an injected FakeClock so a 30 s outage is
// walked through in well under a second of real time; only the HTTP round trips are real.
import { type MockGraph, startMockGraph } from '@capi-kit/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { sha256Hex } from '#platform';
import { createCapi } from '../../src/delivery/client.js';
import type { CapiHookMap, CapiOptions } from '../../src/delivery/types.js';
import { captureLogger, FakeClock, PIXEL, PIXEL_2, purchase, TOKEN, TOKEN_2 } from './helpers.js';

const mocks: MockGraph[] = [];
const clients: { close(o?: { timeoutMs?: number }): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close({ timeoutMs: 50 })));
  await Promise.all(mocks.splice(0).map((m) => m.close()));
});

// Deterministic jitter: a small LCG.
const seeded = (seed = 42) => {
  let x = seed;
  return () => {
    x = (x * 1103515245 + 12345) % 2147483648;
    return x / 2147483648;
  };
};

/**
 * Advances the fake clock in steps shorter than the request timeout, letting real HTTP finish in
 * between: jumping a whole minute at once would fire the 1500 ms request timeout of a request that
 * is still crossing loopback.
 */
const walk = async (
  clock: FakeClock,
  client: { flush(): Promise<void> },
  ms: number,
  stepMs = 250,
) => {
  for (let t = 0; t < ms; t += stepMs) {
    await clock.advance(stepMs);
    await client.flush();
  }
};

const start = async (
  mockOptions: Parameters<typeof startMockGraph>[0] = {},
  options: Partial<CapiOptions> = {},
) => {
  const clock = options.clock instanceof FakeClock ? options.clock : new FakeClock();
  const mock = await startMockGraph({ accessToken: TOKEN, now: clock.now, ...mockOptions });
  mocks.push(mock);
  const log = captureLogger();
  const client = createCapi({
    pixelId: PIXEL,
    accessToken: TOKEN,
    graphUrl: mock.url,
    clock,
    random: seeded(),
    logger: log.logger,
    env: false,
    ...options,
  });
  clients.push(client);
  const hooks: Partial<{ [K in keyof CapiHookMap]: CapiHookMap[K][] }> = {};
  for (const name of ['sent', 'retry', 'dropped', 'error', 'deadLetter', 'warn'] as const) {
    const list: unknown[] = [];
    (hooks as Record<string, unknown[]>)[name] = list;
    client.on(name, (info) => {
      list.push(info);
    });
  }
  return { mock, client, clock, log, hooks };
};

describe('delivery against the mock Graph API (loopback HTTP)', () => {
  it('a 30 s outage followed by recovery delivers 100 % of events exactly once', async () => {
    const { mock, client, clock } = await start();
    mock.outage(503);
    let n = 0;
    // Simulated timeline: 10 events every 250 ms for 30 s while Meta answers 503.
    for (let t = 0; t < 30_000; t += 250) {
      for (let k = 0; k < 10; k++) client.track(purchase(n++, clock.now()));
      await clock.advance(250);
      await client.flush();
    }
    const outageRequests = mock.requests().length;
    expect(mock.events()).toHaveLength(0);
    expect(client.stats().queued).toBe(n);
    mock.recover();
    // Backoff is at most 60 s (simulated); walk until the queue is empty.
    for (let i = 0; i < 200 && (client.stats().queued > 0 || client.stats().inFlight > 0); i++) {
      await clock.advance(1000);
      await client.flush();
    }
    expect(n).toBe(1200);
    expect(mock.uniqueEventIds()).toHaveLength(n);
    expect(mock.events()).toHaveLength(n); // exactly once
    expect(mock.duplicates()).toEqual([]);
    expect(client.stats()).toMatchObject({ sent: n, queued: 0, inFlight: 0, deadLettered: 0 });
    expect(Object.values(client.stats().dropped).every((v) => v === 0)).toBe(true);
    // The shared pixel backoff keeps the client from hammering a dead endpoint.
    expect(outageRequests).toBeLessThan(20);
  });

  it('close({ timeoutMs: 500 }) against a server that never answers resolves within 600 ms (real time)', async () => {
    const mock = await startMockGraph({ accessToken: TOKEN });
    mocks.push(mock);
    mock.outage('hang');
    const client = createCapi({
      pixelId: PIXEL,
      accessToken: TOKEN,
      graphUrl: mock.url,
      env: false,
    });
    for (let i = 0; i < 10; i++) client.track(purchase(i, Date.now()));
    void client.flush();
    const until = Date.now() + 2000;
    while (mock.requests().length === 0 && Date.now() < until)
      await new Promise((r) => setTimeout(r, 5));
    expect(mock.requests()).toHaveLength(1);
    const t0 = performance.now();
    await client.close({ timeoutMs: 500 });
    const elapsed = performance.now() - t0;
    expect(elapsed).toBeLessThan(600);
    expect(elapsed).toBeGreaterThanOrEqual(440);
    expect(client.stats()).toMatchObject({
      queued: 0,
      inFlight: 0,
      sent: 0,
      dropped: { shutdown: 10 },
    });
    // The hung request was aborted and nothing new was started after the deadline.
    await new Promise((r) => setTimeout(r, 20));
    expect(mock.requests()).toHaveLength(1);
    expect(mock.requests()[0]?.clientAborted).toBe(true);
  });

  it('a 190 is not retried: exactly one request, even minutes later', async () => {
    const { mock, client, clock, hooks } = await start({
      accessToken: 'the-right-token-0123456789',
    });
    for (let i = 0; i < 5; i++) client.track(purchase(i, clock.now()));
    await client.flush();
    await walk(clock, client, 9 * 60_000, 1000); // 9 simulated minutes
    expect(mock.requests()).toHaveLength(1);
    expect(mock.requests()[0]?.error?.code).toBe(190);
    expect(hooks.error?.[0]).toMatchObject({ kind: 'auth', pixelId: PIXEL });
    expect(client.stats()).toMatchObject({ queued: 5, sent: 0 });
  });

  it('an empty content ID is refused at track(), naming it, rather than refused by Graph with its batch', async () => {
    const { mock, client, clock } = await start();
    const withIds = (i: number, content_ids: string[]) =>
      purchase(i, clock.now(), { custom_data: { currency: 'USD', value: 10, content_ids } });
    expect(client.track(withIds(0, ['sku-1', '']))).toMatchObject({
      accepted: false,
      reason: 'invalid',
      issues: [{ path: 'custom_data.content_ids[1]', code: 'missing_content_id' }],
    });
    expect(client.track(withIds(1, [' sku-2 '])).accepted).toBe(true);
    await client.flush();
    expect(mock.rejections()).toEqual([]);
    expect(mock.events().map((e) => e.event.custom_data?.content_ids)).toEqual([['sku-2']]);
    expect(client.stats()).toMatchObject({ sent: 1, deadLettered: 0 });
  });

  it('a user agent hashed upstream is refused at track(), naming it, rather than by Graph', async () => {
    const { mock, client, clock } = await start();
    const event = purchase(0, clock.now());
    const hashedUa = sha256Hex(event.user_data.client_user_agent);
    const result = client.track({
      ...event,
      user_data: { ...event.user_data, client_user_agent: hashedUa },
    });
    expect(result).toMatchObject({ accepted: false, reason: 'invalid' });
    expect(result.issues.map((i) => [i.path, i.code])).toEqual([
      ['user_data.client_user_agent', 'hashed_client_user_agent'],
      ['user_data.client_user_agent', 'missing_client_user_agent'],
    ]);
    await client.flush();
    expect(mock.requests()).toEqual([]);
    expect(client.stats()).toMatchObject({ sent: 0, deadLettered: 0 });
  });

  it('one invalid event in 1000: ≤ 11 extra requests, the other 999 arrive once', async () => {
    const { mock, client, clock, hooks } = await start({ maxFutureSeconds: 60 });
    for (let i = 0; i < 1000; i++) {
      // buildEvent tolerates 300 s of clock skew; this mock only 60 s, so it refuses exactly one event.
      const extra = i === 613 ? { event_time: Math.floor(clock.now() / 1000) + 200 } : {};
      client.track(purchase(i, clock.now(), extra));
    }
    await client.flush();
    const requests = mock.requests();
    expect(requests.length - 1).toBeLessThanOrEqual(11);
    expect(mock.events()).toHaveLength(999);
    expect(mock.uniqueEventIds()).toHaveLength(999);
    expect(mock.uniqueEventIds()).not.toContain('evt-613');
    expect(hooks.deadLetter).toHaveLength(1);
    expect(hooks.deadLetter?.[0]).toMatchObject({
      reason: 'rejected',
      events: [{ eventId: 'evt-613' }],
    });
    expect(hooks.deadLetter?.[0]?.error.message).toMatch(/event_time/);
    expect(client.stats()).toMatchObject({ sent: 999, deadLettered: 1, queued: 0 });
  });

  it('throttling (613 + Retry-After: 3) pauses the pixel and honours Retry-After', async () => {
    const { mock, client, clock, hooks } = await start();
    mock.failNext({ kind: 'graph', code: 613, subcode: 1487742, retryAfterSeconds: 3 });
    for (let i = 0; i < 3; i++) client.track(purchase(i, clock.now()));
    await client.flush();
    expect(mock.requests()).toHaveLength(1);
    expect(hooks.retry?.[0]).toMatchObject({ reason: 'throttled', delayMs: 3000, status: 400 });
    expect(client.stats().pixels[PIXEL]?.state).toBe('paused');
    client.track(purchase(3, clock.now()));
    await clock.advance(2999);
    await client.flush();
    expect(mock.requests()).toHaveLength(1);
    await clock.advance(1);
    await client.flush();
    expect(mock.requests()).toHaveLength(2);
    expect(mock.events()).toHaveLength(4);
  });

  it('one throttle answered to every request in flight is one throttle: no attempt spent, the pause not doubled per request', async () => {
    // Four batches go out together (maxConcurrency 4) and Meta throttles each of them: that is one
    // throttle of the pixel, not four in a row. Counted per answer, 16 such rounds had spent the 20
    // free throttles by the 6th and 10 attempts by the 16th: all 40 events dead-lettered
    // (max_attempts) after 16 throttles, where the defaults promise 20 free ones and 10 more.
    const { mock, client, clock, hooks } = await start({}, { maxBatchEvents: 10 });
    mock.failNext({ kind: 'graph', code: 613, subcode: 1487742, retryAfterSeconds: 2 }, 4 * 16);
    for (let i = 0; i < 40; i++) client.track(purchase(i, clock.now()));
    await client.flush();
    for (let i = 0; i < 40 && mock.events().length < 40; i++) {
      await clock.advance(2000);
      await client.flush();
    }
    expect(hooks.deadLetter?.map((d) => d.reason)).toEqual([]);
    expect(mock.pendingFaults()).toBe(0);
    expect(mock.events()).toHaveLength(40);
    expect(client.stats()).toMatchObject({ sent: 40, deadLettered: 0, queued: 0, inFlight: 0 });
  });

  it('without a wait hint, four throttles answered together pause the pixel for one step, not four doublings', async () => {
    const { mock, client, clock, hooks } = await start({}, { maxBatchEvents: 10 });
    mock.failNext({ kind: 'graph', code: 4 }, 4);
    for (let i = 0; i < 40; i++) client.track(purchase(i, clock.now()));
    await client.flush();
    const retries = hooks.retry ?? [];
    expect(retries.map((r) => r.count)).toEqual([10, 10, 10, 10]);
    // throttleBaseDelayMs (5 s) with equal jitter: 2.5–5 s for the first throttle of the pixel.
    for (const r of retries) expect(r.delayMs).toBeLessThanOrEqual(5000);
    const paused = client.stats().pixels[PIXEL];
    expect(paused?.state).toBe('paused');
    expect((paused?.pausedUntil ?? 0) - clock.now()).toBeLessThanOrEqual(5000);
  });

  /** Waits in real time (loopback HTTP, the mock's latency) until `done()`, at most `ms`. */
  const until = async (done: () => boolean, ms = 5000) => {
    const end = Date.now() + ms;
    while (!done() && Date.now() < end) await new Promise((r) => setTimeout(r, 5));
  };
  /** `delivered + queued + dropped + undeliverable = tracked` (nothing in flight at the check). */
  const accounted = (s: ReturnType<ReturnType<typeof createCapi>['stats']>) =>
    s.sent +
    s.queued +
    s.inFlight +
    s.deadLettered +
    Object.values(s.dropped).reduce((a, b) => a + b, 0);

  it('a request sent before the auth circuit opened and accepted after it does not close it: no "probe succeeded", no second error, no wasted request', async () => {
    // The token is revoked while two requests are out: the one Meta read first is accepted and
    // answered late, the other refused at once, and so is every request after it.
    const { mock, client, clock, hooks, log } = await start(
      {},
      { maxConcurrency: 2, maxBatchEvents: 5 },
    );
    mock.failNext({ kind: 'latency', latencyMs: 300 });
    mock.outage({ kind: 'graph', code: 190 });
    for (let i = 0; i < 15; i++) client.track(purchase(i, clock.now()));
    void client.flush();
    await until(() => mock.requests().length >= 2 && client.stats().inFlight === 0);
    // Whatever the stale 200 set going has had its turn.
    await new Promise((r) => setTimeout(r, 100));
    await client.flush();
    await until(() => client.stats().inFlight === 0);
    expect(
      mock
        .requests()
        .map((r) => r.status)
        .sort(),
    ).toEqual([200, 400]);
    expect(hooks.error).toHaveLength(1);
    expect(log.text()).not.toContain('probe succeeded');
    expect(client.stats()).toMatchObject({ sent: 5, queued: 10, inFlight: 0 });
    expect(client.stats().pixels[PIXEL]?.state).toBe('circuit_open');
    expect(accounted(client.stats())).toBe(15);
    // The probe still goes when due, and its success closes the circuit.
    mock.recover();
    await clock.advance(600_000);
    await until(() => mock.requests().length >= 3 && client.stats().inFlight === 0);
    await client.flush();
    await until(() => client.stats().queued === 0 && client.stats().inFlight === 0);
    expect(log.text()).toContain('probe succeeded');
    expect(hooks.error).toHaveLength(1);
    expect(client.stats()).toMatchObject({ sent: 15, queued: 0, inFlight: 0 });
    expect(mock.uniqueEventIds()).toHaveLength(15);
    expect(mock.duplicates()).toEqual([]);
  });

  it('a refusal of a request sent before the auth circuit opened, answered after a probe closed it, does not open it again', async () => {
    const { mock, client, clock, hooks, log } = await start(
      {},
      {
        maxConcurrency: 2,
        maxBatchEvents: 5,
        timeoutMs: 60_000,
        retry: { authProbeIntervalMs: 1000 },
      },
    );
    // Two requests out: one refused at once, the other refused late (after the probe's answer).
    mock.failNext({ kind: 'graph', code: 190 });
    mock.failNext({ kind: 'graph', code: 190, latencyMs: 1000 });
    for (let i = 0; i < 15; i++) client.track(purchase(i, clock.now()));
    void client.flush();
    await until(() => hooks.error?.length === 1);
    // The probe goes and is accepted while the second request still waits for its answer.
    await clock.advance(1000);
    await until(() => log.text().includes('probe succeeded'));
    expect(client.stats().inFlight).toBeGreaterThanOrEqual(5); // the late refusal is still out
    await until(() => client.stats().inFlight === 0 && mock.requests().length >= 4, 2000);
    await new Promise((r) => setTimeout(r, 100));
    await client.flush();
    await until(() => client.stats().queued === 0 && client.stats().inFlight === 0, 1000);
    expect(hooks.error).toHaveLength(1);
    expect(client.stats().pixels[PIXEL]?.state).not.toBe('circuit_open');
    expect(client.stats()).toMatchObject({ sent: 15, queued: 0, inFlight: 0 });
    expect(accounted(client.stats())).toBe(15);
    expect(mock.uniqueEventIds()).toHaveLength(15);
    expect(mock.duplicates()).toEqual([]);
  });

  it('the token never appears in a URL, a log line, an error or a hook payload', async () => {
    const { mock, client, clock, log, hooks } = await start(
      { appSecret: 'app-secret-0123456789' },
      { appSecret: 'app-secret-0123456789', retry: { baseDelayMs: 100, maxDelayMs: 1000 } },
    );
    mock
      .failNext(503)
      .failNext('reset')
      .failNext({ kind: 'graph', code: 2, message: `echo ${TOKEN}` });
    for (let i = 0; i < 5; i++) client.track(purchase(i, clock.now()));
    await client.flush();
    await walk(clock, client, 10_000);
    expect(mock.events()).toHaveLength(5);
    for (const r of mock.requests()) {
      expect(r.tokenInUrl).toBe(false);
      expect(r.path).not.toContain(TOKEN);
      expect(r.tokenSources).toEqual(['body']);
    }
    // The mock echoed the token in a Graph error message: none of it may reach logs or hooks.
    expect(mock.requests()[2]?.responseBody).toContain(TOKEN);
    const dump = JSON.stringify({ logs: log.lines, hooks });
    expect(dump).not.toContain(TOKEN);
    expect(dump).not.toContain('app-secret-0123456789');
    expect(dump).toContain('echo [redacted]');
    expect(hooks.retry?.length).toBe(3);
  });

  it('fans out to two pixels, each with its own token', async () => {
    const clock = new FakeClock();
    const mock = await startMockGraph({ now: clock.now });
    mocks.push(mock);
    const client = createCapi({
      pixels: [
        { pixelId: PIXEL, accessToken: TOKEN },
        { pixelId: PIXEL_2, accessToken: TOKEN_2 },
      ],
      graphUrl: mock.url,
      clock,
      env: false,
    });
    clients.push(client);
    for (let i = 0; i < 50; i++) client.track(purchase(i, clock.now()));
    await client.flush();
    expect(mock.events({ pixelId: PIXEL })).toHaveLength(50);
    expect(mock.events({ pixelId: PIXEL_2 })).toHaveLength(50);
    expect(mock.duplicates()).toEqual([]);
    expect(client.stats()).toMatchObject({ sent: 100 });
  });
});
