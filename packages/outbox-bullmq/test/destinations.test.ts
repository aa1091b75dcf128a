import { fork } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type CapiOptions, type CapiStats, createCapi, type Logger } from '@capi-kit/core';
import { type MockGraph, startMockGraph } from '@capi-kit/testing';
import { tiktok, toTikTokEvent } from '@capi-kit/tiktok';
import type { Job } from 'bullmq';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  type BullmqOutbox,
  type BullmqProducerStats,
  bullmqOutbox,
  type CapiJobData,
  type CapiWorker,
  createCapiWorker,
} from '../src/index.js';
import {
  deleteKeys,
  leadEvent,
  needsRedis,
  rawRecord,
  requireRedis,
  sleep,
  uniquePrefix,
  waitFor,
} from './helpers.js';

// Issue 23: the BullMQ outbox with a destination beside Meta. The producer hands every stream's
// records to the queue (one job per stream), the worker sends each job through its stream's
// destination, and one platform's trouble (outage, throttle, refused token, a worker without its
// configuration) neither delays nor loses the other's events.

const TOKEN = 'EAAtest-token-0123456789';
const TT_TOKEN = 'tt-secret-token-9876543210';
const PIXEL = '1234567890';
const CODE = 'C4ABCDEFGHIJ';
const STREAM = `tiktok:${CODE}`;
const DIST = fileURLToPath(new URL('../dist/index.mjs', import.meta.url));
let mock: MockGraph;

beforeAll(async () => {
  mock = await startMockGraph({ accessToken: TOKEN, tiktokAccessToken: TT_TOKEN });
});
afterAll(() => mock.close());
beforeEach(() => mock.reset());

const tt = () => tiktok({ pixelCode: CODE, accessToken: TT_TOKEN, apiUrl: mock.tiktok.url });

const logs = () => {
  const lines: string[] = [];
  const at = (obj: Record<string, unknown>, msg: string): void => {
    lines.push(`${msg} ${JSON.stringify(obj)}`);
  };
  const logger: Logger = { debug: at, info: at, warn: at, error: at };
  return { logger, lines };
};

const client = (outbox: BullmqOutbox, extra: Partial<CapiOptions> = {}) =>
  createCapi({
    pixelId: PIXEL,
    accessToken: TOKEN,
    graphUrl: mock.url,
    env: false,
    logger: false,
    outbox,
    destinations: [tt()],
    flushIntervalMs: 20,
    retry: { baseDelayMs: 20, maxDelayMs: 100 },
    ...extra,
  });

const sum = (values: Record<string, number>) => Object.values(values).reduce((a, b) => a + b, 0);

/** Per stream: what the producer holds or Redis took, plus what its engine accounts for = what was tracked. */
const accountedOnProducer = (stats: CapiStats, producer: BullmqProducerStats, stream: string) => {
  const p = stats.pixels[stream];
  const engine = p ? p.sent + p.queued + p.inFlight + p.deadLettered + sum(p.dropped) : 0;
  const s = producer.streams[stream];
  return (s ? s.bufferedEvents + s.writingEvents + s.enqueuedEvents : 0) + engine;
};

const metaIds = () => mock.uniqueEventIds().sort();
const tiktokIds = () =>
  [...new Set(mock.tiktok.events().map((e) => String(e.event.event_id)))].sort();

