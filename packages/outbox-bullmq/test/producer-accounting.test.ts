import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { type CapiOptions, type CapiStats, createCapi } from '@capi-kit/core';
import { type MockGraph, startMockGraph } from '@capi-kit/testing';
import { tiktok } from '@capi-kit/tiktok';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  type BullmqOutbox,
  type BullmqOutboxOptions,
  type BullmqProducerStats,
  bullmqOutbox,
} from '../src/index.js';
import {
  deleteKeys,
  leadEvent,
  needsRedis,
  rawRecord,
  requireRedis,
  sleep,
  stallableProxy,
  uniquePrefix,
  waitFor,
  wireLead,
} from './helpers.js';

// The producer's accounting at every moment (README, "The producer's accounting per stream"): each
// event a stream tracked is in the producer's buffer, in an addBulk Redis has not answered, in
// Redis, or counted by the client (the fallback's events). The moments the figures used to miss:
// the 10 ms buffer, and a write held by a slow Redis, in particular after a close() that gave up.

const TOKEN = 'EAAtest-token-0123456789';
const TT_TOKEN = 'tt-secret-token-9876543210';
const PIXEL = '1234567890';
const CODE = 'C4ABCDEFGHIJ';
const STREAM = `tiktok:${CODE}`;
let mock: MockGraph;

beforeAll(async () => {
  mock = await startMockGraph({ accessToken: TOKEN, tiktokAccessToken: TT_TOKEN });
});
afterAll(() => mock.close());
beforeEach(() => mock.reset());

const silent = { debug() {}, info() {}, warn() {}, error() {} };

const client = (outbox: BullmqOutbox, extra: Partial<CapiOptions> = {}) =>
  createCapi({
    pixelId: PIXEL,
    accessToken: TOKEN,
    graphUrl: mock.url,
    env: false,
    logger: false,
    outbox,
    destinations: [tiktok({ pixelCode: CODE, accessToken: TT_TOKEN, apiUrl: mock.tiktok.url })],
    flushIntervalMs: 20,
    retry: { baseDelayMs: 20, maxDelayMs: 100 },
    ...extra,
  });

const sum = (values: Record<string, number>) => Object.values(values).reduce((a, b) => a + b, 0);

/** Per stream: buffered + writing + in Redis + what the client counts (the fallback's events). */
const accounted = (stats: CapiStats, producer: BullmqProducerStats) => {
  const out: Record<string, number> = {};
  for (const stream of [PIXEL, STREAM]) {
    const p = stats.pixels[stream];
    const engine = p ? p.sent + p.queued + p.inFlight + p.deadLettered + sum(p.dropped) : 0;
    const s = producer.streams[stream];
    out[stream] = (s ? s.bufferedEvents + s.writingEvents + s.enqueuedEvents : 0) + engine;
  }
  return out;
};

/** Every event tracked so far adds up, on both streams (each track() is one event per stream). */
const expectAddsUp = (capi: ReturnType<typeof client>, outbox: BullmqOutbox, tracked: number) => {
  expect(accounted(capi.stats(), outbox.producerStats())).toEqual({
    [PIXEL]: tracked,
    [STREAM]: tracked,
  });
};

/** One stream's `producerStats().streams` entry. */
const counts = (bufferedEvents: number, writingEvents: number, enqueued: number, fallback = 0) => ({
  bufferedEvents,
  writingEvents,
  enqueuedEvents: enqueued,
  fallbackEvents: fallback,
});

type Reading = { where: string; got: Record<string, number>; tracked: number };

/**
 * A client whose figures are read where an app reads them: in its logger, in its hooks and every
 * few milliseconds. A hook listener's failure is contained by the client, so each reading that does
 * not add up is kept in `misses` and the test asserts on it afterwards.
 */