describe('bullmqOutbox with a destination beside Meta, Redis unreachable (no Redis needed)', () => {
  it('the fallback delivers both streams from this process; each stream adds up', async () => {
    const outbox = bullmqOutbox({
      connection: 'redis://127.0.0.1:1',
      connectTimeoutMs: 200,
      logger: logs().logger,
    });
    const capi = client(outbox);
    for (let i = 0; i < 30; i++) capi.track(leadEvent(`fb-${i}`));
    await capi.flush();
    await mock.waitForEvents(30);
    await mock.tiktok.waitForEvents(30);
    const producer = outbox.producerStats();
    expect(producer.streams).toEqual({
      [PIXEL]: { bufferedEvents: 0, writingEvents: 0, enqueuedEvents: 0, fallbackEvents: 30 },
      [STREAM]: { bufferedEvents: 0, writingEvents: 0, enqueuedEvents: 0, fallbackEvents: 30 },
    });
    const stats = capi.stats();
    expect(stats.pixels[PIXEL]?.sent).toBe(30);
    expect(stats.pixels[STREAM]?.sent).toBe(30);
    for (const stream of [PIXEL, STREAM]) {
      expect(accountedOnProducer(stats, producer, stream)).toBe(30);
    }
    await capi.close();
    expect(tiktokIds()).toEqual(metaIds());
    expect(mock.duplicates()).toEqual([]);
    expect(mock.tiktok.duplicates()).toEqual([]);
  });
});

describe('createCapiWorker configuration with destinations (no Redis needed)', () => {
  const base = { connection: 'redis://127.0.0.1:1', env: false as const };
  it('refuses a destination listed twice, half a Meta configuration beside destinations, and a bad unroutedRetryMs, before connecting, without the token', () => {
    const twice = () => createCapiWorker({ ...base, destinations: [tt(), tt()] });
    expect(twice).toThrow(`destination ${STREAM} is listed twice`);
    const halfMeta = () => createCapiWorker({ ...base, pixelId: PIXEL, destinations: [tt()] });
    expect(halfMeta).toThrow(/needs a pixelId and an accessToken/);
    const badRetry = () => createCapiWorker({ ...base, destinations: [tt()], unroutedRetryMs: 0 });
    expect(badRetry).toThrow(RangeError);
    for (const attempt of [twice, halfMeta, badRetry]) {
      try {
        attempt();
      } catch (error) {
        expect(String((error as Error).message)).not.toContain(TT_TOKEN);
      }
    }
  });
});

describe('bullmq with Redis and a destination beside Meta', needsRedis, () => {
  const url = needsRedis.skip ? '' : requireRedis();
  let prefix: string;
  const closers: (() => Promise<unknown>)[] = [];

  beforeEach(() => {
    prefix = uniquePrefix('dest');
  });
  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close();
    await deleteKeys(url, prefix);
  });

  const producer = (extra: Partial<Parameters<typeof bullmqOutbox>[0]> = {}) => {
    // Enough attempts that an outage of a few seconds (50–200 ms backoff) never exhausts them.
    const outbox = bullmqOutbox({
      connection: url,
      prefix,
      jobOptions: { attempts: 200 },
      ...extra,
    });
    closers.push(() => outbox.close());
    return outbox;
  };
  const startWorker = (extra: Partial<Parameters<typeof createCapiWorker>[0]> = {}) => {
    const worker = createCapiWorker({
      connection: url,
      prefix,
      pixelId: PIXEL,
      accessToken: TOKEN,
      graphUrl: mock.url,
      destinations: [tt()],
      env: false,
      baseDelayMs: 50,
      maxDelayMs: 200,
      ...extra,
    });
    closers.push(() => worker.close());
    return worker;
  };
  const jobsDone = (worker: CapiWorker) => {
    const done: Job<CapiJobData>[] = [];
    const failed: { job: Job<CapiJobData>; error: Error }[] = [];
    worker.worker.on('completed', (job) => done.push(job));
    worker.worker.on('failed', (job, error) => {
      if (job) failed.push({ job, error });
    });
    return { done, failed };
  };

  it("says once that the TikTok destination's testEventCode does not reach the events the workers send", async () => {
    // The workers send TikTok's records in their own destination's envelope: the app's code stayed
    // behind, and its test events reached TikTok as live ones without a word.
    const { logger, lines } = logs();
    const warned: { message: string; pixelId?: string | undefined }[] = [];
    const capi = client(producer(), {
      logger,
      destinations: [
        tiktok({
          pixelCode: CODE,
          accessToken: TT_TOKEN,
          apiUrl: mock.tiktok.url,
          testEventCode: 'TEST12345',
        }),
      ],
    });
    capi.on('warn', (info) => warned.push({ message: info.message, pixelId: info.pixelId }));
    for (let i = 0; i < 3; i++) capi.track(leadEvent(`tt-tec-${i}`));
    await capi.flush();
    capi.track(leadEvent('tt-tec-3'));
    await capi.flush();
    const told = lines.filter((line) => line.includes('testEventCode'));
    expect(told).toHaveLength(1);
    expect(told[0]).toContain(
      'set testEventCode on the TikTok destination where they are delivered',
    );
    expect(told[0]).toContain(`"pixelId":"${STREAM}"`);
    expect(warned.filter((w) => w.message.includes('testEventCode'))).toEqual([
      { message: expect.stringContaining('TikTok destination'), pixelId: STREAM },
    ]);
    // Without a code on the destination (nor on the client), nothing is said.
    const quiet = logs();
    const plain = client(producer(), { logger: quiet.logger });
    plain.track(leadEvent('tt-tec-plain'));
    await plain.flush();
    expect(quiet.lines.filter((line) => line.includes('testEventCode'))).toEqual([]);
    await plain.close();
    await capi.close();
  });

  it('the producer delegates every stream (one job per stream), each stream adds up; a worker with destinations delivers both with one event_id, the token only in the header', async () => {
    const outbox = producer();
    const capi = client(outbox);
    for (let i = 0; i < 300; i++) capi.track(leadEvent(`both-${i}`));
    await capi.flush();
    const jobs = await outbox.queue.getWaiting();
    const perStream: Record<string, number> = {};
    for (const job of jobs) {
      perStream[job.data.pixelId] = (perStream[job.data.pixelId] ?? 0) + job.data.records.length;
    }
    expect(perStream).toEqual({ [PIXEL]: 300, [STREAM]: 300 });
    const producerStats = outbox.producerStats();
    expect(producerStats.streams).toEqual({
      [PIXEL]: { bufferedEvents: 0, writingEvents: 0, enqueuedEvents: 300, fallbackEvents: 0 },
      [STREAM]: { bufferedEvents: 0, writingEvents: 0, enqueuedEvents: 300, fallbackEvents: 0 },
    });
    const stats = capi.stats();
    expect(stats.queued + stats.inFlight + stats.sent).toBe(0); // the workers' job
    for (const stream of [PIXEL, STREAM]) {
      expect(accountedOnProducer(stats, producerStats, stream)).toBe(300);
    }
    expect(mock.requests()).toHaveLength(0);
    expect(mock.tiktok.requests()).toHaveLength(0);

    const { logger, lines } = logs();
    const worker = startWorker({ logger });
    const sent: string[] = [];
    worker.on('sent', (info) => {
      sent.push(info.pixelId);
    });
    await mock.waitForEvents(300, { timeoutMs: 10_000 });
    await mock.tiktok.waitForEvents(300, { timeoutMs: 10_000 });
    expect(tiktokIds()).toEqual(metaIds());
    expect(tiktokIds()).toHaveLength(300);
    expect(mock.duplicates()).toEqual([]);
    expect(mock.tiktok.duplicates()).toEqual([]);
    // Every TikTok request valid by TikTok's rules, its token in the Access-Token header only.
    expect(mock.tiktok.rejections()).toEqual([]);
    for (const request of mock.tiktok.requests()) {
      expect(request).toMatchObject({
        hasAccessToken: true,
        tokenInUrl: false,
        tokenInBody: false,
      });
    }
    await waitFor(() => worker.stats().sent === 600);
    expect(new Set(sent)).toEqual(new Set([PIXEL, STREAM]));
    expect(worker.stats()).toMatchObject({ failed: 0, unrouted: 0, rejected: 0 });
    expect(lines.join('\n')).not.toContain(TT_TOKEN);
    await capi.close();
  });

  it('part to Redis, part to the fallback (a slow Redis): each stream still adds up on the producer, and every event reaches both platforms once', async () => {
    // 50 records may wait for Redis; the rest of the burst goes to the in-memory fallback,
    // which this process delivers itself.
    const outbox = producer({ maxBufferedEvents: 50 });
    const capi = client(outbox);
    startWorker();
    for (let i = 0; i < 200; i++) capi.track(leadEvent(`mixed-${i}`));
    await capi.flush();
    await mock.waitForEvents(200, { timeoutMs: 10_000 });
    await mock.tiktok.waitForEvents(200, { timeoutMs: 10_000 });
    await waitFor(() => capi.stats().queued + capi.stats().inFlight === 0);
    const producerStats = outbox.producerStats();
    for (const stream of [PIXEL, STREAM]) {
      const { enqueuedEvents = 0, fallbackEvents = 0 } = producerStats.streams[stream] ?? {};
      expect(enqueuedEvents).toBeGreaterThan(0);
      expect(fallbackEvents).toBeGreaterThan(0);
      expect(enqueuedEvents + fallbackEvents).toBe(200);
      expect(capi.stats().pixels[stream]?.sent).toBe(fallbackEvents);
      expect(accountedOnProducer(capi.stats(), producerStats, stream)).toBe(200);
    }
    expect(tiktokIds()).toEqual(metaIds());
    expect(tiktokIds()).toHaveLength(200);
    expect(mock.duplicates()).toEqual([]);
    expect(mock.tiktok.duplicates()).toEqual([]);
    await capi.close();
  });

  it('a TikTok outage does not delay Meta in the worker, and TikTok gets every event after it', async () => {
    const outbox = producer();
    const capi = client(outbox);
    const worker = startWorker();
    mock.tiktok.outage(503);
    const started = Date.now();
    for (let i = 0; i < 200; i++) capi.track(leadEvent(`tt-down-${i}`));
    await capi.flush();
    await mock.waitForEvents(200, { timeoutMs: 5000 });
    const metaMs = Date.now() - started;
    await waitFor(() => mock.tiktok.rejections().length > 0);
    expect(mock.tiktok.events()).toHaveLength(0);
    // More Meta events while TikTok's jobs are retrying: they go through as fast.
    for (let i = 200; i < 300; i++) capi.track(leadEvent(`tt-down-${i}`));
    await capi.flush();
    await mock.waitForEvents(300, { timeoutMs: 5000 });
    expect(mock.tiktok.events()).toHaveLength(0);
    mock.tiktok.recover();
    await mock.tiktok.waitForEvents(300, { timeoutMs: 15_000 });
    console.log(
      `[tiktok outage] Meta's 200 events in ${metaMs} ms while TikTok answered 503 to ${mock.tiktok.rejections().length} requests`,
    );
    expect(tiktokIds()).toEqual(metaIds());
    expect(mock.duplicates()).toEqual([]);
    expect(mock.tiktok.duplicates()).toEqual([]);
    expect(worker.stats().retried).toBeGreaterThan(0);
    await capi.close();
  });

  it('a Meta outage does not delay TikTok in the worker, and Meta gets every event after it', async () => {
    const outbox = producer();
    const capi = client(outbox);
    startWorker();
    mock.outage(503);
    for (let i = 0; i < 200; i++) capi.track(leadEvent(`fb-down-${i}`));
    await capi.flush();
    await mock.tiktok.waitForEvents(200, { timeoutMs: 5000 });
    expect(mock.events()).toHaveLength(0);
    expect(mock.rejections().length).toBeGreaterThan(0);
    mock.recover();
    await mock.waitForEvents(200, { timeoutMs: 15_000 });
    expect(metaIds()).toEqual(tiktokIds());
    expect(mock.duplicates()).toEqual([]);
    expect(mock.tiktok.duplicates()).toEqual([]);
    await capi.close();
  });

  it("TikTok's throttle pauses TikTok's stream only (no attempt spent); Meta goes on", async () => {
    const outbox = producer({ jobOptions: { attempts: 1 } });
    const capi = client(outbox);
    const worker = startWorker({ throttlePauseMs: 3000 });
    const { done, failed } = jobsDone(worker);
    mock.tiktok.failNext('throttle');
    for (let i = 0; i < 20; i++) capi.track(leadEvent(`th-a-${i}`));
    await capi.flush();
    await mock.waitForEvents(20);
    await waitFor(() => mock.tiktok.requests().length === 1);
    const pausedAt = Date.now();
    // While TikTok's stream is paused: Meta's next job is sent at once, TikTok's waits unsent.
    for (let i = 0; i < 20; i++) capi.track(leadEvent(`th-b-${i}`));
    await capi.flush();
    await mock.waitForEvents(40, { timeoutMs: 1000 });
    expect(mock.tiktok.events()).toHaveLength(0);
    await mock.tiktok.waitForEvents(40, { timeoutMs: 10_000 });
    expect(Date.now() - pausedAt).toBeGreaterThanOrEqual(1400); // equal jitter: 1.5–3 s
    // One throttled request, then the events: the paused job was never sent during the pause.
    expect(mock.tiktok.requests()[0]?.code).toBe(40100);
    expect(mock.tiktok.rejections()).toHaveLength(1);
    // attempts: 1 and still delivered: being paused spent no attempt.
    expect(failed).toEqual([]);
    await waitFor(() => done.length === 4);
    expect(worker.stats().rateLimited).toBeGreaterThanOrEqual(2);
    expect(tiktokIds()).toEqual(metaIds());
    await capi.close();
  });

  it('TikTok refusing its token pauses its stream, says so without the token, and Meta goes on', async () => {
    const outbox = producer();
    const capi = client(outbox);
    const { logger, lines } = logs();
    const worker = startWorker({ authPauseMs: 800, logger });
    const errors: { kind: string; pixelId?: string | undefined; message: string }[] = [];
    worker.on('error', (info) => {
      errors.push({ kind: info.kind, pixelId: info.pixelId, message: info.error.message });
    });
    mock.tiktok.failNext('auth');
    for (let i = 0; i < 10; i++) capi.track(leadEvent(`auth-${i}`));
    await capi.flush();
    await mock.waitForEvents(10);
    await mock.tiktok.waitForEvents(10, { timeoutMs: 10_000 });
    expect(mock.tiktok.requests()[0]?.code).toBe(40105);
    expect(errors.some((e) => e.kind === 'auth' && e.pixelId === STREAM)).toBe(true);
    expect(
      lines.some((l) => l.includes(`TikTok refused the access token for stream ${STREAM}`)),
    ).toBe(true);
    expect(JSON.stringify(errors)).not.toContain(TT_TOKEN);
    expect(lines.join('\n')).not.toContain(TT_TOKEN);
    expect(tiktokIds()).toEqual(metaIds());
    await capi.close();
  });

  it("an event TikTok rejects is isolated by TikTok's classifier: the others are delivered, the job fails with TikTok's message", async () => {
    const outbox = producer();
    const worker = startWorker();
    const { failed } = jobsDone(worker);
    const wire = (id: string) =>
      toTikTokEvent(leadEvent(id), { eventId: id }).event as unknown as Record<string, unknown>;
    const records = Array.from({ length: 8 }, (_, i) => {
      const w = wire(`ttbis-${i}`);
      return { ...rawRecord(STREAM, { ...w, event_name: w.event }), body: JSON.stringify(w) };
    });
    const bad = wire('ttbis-bad');
    bad.user = { ...(bad.user as object), email: 'not-hashed@example.com' };
    records.splice(3, 0, {
      ...rawRecord(STREAM, { ...bad, event_name: bad.event }),
      body: JSON.stringify(bad),
    });
    await outbox.queue.add('events', { v: 1, pixelId: STREAM, records }, { attempts: 5 });
    await waitFor(() => failed.length === 1);
    const { job, error } = failed[0] as (typeof failed)[number];
    expect(error.name).toBe('UnrecoverableError');
    expect(error.message).toMatch(/^TikTok rejected 1 event\(s\): HTTP 200 TikTok code 40002/);
    expect(error.message).toContain('user.email');
    expect(error.message).not.toContain('not-hashed@example.com');
    expect(error.message).not.toContain(TT_TOKEN);
    const stored = await outbox.queue.getJob(job.id as string);
    expect(stored?.data.records.map((r) => r.eventId)).toEqual(['ttbis-bad']);
    expect(tiktokIds()).toEqual(Array.from({ length: 8 }, (_, i) => `ttbis-${i}`).sort());
    expect(worker.stats()).toMatchObject({ sent: 8, rejected: 1, failed: 1 });
  });

  it('a worker without the destination keeps its jobs (delayed, no attempt spent), names the stream and what to configure; a worker with it delivers them', async () => {
    const outbox = producer({ jobOptions: { attempts: 1 } });
    const capi = client(outbox);
    const { logger, lines } = logs();
    const metaOnly = createCapiWorker({
      connection: url,
      prefix,
      pixelId: PIXEL,
      accessToken: TOKEN,
      graphUrl: mock.url,
      env: false,
      logger,
      unroutedRetryMs: 300,
    });
    closers.push(() => metaOnly.close());
    const errors: string[] = [];
    metaOnly.on('error', (info) => {
      errors.push(`${info.kind} ${info.pixelId}: ${info.error.message}`);
    });
    for (let i = 0; i < 25; i++) capi.track(leadEvent(`unrouted-${i}`));
    await capi.flush();
    await mock.waitForEvents(25);
    await waitFor(() => metaOnly.stats().unrouted >= 2);
    expect(mock.tiktok.requests()).toHaveLength(0);
    const [job] = (await outbox.queue.getJobs(['delayed', 'wait', 'active'])).filter(
      (j) => j.data.pixelId === STREAM,
    );
    expect(job?.data.records).toHaveLength(25);
    expect(job?.attemptsMade).toBe(0);
    expect(await outbox.queue.getFailedCount()).toBe(0);
    // Said once per interval, naming the stream key and the option, never a token.
    expect(errors[0]).toMatch(
      new RegExp(
        `^outbox ${STREAM}: no destination for stream ${STREAM} in this worker: add the tiktok destination for id ${CODE} to createCapiWorker\\(\\{ destinations \\}\\)`,
      ),
    );
    expect(lines.some((l) => l.includes(`no destination for stream ${STREAM}`))).toBe(true);
    expect(`${errors.join('\n')}${lines.join('\n')}`).not.toContain(TT_TOKEN);
    const { logs: jobLogs } = await outbox.queue.getJobLogs(job?.id as string);
    expect(jobLogs[0]).toContain(`no destination for stream ${STREAM}`);

    // A rolling deploy: the worker with the destination arrives and takes the job.
    await metaOnly.close();
    startWorker();
    await mock.tiktok.waitForEvents(25, { timeoutMs: 10_000 });
    expect(tiktokIds()).toEqual(metaIds());
    expect(mock.duplicates()).toEqual([]);
    await capi.close();
  });

  it('a worker restart during a TikTok outage loses nothing: the next worker delivers every TikTok event, Meta’s once', async () => {
    const outbox = producer();
    const capi = client(outbox);
    const first = startWorker({ timeoutMs: 500 });
    mock.tiktok.outage('hang');
    for (let i = 0; i < 150; i++) capi.track(leadEvent(`restart-${i}`));
    await capi.flush();
    await mock.waitForEvents(150);
    await waitFor(() => mock.tiktok.requests().length > 0);
    await first.close();
    // Between the two workers, the TikTok events wait in Redis.
    const left = await outbox.queue.getJobs(['wait', 'delayed', 'active', 'prioritized']);
    expect(
      left.filter((j) => j.data.pixelId === STREAM).flatMap((j) => j.data.records),
    ).toHaveLength(150);
    expect(left.filter((j) => j.data.pixelId === PIXEL)).toEqual([]);
    await sleep(100);
    mock.tiktok.recover();
    startWorker();
    await mock.tiktok.waitForEvents(150, { timeoutMs: 15_000 });
    expect(tiktokIds()).toEqual(metaIds());
    expect(mock.duplicates()).toEqual([]);
    expect(mock.tiktok.duplicates()).toEqual([]);
    await capi.close();
  });

  it('a worker killed (-9) while TikTok hangs: its stalled TikTok job is taken over and delivered after the outage, Meta’s events once', async () => {
    if (!existsSync(DIST)) throw new Error('build first: the child process runs dist/');
    const outbox = producer();
    const capi = client(outbox);
    mock.tiktok.outage('hang');
    const child = fork(
      fileURLToPath(new URL('./fixtures/destinations-worker.mjs', import.meta.url)),
      [url, prefix, mock.url, mock.tiktok.url],
      { execArgv: [], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] },
    );
    const exited = new Promise<NodeJS.Signals | null>((resolve) =>
      child.once('exit', (_code, signal) => resolve(signal)),
    );
    closers.push(async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    });
    const messages: { type: string; stream?: string }[] = [];
    child.on('message', (m: { type: string; stream?: string }) => messages.push(m));
    await waitFor(() => messages.some((m) => m.type === 'ready'));
    for (let i = 0; i < 120; i++) capi.track(leadEvent(`kill-${i}`));
    await capi.flush();
    await mock.waitForEvents(120);
    // Meta's job done (acknowledged to BullMQ, else BullMQ would rightly run it again), and the
    // child's TikTok job active: its request hangs at the mock.
    await waitFor(() => messages.some((m) => m.type === 'completed' && m.stream === PIXEL));
    await waitFor(() => messages.some((m) => m.type === 'active' && m.stream === STREAM));
    await waitFor(() => mock.tiktok.requests().length > 0);
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');
    expect(mock.tiktok.events()).toHaveLength(0);

    mock.tiktok.recover();
    const next = startWorker({
      workerOptions: { stalledInterval: 500, lockDuration: 2000, maxStalledCount: 5 },
    });
    await mock.tiktok.waitForEvents(120, { timeoutMs: 20_000 });
    expect(tiktokIds()).toEqual(metaIds());
    expect(mock.duplicates()).toEqual([]);
    expect(mock.tiktok.duplicates()).toEqual([]);
    await waitFor(() => next.stats().sent === 120);
    expect(next.stats()).toMatchObject({ rerun: 1, rerunEvents: 120 });
    await capi.close();
  });

  it('a TikTok-only worker (destinations, no Meta configuration) sends TikTok jobs and leaves Meta jobs waiting', async () => {
    const outbox = producer();
    const capi = client(outbox);
    const worker = createCapiWorker({
      connection: url,
      prefix,
      destinations: [tt()],
      env: false,
      unroutedRetryMs: 60_000,
      logger: logs().logger,
    });
    closers.push(() => worker.close());
    for (let i = 0; i < 5; i++) capi.track(leadEvent(`ttonly-${i}`));
    await capi.flush();
    await mock.tiktok.waitForEvents(5);
    // Counted first, then moved: wait until BullMQ shows it delayed.
    await waitFor(async () => (await outbox.queue.getDelayed()).length === 1);
    expect(worker.stats().unrouted).toBe(1);
    expect(mock.requests()).toHaveLength(0);
    const delayed = await outbox.queue.getDelayed();
    expect(delayed.map((j) => j.data.pixelId)).toEqual([PIXEL]);
    await capi.close();
  });
});