const observed = (outbox: BullmqOutbox, extra: Partial<CapiOptions> = {}) => {
  let tracked = 0;
  const misses: Reading[] = [];
  const seen: Record<string, number> = {};
  let capi: ReturnType<typeof client> | undefined;
  const read = (where: string) => {
    if (!capi) return; // a logger call while createCapi runs: nothing is tracked yet
    seen[where] = (seen[where] ?? 0) + 1;
    const got = accounted(capi.stats(), outbox.producerStats());
    if (got[PIXEL] !== tracked || got[STREAM] !== tracked) misses.push({ where, got, tracked });
  };
  const logger = {
    debug() {},
    info() {},
    warn: () => read('logger.warn'),
    error: () => read('logger.error'),
  };
  const created = client(outbox, { ...extra, logger });
  capi = created;
  for (const hook of ['error', 'warn', 'dropped', 'sent'] as const) {
    created.on(hook, () => read(`${hook} hook`));
  }
  /** What the `error` and `warn` hooks said, in order. */
  const messages: string[] = [];
  created.on('error', (info) => messages.push(`error: ${info.error.message}`));
  created.on('warn', (info) => messages.push(`warn: ${info.message}`));
  const poll = setInterval(() => read('poll'), 2);
  return {
    capi: created,
    misses,
    seen,
    messages,
    track: (id: string) => {
      tracked++;
      created.track(leadEvent(id));
    },
    stop: () => clearInterval(poll),
  };
};

describe('the producer accounts for events waiting for the first connection (no Redis needed)', () => {
  it('counts them as writing until it gives up, then the client counts the fallback', async () => {
    const outbox = bullmqOutbox({
      connection: 'redis://127.0.0.1:1',
      connectTimeoutMs: 1000,
      logger: silent,
    });
    const capi = client(outbox);
    for (let i = 0; i < 5; i++) capi.track(leadEvent(`first-${i}`));
    expect(outbox.producerStats()).toMatchObject({ buffered: 10, writing: 0 });
    expectAddsUp(capi, outbox, 5);
    // The 10 ms flush takes them; the write then waits for the connection (connectTimeoutMs).
    await waitFor(() => {
      expectAddsUp(capi, outbox, 5);
      return outbox.producerStats().writing === 10;
    });
    expect(outbox.producerStats().streams).toEqual({
      [PIXEL]: counts(0, 5, 0),
      [STREAM]: counts(0, 5, 0),
    });
    await waitFor(() => {
      expectAddsUp(capi, outbox, 5);
      return outbox.producerStats().fallbackEvents === 10;
    });
    expect(outbox.producerStats()).toMatchObject({ mode: 'fallback', buffered: 0, writing: 0 });
    expectAddsUp(capi, outbox, 5);
    await capi.close();
    expectAddsUp(capi, outbox, 5);
    expect(capi.stats().pixels[PIXEL]?.sent).toBe(5);
  });

  it('the logger and the error hook, called as it gives up, see the events already counted by the client', async () => {
    const outbox = bullmqOutbox({
      connection: 'redis://127.0.0.1:1',
      connectTimeoutMs: 300,
      logger: silent,
    });
    const watched = observed(outbox);
    for (let i = 0; i < 5; i++) watched.track(`gives-up-${i}`);
    await waitFor(() => outbox.producerStats().fallbackEvents === 10);
    await watched.capi.close();
    watched.stop();
    expect(watched.seen).toMatchObject({ 'error hook': 1, 'logger.error': 1 });
    expect(watched.misses).toEqual([]);
  });
});

describe('the producer accounts for a write Redis holds', needsRedis, () => {
  const url = needsRedis.skip ? '' : requireRedis();
  let prefix: string;
  let proxy: Awaited<ReturnType<typeof stallableProxy>>;
  const closers: (() => Promise<unknown>)[] = [];

  beforeEach(async () => {
    prefix = uniquePrefix('accounting');
    proxy = await stallableProxy(url);
  });
  afterEach(async () => {
    proxy.resume(); // a failed test may leave it stalled: the producers' close() goes through it
    for (const close of closers.splice(0).reverse()) await close();
    await proxy.close();
    await deleteKeys(url, prefix);
  });

  /** A producer whose Redis connection goes through the proxy, warmed up with one event per stream. */
  const connected = async (writeTimeoutMs: number, extra: Partial<CapiOptions> = {}) => {
    const outbox = bullmqOutbox({ connection: proxy.url, prefix, writeTimeoutMs, logger: silent });
    closers.push(() => outbox.close());
    // The queue's connection set-up (scripts, a version check) before the first write's short
    // timeout: on a loaded machine it could take the warm-up write past it into the fallback.
    await outbox.queue.waitUntilReady();
    const capi = client(outbox, extra);
    capi.track(leadEvent('warm-up'));
    await capi.flush();
    expect(outbox.producerStats().streams).toEqual({
      [PIXEL]: counts(0, 0, 1),
      [STREAM]: counts(0, 0, 1),
    });
    return { outbox, capi };
  };

  /** Like `connected`, with a client whose logger, hooks and a poll read the figures (`observed`). */
  const watchedProducer = async (options: Partial<BullmqOutboxOptions>) => {
    const outbox = bullmqOutbox({ connection: proxy.url, prefix, logger: silent, ...options });
    closers.push(() => outbox.close());
    await outbox.queue.waitUntilReady(); // as in `connected`
    const watched = observed(outbox);
    closers.push(async () => {
      watched.stop();
      await watched.capi.close({ timeoutMs: 500 });
    });
    watched.track('warm-up');
    await watched.capi.flush();
    expect(outbox.producerStats().streams).toEqual({
      [PIXEL]: counts(0, 0, 1),
      [STREAM]: counts(0, 0, 1),
    });
    return { outbox, ...watched };
  };

  /** The ids of the events in the queue's waiting jobs. */
  const waitingIds = async (outbox: BullmqOutbox) =>
    (await outbox.queue.getWaiting(0, -1)).flatMap((job) =>
      job.data.records.map((record) => record.eventId),
    );

  it('buffered, then writing while Redis holds the addBulk, then enqueued: each stream adds up at every step', async () => {
    const { outbox, capi } = await connected(10_000);
    proxy.stall();
    for (let i = 0; i < 20; i++) capi.track(leadEvent(`held-${i}`));
    // In the buffer, before the 10 ms flush: neither the client's nor Redis's.
    expect(outbox.producerStats()).toMatchObject({ buffered: 40, writing: 0 });
    expectAddsUp(capi, outbox, 21);
    await waitFor(() => {
      expectAddsUp(capi, outbox, 21);
      return outbox.producerStats().writing === 40;
    });
    // More events while the write is held: they wait in the buffer behind it.
    for (let i = 20; i < 30; i++) capi.track(leadEvent(`held-${i}`));
    expect(outbox.producerStats().streams).toEqual({
      [PIXEL]: counts(10, 20, 1),
      [STREAM]: counts(10, 20, 1),
    });
    await sleep(150);
    expect(outbox.producerStats()).toMatchObject({ buffered: 20, writing: 40, enqueuedEvents: 2 });
    expectAddsUp(capi, outbox, 31);

    proxy.resume();
    const flushed = capi.flush();
    await waitFor(() => {
      expectAddsUp(capi, outbox, 31);
      return outbox.producerStats().enqueuedEvents === 62;
    });
    await flushed;
    expect(outbox.producerStats()).toMatchObject({ buffered: 0, writing: 0, fallbackEvents: 0 });
    expect(outbox.producerStats().streams).toEqual({
      [PIXEL]: counts(0, 0, 31),
      [STREAM]: counts(0, 0, 31),
    });
    const jobs = await outbox.queue.getWaiting();
    expect(jobs.reduce((n, job) => n + job.data.records.length, 0)).toBe(62);
    await capi.close();
    expectAddsUp(capi, outbox, 31);
  });

  it('maxBufferedEvents bounds what waits for Redis, the events of a write Redis holds included', async () => {
    const outbox = bullmqOutbox({
      connection: proxy.url,
      prefix,
      writeTimeoutMs: 10_000,
      maxBufferedEvents: 30,
      logger: silent,
    });
    closers.push(() => outbox.close());
    await outbox.queue.waitUntilReady();
    const capi = client(outbox);
    capi.track(leadEvent('warm-up'));
    await capi.flush();
    proxy.stall();
    for (let i = 0; i < 10; i++) capi.track(leadEvent(`bound-${i}`));
    await waitFor(() => outbox.producerStats().writing === 20);
    // 20 in the held write: room for 10 more in memory for Redis; the rest go to the fallback.
    for (let i = 10; i < 20; i++) capi.track(leadEvent(`bound-${i}`));
    expect(outbox.producerStats()).toMatchObject({ writing: 20, buffered: 10, fallbackEvents: 10 });
    expectAddsUp(capi, outbox, 21);
    proxy.resume();
    await capi.flush();
    await capi.close();
    expect(outbox.producerStats()).toMatchObject({ writing: 0, buffered: 0, enqueuedEvents: 32 });
    expectAddsUp(capi, outbox, 21);
  });

  it('a write held past writeTimeoutMs is counted as writing until then, then by the client (fallback)', async () => {
    const { outbox, capi } = await connected(1000);
    proxy.stall();
    for (let i = 0; i < 10; i++) capi.track(leadEvent(`timeout-${i}`));
    await waitFor(() => {
      expectAddsUp(capi, outbox, 11);
      return outbox.producerStats().writing === 20;
    });
    await waitFor(() => {
      expectAddsUp(capi, outbox, 11);
      return outbox.producerStats().fallbackEvents === 20;
    });
    expect(outbox.producerStats()).toMatchObject({
      mode: 'fallback',
      writing: 0,
      writeFailures: 1,
    });
    expect(outbox.producerStats().streams).toEqual({
      [PIXEL]: counts(0, 0, 1, 10),
      [STREAM]: counts(0, 0, 1, 10),
    });
    // This process delivers the fallback itself.
    await mock.waitForEvents(10);
    await mock.tiktok.waitForEvents(10);
    await waitFor(() => capi.stats().sent === 20);
    expectAddsUp(capi, outbox, 11);
    proxy.resume();
    await capi.close();
    expectAddsUp(capi, outbox, 11);
  });

  it('a held write that times out into a small fallback: the error hook, the logger and the dropped hook see every event counted', async () => {
    const { outbox, ...watched } = await watchedProducer({
      writeTimeoutMs: 300,
      fallback: { maxEvents: 3 },
    });
    proxy.stall();
    for (let i = 0; i < 10; i++) watched.track(`evicted-${i}`);
    await waitFor(() => outbox.producerStats().fallbackEvents === 20);
    // The fallback keeps 3 events per stream: 7 of each are dropped (overflow) as they arrive.
    expect(watched.capi.stats().pixels[PIXEL]?.dropped.overflow).toBe(7);
    expect(watched.capi.stats().pixels[STREAM]?.dropped.overflow).toBe(7);
    proxy.resume();
    await watched.capi.close();
    watched.stop();
    expect(watched.seen).toMatchObject({ 'error hook': 1, 'logger.error': 1 });
    expect(watched.seen['dropped hook']).toBeGreaterThan(0);
    expect(watched.misses).toEqual([]);
  });

  it('close() also writes an append made in a reaction to its last flush: nothing is left in the buffer', async () => {
    // Direct use of the outbox (no client): an append chained on flush() runs after the write it
    // waited for, while close() is still draining.
    const outbox = bullmqOutbox({ connection: url, prefix, logger: silent });
    closers.push(() => outbox.close());
    await outbox.queue.waitUntilReady();
    outbox.append([rawRecord(PIXEL, wireLead('before-close'))]);
    const late = outbox.flush().then(() => outbox.append([rawRecord(PIXEL, wireLead('late'))]));
    await outbox.close();
    await late;
    expect(outbox.producerStats()).toMatchObject({
      buffered: 0,
      writing: 0,
      enqueuedEvents: 2,
      fallbackEvents: 0,
    });
    expect(outbox.producerStats().streams).toEqual({ [PIXEL]: counts(0, 0, 2) });
  });

  it('after a write times out on a Redis that stays connected, new events go to Redis again after a backoff; every figure adds up', async () => {
    const { outbox, capi, track, misses, messages, stop } = await watchedProducer({
      writeTimeoutMs: 300,
    });
    proxy.stall();
    for (let i = 0; i < 5; i++) track(`slow-${i}`);
    await waitFor(() => outbox.producerStats().mode === 'fallback');
    const failedAt = Date.now();
    // Redis answers again, and the connection never dropped: no `ready` event to wait for.
    proxy.resume();
    track('meanwhile'); // within the backoff: to memory
    expect(outbox.producerStats().streams).toEqual({
      [PIXEL]: counts(0, 0, 1, 6),
      [STREAM]: counts(0, 0, 1, 6),
    });
    await waitFor(() => outbox.producerStats().mode === 'redis', 5000);
    expect(Date.now() - failedAt).toBeGreaterThanOrEqual(900); // the first backoff: 1 s
    for (let i = 0; i < 5; i++) track(`back-${i}`);
    await capi.flush();
    expect(outbox.producerStats().streams).toEqual({
      [PIXEL]: counts(0, 0, 6, 6),
      [STREAM]: counts(0, 0, 6, 6),
    });
    const backInRedis = (await waitingIds(outbox)).filter((id) => id.startsWith('back-'));
    expect(backInRedis).toHaveLength(10); // 5 events × 2 streams
    await waitFor(() => capi.stats().sent === 12); // the fallback's, sent by this process
    await capi.close();
    stop();
    expect(messages.filter((message) => message.includes('Redis at'))).toEqual([
      expect.stringMatching(/^error: .* is unreachable \(the write took longer than 300 ms\)/),
      expect.stringMatching(/^warn: .* is reachable again/),
    ]);
    expect(misses).toEqual([]);
  });

  it('a try that fails again goes back to memory without a second error and waits twice as long; a write that succeeds resets the wait', async () => {
    // 1 s, not 300 ms: the writes after the stall must succeed, and under a CI load average of 23
    // one took longer than 300 ms and went to memory (enqueued 2, fallback 4). The backoffs
    // measured below start when the fallback begins, so the timeout does not enter them.
    const { outbox, capi, track, misses, messages, stop } = await watchedProducer({
      writeTimeoutMs: 1000,
    });
    const mode = () => outbox.producerStats().mode;
    /** Milliseconds until the producer is in `want` mode. */
    const until = async (want: BullmqProducerStats['mode']) => {
      const from = Date.now();
      await waitFor(() => mode() === want, 10_000);
      return Date.now() - from;
    };
    proxy.stall();
    track('slow-1');
    await until('fallback');
    const first = await until('redis');
    track('try-1'); // Redis still holds writes: this one times out as well
    await waitFor(() => outbox.producerStats().writeFailures === 2);
    expect(mode()).toBe('fallback');
    proxy.resume();
    const second = await until('redis');
    track('back-1');
    await capi.flush();
    expect(outbox.producerStats().streams).toEqual({
      [PIXEL]: counts(0, 0, 2, 2),
      [STREAM]: counts(0, 0, 2, 2),
    });
    // A new outage after that success starts again at 1 s.
    proxy.stall();
    track('slow-2');
    await until('fallback');
    const third = await until('redis');
    proxy.resume();
    track('back-2');
    await capi.flush();
    expect(outbox.producerStats().streams).toEqual({
      [PIXEL]: counts(0, 0, 3, 3),
      [STREAM]: counts(0, 0, 3, 3),
    });
    expect((await waitingIds(outbox)).filter((id) => id.startsWith('back-'))).toHaveLength(4);
    // Timers never fire early; a loaded machine may make them late, hence the wide upper bound.
    expect(first).toBeGreaterThanOrEqual(900); // 1 s
    expect(second).toBeGreaterThanOrEqual(1900); // 2 s after the failed try
    expect(third).toBeLessThan(3000); // 1 s again, not 4 s
    await waitFor(() => capi.stats().sent === 6);
    await capi.close();
    stop();
    // One error per outage (the failed try is the same outage), one warning when it ends.
    expect(messages.filter((message) => message.includes('Redis at'))).toEqual([
      expect.stringMatching(/^error: .* is unreachable/),
      expect.stringMatching(/^warn: .* is reachable again/),
      expect.stringMatching(/^error: .* is unreachable/),
      expect.stringMatching(/^warn: .* is reachable again/),
    ]);
    expect(misses).toEqual([]);
  });

  it('right after close({ timeoutMs }) gave up on a held write, its events are counted as writing; when it fails, as dropped (shutdown)', async () => {
    const undeliverable: Record<string, number> = {};
    const { outbox, capi } = await connected(1000, {
      onUndeliverable: (records, reason) => {
        undeliverable[reason] = (undeliverable[reason] ?? 0) + records.length;
      },
    });
    proxy.stall();
    for (let i = 0; i < 10; i++) capi.track(leadEvent(`close-${i}`));
    await capi.close({ timeoutMs: 100 });
    // close() flushed the buffer into a write Redis has not answered: the events are there.
    expect(outbox.producerStats()).toMatchObject({ buffered: 0, writing: 20, enqueuedEvents: 2 });
    expect(outbox.producerStats().streams).toEqual({
      [PIXEL]: counts(0, 10, 1),
      [STREAM]: counts(0, 10, 1),
    });
    expectAddsUp(capi, outbox, 11);
    expect(capi.stats()).toMatchObject({ queued: 0, inFlight: 0, sent: 0 });

    await waitFor(() => {
      expectAddsUp(capi, outbox, 11);
      return outbox.producerStats().fallbackEvents === 20;
    }, 5000);
    expect(outbox.producerStats().writing).toBe(0);
    expect(capi.stats().pixels[PIXEL]?.dropped.shutdown).toBe(10);
    expect(capi.stats().pixels[STREAM]?.dropped.shutdown).toBe(10);
    expect(undeliverable).toEqual({ shutdown: 20 });
    expectAddsUp(capi, outbox, 11);
  });
});

describe('process.exit() while the producer holds events for Redis', needsRedis, () => {
  const url = needsRedis.skip ? '' : requireRedis();
  const FIXTURE = fileURLToPath(new URL('./fixtures/exit-producer.mjs', import.meta.url));
  let prefix: string;
  let proxy: Awaited<ReturnType<typeof stallableProxy>>;

  beforeEach(async () => {
    prefix = uniquePrefix('exit');
    proxy = await stallableProxy(url);
  });
  afterEach(async () => {
    proxy.resume();
    await proxy.close();
    await deleteKeys(url, prefix);
  });

  /** Runs the fixture to its process.exit(); what its last `exit` listener printed. */
  const exitWith = async (mode: 'buffered' | 'held', count: number) => {
    const child = fork(FIXTURE, [proxy.url, prefix, mock.url, String(count), mode], {
      execArgv: [],
      stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
    });
    let out = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString('utf8');
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    await new Promise((resolve) => child.once('message', resolve));
    if (mode === 'held') proxy.stall();
    child.send('go');
    expect(await exited).toBe(0);
    return JSON.parse(out.trim().split('\n').at(-1) as string) as {
      tracked: number;
      client: {
        sent: number;
        queued: number;
        inFlight: number;
        deadLettered: number;
        dropped: Record<string, number>;
      };
      producer: { buffered: number; writing: number; enqueued: number };
      undeliverable: Record<string, number>;
      warnings: string[];
    };
  };

  // An app's SIGTERM handler that ends with process.exit() and no client.close(): the events
  // waiting for the next addBulk (10 ms by default; longer behind a slow Redis) were lost without
  // a word, counted nowhere the app could see, while the in-memory outbox's are counted as
  // dropped (shutdown), logged and handed to onUndeliverable.
  it.each(['buffered', 'held'] as const)(
    'events %s at exit are counted as dropped (shutdown), said, and handed to onUndeliverable',
    async (mode) => {
      const report = await exitWith(mode, 50);
      expect(report.tracked).toBe(51);
      expect(report.producer).toEqual({ buffered: 0, writing: 0, enqueued: 1 });
      expect(report.client.dropped.shutdown).toBe(50);
      expect(report.undeliverable).toEqual({ shutdown: 50 });
      expect(report.warnings.join('\n')).toContain('the process is exiting before close() ended');
      const { sent, queued, inFlight, deadLettered, dropped } = report.client;
      expect(
        sent + queued + inFlight + deadLettered + sum(dropped) + report.producer.enqueued,
      ).toBe(report.tracked);
    },
  );
});
