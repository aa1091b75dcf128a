import { spawnSync } from 'node:child_process';
import { inspect } from 'node:util';
import { type CapiOptions, createCapi, type Logger } from '@capi-kit/core';
import { type MockGraph, startMockGraph } from '@capi-kit/testing';
import { type Job, Worker } from 'bullmq';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  type BullmqOutbox,
  bullmqOutbox,
  type CapiJobData,
  type CapiWorker,
  createCapiWorker,
} from '../src/index.js';
import { DEFAULT_QUEUE_NAME } from '../src/job.js';
import {
  deleteKeys,
  leadEvent,
  needsRedis,
  rawRecord,
  requireRedis,
  uniquePrefix,
  waitFor,
  wireLead,
} from './helpers.js';

const TOKEN = 'EAAtest-token-0123456789';
const PIXEL = '1234567890';
let mock: MockGraph;

beforeAll(async () => {
  mock = await startMockGraph({ accessToken: TOKEN });
});
afterAll(() => mock.close());
beforeEach(() => mock.reset());

const logs = () => {
  const lines: { level: string; msg: string }[] = [];
  const at =
    (level: string) =>
    (_obj: Record<string, unknown>, msg: string): void => {
      lines.push({ level, msg });
    };
  const logger: Logger = {
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
  };
  return { logger, lines };
};

const client = (outbox: BullmqOutbox, extra: Partial<CapiOptions> = {}) =>
  createCapi({
    pixelId: PIXEL,
    accessToken: TOKEN,
    graphUrl: mock.url,
    env: false,
    outbox,
    flushIntervalMs: 20,
    retry: { baseDelayMs: 20, maxDelayMs: 100 },
    ...extra,
  });

describe('bullmqOutbox options (no Redis needed)', () => {
  it('refuses a timer option past setTimeout’s limit (2^31 − 1 ms, which Node turns into 1 ms), naming it', async () => {
    for (const name of [
      'flushIntervalMs',
      'connectTimeoutMs',
      'writeTimeoutMs',
      'untakenAfterMs',
    ] as const) {
      for (const value of [2 ** 31, Number.POSITIVE_INFINITY]) {
        const create = () => {
          // Closed at once if it is (wrongly) accepted, so no connection attempt outlives the test.
          void bullmqOutbox({ connection: 'redis://127.0.0.1:1', [name]: value }).close();
        };
        expect(create).toThrow(RangeError);
        expect(create).toThrow(`bullmqOutbox: ${name} must be in (0, 2147483647], got ${value}`);
      }
      const outbox = bullmqOutbox({ connection: 'redis://127.0.0.1:1', [name]: 2 ** 31 - 1 });
      await outbox.close();
    }
  });
});

describe('connection URLs (no Redis needed)', () => {
  it('a URL that does not parse is refused without echoing it: the password stays out of the error and of what logs print of it', () => {
    // An unencoded '/' in the password: the password ends up in the authority's port.
    const url = 'redis://:s3cr/et-pw@127.0.0.1:6379';
    for (const create of [
      () => bullmqOutbox({ connection: url }),
      () =>
        createCapiWorker({
          connection: url,
          pixelId: PIXEL,
          accessToken: TOKEN,
          env: false,
          workerOptions: { autorun: false },
        }),
    ]) {
      let thrown: unknown;
      try {
        void create().close();
      } catch (error) {
        thrown = error;
      }
      // What console.error or a logger's serializer would print: the message, the stack, own properties.
      expect(inspect(thrown)).not.toMatch(/s3cr|et-pw/);
      expect(JSON.stringify(thrown)).not.toMatch(/s3cr|et-pw/);
      expect(thrown).toBeInstanceOf(TypeError);
      expect((thrown as Error).message).toMatch(/does not parse.*percent-encoded/);
    }
  });
});

describe('logging an outbox or a worker (no Redis needed)', () => {
  it('console.log, util.inspect and JSON.stringify of the handles never show the Redis password', async () => {
    const password = 'pw-Redis-0123456789';
    const connection = `redis://capi:${password}@127.0.0.1:1/2`;
    const outbox = bullmqOutbox({ connection, connectTimeoutMs: 200 });
    const worker = createCapiWorker({
      connection,
      pixelId: PIXEL,
      accessToken: TOKEN,
      env: false,
      workerOptions: { autorun: false },
    });
    try {
      for (const handle of [outbox, worker]) {
        const printed = [
          inspect(handle),
          inspect(handle, { depth: 8, showHidden: true, getters: true }),
          JSON.stringify(handle),
        ];
        // Deep enough to reach the ioredis options (the default depth of 2 stops above them).
        expect(printed.join('\n')).not.toContain(password);
        expect(printed.join('\n')).not.toContain(TOKEN);
        // What it is and where, still.
        for (const text of printed) expect(text).toContain('127.0.0.1:1');
      }
      // The queue is still there for the app's own use.
      expect(outbox.queue.name).toBe(DEFAULT_QUEUE_NAME);
      expect(worker.queue.name).toBe(DEFAULT_QUEUE_NAME);
    } finally {
      await Promise.all([outbox.close(), worker.close()]);
    }
  });
});

describe('a host:port connection (no Redis needed)', () => {
  it('names the fix, redis://host:port, instead of "got localhost:" or blaming a password', () => {
    for (const [given, fix] of [
      ['localhost:6379', 'redis://localhost:6379'],
      ['127.0.0.1:6380', 'redis://127.0.0.1:6380'],
      ['redis.internal.example:6379', 'redis://redis.internal.example:6379'],
    ] as const) {
      for (const create of [
        () => bullmqOutbox({ connection: given }),
        () =>
          createCapiWorker({
            connection: given,
            pixelId: PIXEL,
            accessToken: TOKEN,
            env: false,
            workerOptions: { autorun: false },
          }),
      ]) {
        expect(() => void create().close()).toThrow(
          `expected a redis:// or rediss:// URL, got host:port without a scheme: write ${fix} (or rediss:// for TLS)`,
        );
      }
    }
  });
});

describe('pixelId beside pixels (no Redis needed)', () => {
  it('is refused, as createCapi refuses it: pixels replaces pixelId, whose jobs would find no route', () => {
    const create = (pixelId: string) =>
      createCapiWorker({
        connection: 'redis://127.0.0.1:1',
        pixelId,
        accessToken: TOKEN,
        pixels: [{ pixelId: '2234567890', accessToken: TOKEN }],
        env: false,
        workerOptions: { autorun: false },
      });
    expect(() => void create(PIXEL).close()).toThrow(
      /^createCapiWorker: pixelId is given beside pixels, which replace it, so its events would not be sent: list every pixel in pixels/,
    );
    // Listed in pixels too, it is only redundant.
    void create('2234567890').close();
  });
});

describe('connection options with a url (no Redis needed)', () => {
  it("BullMQ's { url } form is the URL: the producer connects where the workers do, not to 127.0.0.1:6379", async () => {
    const { logger, lines } = logs();
    const outbox = bullmqOutbox({
      connection: { url: 'redis://127.0.0.1:1' },
      // Its own keys, should it reach a Redis on 6379 (as it did).
      prefix: uniquePrefix('url-form'),
      connectTimeoutMs: 200,
      logger,
    });
    outbox.append([rawRecord(PIXEL, wireLead('url-form'))]);
    await outbox.flush();
    await outbox.close();
    expect(outbox.producerStats()).toMatchObject({ mode: 'fallback', enqueuedEvents: 0 });
    expect(lines.find((l) => l.level === 'error')?.msg).toMatch(
      /^Redis at 127\.0\.0\.1:1 is unreachable/,
    );
  });
});

describe('connection URL database (no Redis needed)', () => {
  it('a path that is not a database number is refused, naming it; ioredis would send SELECT NaN and crash the process at ready', () => {
    for (const path of ['/cache', '/1.5', '/-1', '/0/x']) {
      const connection = `redis://127.0.0.1:1${path}`;
      for (const create of [
        () => bullmqOutbox({ connection }),
        () =>
          createCapiWorker({
            connection,
            pixelId: PIXEL,
            accessToken: TOKEN,
            env: false,
            workerOptions: { autorun: false },
          }),
      ]) {
        // Closed at once if it is (wrongly) accepted, so no connection attempt outlives the test.
        const attempt = () => void create().close();
        expect(attempt).toThrow(TypeError);
        expect(attempt).toThrow(`the path of a redis:// URL is the database number, got "${path}"`);
      }
    }
    // Database numbers are taken.
    void bullmqOutbox({ connection: 'redis://127.0.0.1:1/3' }).close();
  });
});

describe('bullmqOutbox options refused after the connection is set up (no Redis needed)', () => {
  it('a queue name BullMQ refuses, or a bad fallback bound, throws and leaves no connection behind: a process that catches it exits by itself', () => {
    const dist = new URL('../dist/index.mjs', import.meta.url).href;
    for (const options of ["queueName: 'events:meta'", 'fallback: { maxEvents: 0 }']) {
      // A real process: the test's own event loop would hide a socket that keeps one alive.
      const script = `
        import { bullmqOutbox } from '${dist}';
        try {
          bullmqOutbox({ connection: 'redis://127.0.0.1:1', ${options} });
          console.log('accepted');
        } catch (error) {
          console.log('refused: ' + error.message);
        }`;
      const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
        encoding: 'utf8',
        // Long enough for a loaded machine to start Node and load BullMQ (5 s was not, once).
        timeout: 30_000,
      });
      expect(run.stdout).toMatch(/^refused: /);
      // Killed by the timeout (SIGTERM) when something kept it alive.
      expect({ signal: run.signal, status: run.status }).toEqual({ signal: null, status: 0 });
    }
  });
});

describe('createCapiWorker options BullMQ refuses after connecting (no Redis needed)', () => {
  it('concurrency 0, or a stalledInterval, drainDelay, maxStalledCount BullMQ refuses, throws naming it and leaves no connection behind: a process that catches it exits by itself', () => {
    const dist = new URL('../dist/index.mjs', import.meta.url).href;
    for (const [options, name] of [
      ['concurrency: 0', 'concurrency'],
      ['concurrency: 0.5', 'concurrency'],
      ['workerOptions: { stalledInterval: 0 }', 'stalledInterval'],
      ['workerOptions: { drainDelay: -5 }', 'drainDelay'],
      ['workerOptions: { maxStalledCount: -1 }', 'maxStalledCount'],
      ['workerOptions: { maxStartedAttempts: -1 }', 'maxStartedAttempts'],
    ]) {
      // BullMQ's Worker checks these once its connection is open: the error left that connection
      // (and the worker's queue's) retrying forever, nobody holding them to close.
      const script = `
        import { createCapiWorker } from '${dist}';
        try {
          createCapiWorker({ connection: 'redis://127.0.0.1:1', pixelId: '${PIXEL}', accessToken: '${TOKEN}', env: false, ${options} });
          console.log('accepted');
        } catch (error) {
          console.log('refused: ' + error.message);
        }`;
      // 30 s: a loaded machine took over 5 s to start Node and load BullMQ, killing a child that
      // would have exited by itself; a child kept alive by a connection is still killed, and fails.
      const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
        encoding: 'utf8',
        timeout: 30_000,
      });
      expect(run.stdout).toMatch(new RegExp(`^refused: createCapiWorker: ${name} `));
      expect(run.stdout).not.toContain(TOKEN);
      // Killed by the timeout (SIGTERM) when something kept it alive.
      expect({ signal: run.signal, status: run.status }).toEqual({ signal: null, status: 0 });
    }
  }, 200_000);
});

describe('createCapiWorker options (no Redis needed)', () => {
  const base = {
    connection: 'redis://127.0.0.1:1',
    pixelId: PIXEL,
    accessToken: TOKEN,
    env: false as const,
    // Not started: an accepted worker is closed at once, before it asks Redis for a job.
    workerOptions: { autorun: false },
  };
  const delays = [
    'baseDelayMs',
    'maxDelayMs',
    'maxRetryAfterMs',
    'throttlePauseMs',
    'authPauseMs',
    'unroutedRetryMs',
  ] as const;
  const positive = new Set<string>(['authPauseMs', 'unroutedRetryMs']);

  it('refuses a delay that is not a number Redis takes as one (NaN, negative, Infinity, above 2^53 − 1), naming it and the bound', () => {
    for (const name of delays) {
      const bad: unknown[] = [Number.NaN, -1, Number.POSITIVE_INFINITY, 1e20, '5'];
      if (positive.has(name)) bad.push(0);
      for (const value of bad) {
        const create = () => {
          // Closed at once if it is (wrongly) accepted, so no connection attempt outlives the test.
          void createCapiWorker({ ...base, [name]: value }).close();
        };
        expect(create).toThrow(RangeError);
        expect(create).toThrow(
          `createCapiWorker: ${name} must be in ${positive.has(name) ? '(' : '['}0, 9007199254740991], got ${String(value)}`,
        );
      }
    }
  });

  it('takes a delay past setTimeout’s limit: it is kept in Redis (a rate-limit key, a delayed job), not in a Node timer', async () => {
    for (const name of delays) {
      for (const value of [2 ** 31, Number.MAX_SAFE_INTEGER]) {
        await createCapiWorker({ ...base, [name]: value }).close();
      }
    }
  });
});

describe('bullmqOutbox when Redis is unreachable (no Redis needed)', () => {
  it('close() twice at once closes the queue once, and both calls wait for that close', async () => {
    const outbox = bullmqOutbox({ connection: 'redis://127.0.0.1:1', connectTimeoutMs: 200 });
    const queueClose = outbox.queue.close.bind(outbox.queue);
    let closes = 0;
    let queueClosed = false;
    outbox.queue.close = async () => {
      closes++;
      await queueClose();
      queueClosed = true;
    };
    const seen: boolean[] = [];
    await Promise.all(
      [outbox.close(), outbox.close()].map((p) => p.then(() => seen.push(queueClosed))),
    );
    await outbox.close(); // after it: nothing more
    expect({ closes, seen }).toEqual({ closes: 1, seen: [true, true] });
  });

  it('fails fast, says so loudly, and delivers from memory in this process', async () => {
    const { logger, lines } = logs();
    const outbox = bullmqOutbox({ connection: 'redis://127.0.0.1:1', connectTimeoutMs: 200 });
    const capi = client(outbox, { logger });
    const errors: string[] = [];
    capi.on('error', (info) => {
      errors.push(`${info.kind}: ${info.error.message}`);
    });
    const started = Date.now();
    for (let i = 0; i < 20; i++) capi.track(leadEvent(`fb-${i}`));
    await capi.flush();
    expect(Date.now() - started).toBeLessThan(2000);
    expect(outbox.producerStats()).toMatchObject({ mode: 'fallback', fallbackEvents: 20 });
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/^outbox: .*Redis at 127\.0\.0\.1:1 is unreachable/);
    expect(lines.some((l) => l.level === 'error' && /unreachable/.test(l.msg))).toBe(true);
    await mock.waitForEvents(20);
    // Later events skip Redis entirely while it is down.
    capi.track(leadEvent('fb-late'));
    expect(outbox.producerStats().fallbackEvents).toBe(21);
    await mock.waitForEvents(21);
    await capi.close();
    expect(mock.duplicates()).toEqual([]);
  });

  it('a logger that throws (before createCapi attaches) does not break the write: flush() resolves, the events are in the fallback', async () => {
    const broken = () => {
      throw new Error('logger broke');
    };
    const outbox = bullmqOutbox({
      connection: 'redis://127.0.0.1:1',
      connectTimeoutMs: 100,
      logger: { debug() {}, info() {}, warn: broken, error: broken },
    });
    outbox.append([rawRecord(PIXEL, wireLead('logged'))]);
    await expect(outbox.flush()).resolves.toBeUndefined();
    expect(outbox.producerStats()).toMatchObject({
      mode: 'fallback',
      writing: 0,
      fallbackEvents: 1,
    });
    expect((await outbox.stats()).queued).toBe(1);
    await outbox.close();
  });

  it('events whose Redis write outlasts close() are counted as dropped (shutdown) and handed over, not left queued', async () => {
    // A shutdown budget shorter than the wait for Redis: close() returns, then the producer gives
    // up on Redis and its fallback takes the events, for a client that will never send again.
    const outbox = bullmqOutbox({ connection: 'redis://127.0.0.1:1', connectTimeoutMs: 600 });
    const undeliverable: [number, string][] = [];
    const capi = client(outbox, {
      logger: logs().logger,
      onUndeliverable: (records, reason) => {
        undeliverable.push([records.length, reason]);
      },
    });
    for (let i = 0; i < 3; i++) capi.track(leadEvent(`late-${i}`));
    await capi.close({ timeoutMs: 100 });
    await waitFor(() => outbox.producerStats().fallbackEvents === 3, 5000);
    await waitFor(() => capi.stats().dropped.shutdown === 3, 5000);
    expect(capi.stats()).toMatchObject({ queued: 0, inFlight: 0, sent: 0 });
    expect(undeliverable).toEqual([[3, 'shutdown']]);
    expect(mock.requests()).toHaveLength(0);
  });
});

describe('bullmq with Redis', needsRedis, () => {
  const url = needsRedis.skip ? '' : requireRedis();
  let prefix: string;
  const closers: (() => Promise<unknown>)[] = [];

  beforeEach(() => {
    prefix = uniquePrefix('unit');
  });
  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close();
    await deleteKeys(url, prefix);
  });

  // Redis is up in these cases: writes get all the time a loaded machine needs (the 2 s default
  // sent a CI run's 2,500 events to the fallback, failing a test about grouping, not timeouts).
  const producer = (extra: Partial<Parameters<typeof bullmqOutbox>[0]> = {}) => {
    const outbox = bullmqOutbox({
      connection: url,
      prefix,
      connectTimeoutMs: 30_000,
      writeTimeoutMs: 30_000,
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

  it('says once that a testEventCode on the app’s client does not reach the events the workers send', async () => {
    const { logger, lines } = logs();
    const warned: string[] = [];
    const outbox = producer();
    const capi = client(outbox, { logger, testEventCode: 'TEST4321' });
    capi.on('warn', (info) => warned.push(info.message));
    for (let i = 0; i < 3; i++) capi.track(leadEvent(`tec-${i}`));
    await capi.flush();
    capi.track(leadEvent('tec-3'));
    await capi.flush();
    const told = lines.filter((line) => line.msg.includes('testEventCode'));
    expect(told).toEqual([
      {
        level: 'warn',
        msg: expect.stringContaining(
          'set testEventCode (or META_TEST_EVENT_CODE) where they are delivered',
        ),
      },
    ]);
    expect(warned.filter((m) => m.includes('testEventCode'))).toHaveLength(1);
    // A client without one is told nothing.
    const { logger: quiet, lines: none } = logs();
    const plain = client(producer(), { logger: quiet });
    plain.track(leadEvent('tec-plain'));
    await plain.flush();
    expect(none.filter((line) => line.msg.includes('testEventCode'))).toEqual([]);
    await plain.close();
    await capi.close();
  });

  it('groups appends into addBulk jobs of ≤ 1000 events per pixel; the engine neither counts nor sends them', async () => {
    const outbox = producer({ flushIntervalMs: 5 });
    const capi = client(outbox);
    for (let i = 0; i < 2500; i++) capi.track(leadEvent(`grp-${i}`));
    expect(capi.stats().queued).toBe(0);
    await capi.flush();
    expect(outbox.producerStats()).toMatchObject({
      mode: 'redis',
      buffered: 0,
      writing: 0,
      enqueuedEvents: 2500,
      fallbackEvents: 0,
    });
    const jobs = await outbox.queue.getWaiting();
    const sizes = jobs.map((j) => j.data.records.length).sort((a, b) => b - a);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(2500);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(1000);
    expect(outbox.producerStats().enqueuedJobs).toBe(jobs.length);
    expect(jobs.length).toBeLessThan(20); // grouped, not one round trip per event
    expect(mock.requests()).toHaveLength(0); // the workers' job, not this process's
    await capi.close();
  });

  it('a worker delivers every event once, one Graph request per job', async () => {
    const outbox = producer();
    const capi = client(outbox);
    const worker = startWorker();
    const { done } = jobsDone(worker);
    for (let i = 0; i < 1500; i++) capi.track(leadEvent(`e2e-${i}`));
    await capi.flush();
    await mock.waitForEvents(1500, { timeoutMs: 10_000 });
    await waitFor(() => done.length === outbox.producerStats().enqueuedJobs);
    expect(mock.uniqueEventIds()).toHaveLength(1500);
    expect(mock.duplicates()).toEqual([]);
    expect(mock.requests().length).toBe(done.length);
    expect(worker.stats()).toMatchObject({ sent: 1500, failed: 0, retried: 0 });
    await capi.close();
  });

  // The Redis on the loopback answers on ::1 too (redis-server's default bind); one elsewhere may not.
  const loopback = !needsRedis.skip && new URL(url).hostname === '127.0.0.1';
  it.skipIf(!loopback)(
    'an IPv6 address in the URL (redis://[::1]:6379) is where producer and worker connect; the brackets went to DNS (ENOTFOUND [::1])',
    async () => {
      const v6 = new URL(url);
      v6.hostname = '[::1]';
      const connection = v6.toString();
      const outbox = producer({ connection });
      const capi = client(outbox);
      startWorker({ connection });
      for (let i = 0; i < 20; i++) capi.track(leadEvent(`v6-${i}`));
      await capi.flush();
      expect(outbox.producerStats()).toMatchObject({ mode: 'redis', enqueuedEvents: 20 });
      await mock.waitForEvents(20, { timeoutMs: 10_000 });
      expect(mock.uniqueEventIds()).toHaveLength(20);
      await capi.close();
    },
  );

  it('isolates an event Meta rejects: the others are delivered, the job fails with Meta’s message holding only the bad one', async () => {
    const outbox = producer();
    const undeliverable: [string[], string][] = [];
    const worker = startWorker({
      onUndeliverable: (records, reason) => {
        undeliverable.push([records.map((r) => r.eventId), reason]);
      },
    });
    const { failed } = jobsDone(worker);
    const deadLetters: string[] = [];
    worker.on('deadLetter', (info) => {
      deadLetters.push(...info.events.map((e) => e.eventId));
    });
    const records = Array.from({ length: 10 }, (_, i) => rawRecord(PIXEL, wireLead(`bis-${i}`)));
    const bad = { ...wireLead('bis-bad'), user_data: { em: 'a'.repeat(64) } }; // no client_user_agent
    records.splice(6, 0, rawRecord(PIXEL, bad));
    await outbox.queue.add('events', { v: 1, pixelId: PIXEL, records }, { attempts: 5 });
    await waitFor(() => failed.length === 1);
    const [{ job, error } = failed[0] as never] = failed;
    expect(error.name).toBe('UnrecoverableError');
    expect(error.message).toMatch(/Meta rejected 1 event\(s\): HTTP 400 code 100/);
    expect(error.message).toContain('client_user_agent');
    expect(error.message).not.toContain(TOKEN);
    expect(job.attemptsMade).toBe(1);
    const stored = await outbox.queue.getJob(job.id as string);
    expect(stored?.data.records.map((r) => r.eventId)).toEqual(['bis-bad']);
    expect(await stored?.getState()).toBe('failed');
    expect(mock.uniqueEventIds().sort()).toEqual(
      Array.from({ length: 10 }, (_, i) => `bis-${i}`).sort(),
    );
    expect(deadLetters).toEqual(['bis-bad']);
    // As its option says (expired, rejected): the rejected event is handed over too.
    expect(undeliverable).toEqual([[['bis-bad'], 'rejected']]);
    expect(worker.stats()).toMatchObject({ sent: 10, rejected: 1, failed: 1 });
  });

  it('counts and logs a job BullMQ fails past its stall limit: its events wait in the failed set', async () => {
    const outbox = producer();
    // A worker that takes the job and then stops renewing its lock, as a hung or killed one does.
    const hung = new Worker(DEFAULT_QUEUE_NAME, () => new Promise<never>(() => {}), {
      connection: { url },
      prefix,
      lockDuration: 300,
      stalledInterval: 200,
      maxStalledCount: 0,
    });
    const taken = new Promise<void>((resolve) => hung.once('active', () => resolve()));
    const records = [
      rawRecord(PIXEL, wireLead('stalled-1')),
      rawRecord(PIXEL, wireLead('stalled-2')),
    ];
    await outbox.queue.add('events', { v: 1, pixelId: PIXEL, records }, { attempts: 5 });
    await taken;
    await hung.close(true);
    const { logger, lines } = logs();
    const handedOver: { reason: string; ids: string[] }[] = [];
    const worker = startWorker({
      logger,
      workerOptions: { stalledInterval: 200, lockDuration: 300, maxStalledCount: 0 },
      onUndeliverable: (given, reason) => {
        handedOver.push({ reason, ids: given.map((r) => r.eventId) });
      },
    });
    const deadLetters: { reason: string; ids: string[]; message: string }[] = [];
    worker.on('deadLetter', (info) => {
      deadLetters.push({
        reason: info.reason,
        ids: info.events.map((e) => e.eventId),
        message: info.error.message,
      });
    });
    const { failed } = jobsDone(worker);
    await waitFor(() => failed.length === 1);
    const [{ job, error } = failed[0] as never] = failed;
    expect(error.message).toMatch(/stalled more than allowable limit/);
    expect(await (await outbox.queue.getJob(job.id as string))?.getState()).toBe('failed');
    expect(mock.uniqueEventIds()).toEqual([]);
    expect(worker.stats()).toMatchObject({ sent: 0, failed: 1 });
    expect(lines).toContainEqual({
      level: 'error',
      msg: 'capi-kit worker: job failed by BullMQ (kept in the failed set)',
    });
    // Said as any job out of tries is: the hook and onUndeliverable, not only the (silent) log.
    expect(deadLetters).toEqual([
      {
        reason: 'max_attempts',
        ids: ['stalled-1', 'stalled-2'],
        message: expect.stringMatching(/stalled more than allowable limit/),
      },
    ]);
    expect(handedOver).toEqual([{ reason: 'max_attempts', ids: ['stalled-1', 'stalled-2'] }]);
  });

  it('retries a transient failure through BullMQ attempts and backoff', async () => {
    const outbox = producer();
    const worker = startWorker();
    const { done, failed } = jobsDone(worker);
    mock.failNext(503, 2);
    await outbox.queue.add(
      'events',
      { v: 1, pixelId: PIXEL, records: [rawRecord(PIXEL, wireLead('tr-1'))] },
      { attempts: 5, backoff: { type: 'capi', delay: 50 } },
    );
    await waitFor(() => done.length === 1);
    // Two 503s, then delivered once. They cost one or two failed BullMQ attempts (BullMQ emits
    // `failed` for an attempt it retries too): loaded CI runs saw one of each count, so the test
    // holds what matters, that every failed attempt was transient and retried, and no more.
    expect(mock.rejections().map((r) => r.status)).toEqual([503, 503]);
    expect(mock.uniqueEventIds()).toEqual(['tr-1']);
    expect(failed.length).toBeGreaterThanOrEqual(1);
    expect(failed.length).toBeLessThanOrEqual(2);
    for (const { job, error } of failed) {
      expect([job.id, error.name]).toEqual([done[0]?.id, 'TransientDeliveryError']);
    }
    expect(worker.stats()).toMatchObject({ retried: failed.length, sent: 1, failed: 0 });
  });

  it('a job out of attempts is a dead letter said as the engine says it: deadLetter hook (max_attempts) and onUndeliverable', async () => {
    const outbox = producer();
    const undeliverable: [string[], string][] = [];
    const worker = startWorker({
      onUndeliverable: (records, reason) => {
        undeliverable.push([records.map((r) => r.eventId), reason]);
      },
    });
    const deadLetters: { reason: string; count: number; ids: string[]; status: number }[] = [];
    worker.on('deadLetter', (info) => {
      deadLetters.push({
        reason: info.reason,
        count: info.count,
        ids: info.events.map((e) => e.eventId),
        status: info.error.status,
      });
    });
    const { failed } = jobsDone(worker);
    mock.outage(503);
    const records = [rawRecord(PIXEL, wireLead('oa-1')), rawRecord(PIXEL, wireLead('oa-2'))];
    await outbox.queue.add(
      'events',
      { v: 1, pixelId: PIXEL, records },
      { attempts: 2, backoff: { type: 'capi', delay: 20 } },
    );
    await waitFor(() => failed.length === 2);
    mock.recover();
    expect(worker.stats()).toMatchObject({ failed: 1, sent: 0 });
    expect(deadLetters).toEqual([
      { reason: 'max_attempts', count: 2, ids: ['oa-1', 'oa-2'], status: 503 },
    ]);
    expect(undeliverable).toEqual([[['oa-1', 'oa-2'], 'max_attempts']]);
  });

  it('pauses the queue on throttling without spending an attempt', async () => {
    const outbox = producer();
    const worker = startWorker({ throttlePauseMs: 300 });
    const { done } = jobsDone(worker);
    mock.failNext({ kind: 'graph', code: 613 });
    await outbox.queue.add(
      'events',
      { v: 1, pixelId: PIXEL, records: [rawRecord(PIXEL, wireLead('th-1'))] },
      { attempts: 1 },
    );
    await waitFor(() => done.length === 1);
    // attempts: 1 and still delivered: the throttled run did not spend the only attempt.
    expect(done[0]?.attemptsMade).toBe(1);
    // One throttled request, then the delivering one. (How long BullMQ holds the queue is its
    // own timing; it is not asserted here.)
    expect(mock.requests().map((r) => r.status)).toEqual([400, 200]);
    expect(mock.uniqueEventIds()).toEqual(['th-1']);
    expect(worker.stats().rateLimited).toBe(1);
  });

  it('drops events past the 7-day window instead of sending them', async () => {
    const outbox = producer();
    const worker = startWorker();
    const { done } = jobsDone(worker);
    const old = rawRecord(PIXEL, { ...wireLead('old'), event_time: 1_000_000_000 });
    const fresh = rawRecord(PIXEL, wireLead('fresh'));
    await outbox.queue.add('events', { v: 1, pixelId: PIXEL, records: [old, fresh] });
    await waitFor(() => done.length === 1);
    expect(mock.uniqueEventIds()).toEqual(['fresh']);
    expect(worker.stats()).toMatchObject({ expired: 1, sent: 1 });
  });

  it('with a timeoutMs past the 60 s margin, drops an event a request that long could deliver late', async () => {
    const outbox = producer();
    const worker = startWorker({ timeoutMs: 120_000 });
    const { done } = jobsDone(worker);
    // 90 s left in Meta's 7-day window: outside the margin, inside a 120 s request.
    const edge = Math.floor((Date.now() - 7 * 24 * 3600 * 1000 + 90_000) / 1000);
    const late = rawRecord(PIXEL, { ...wireLead('late'), event_time: edge });
    const fresh = rawRecord(PIXEL, wireLead('fresh'));
    await outbox.queue.add('events', { v: 1, pixelId: PIXEL, records: [late, fresh] });
    await waitFor(() => done.length === 1);
    expect(mock.uniqueEventIds()).toEqual(['fresh']);
    expect(worker.stats()).toMatchObject({ expired: 1, sent: 1 });
  });

  // A worker started with another queueName or prefix (or database) than the producers takes
  // nothing, and the events piled up in Redis with no word from either side.
  it('jobs no worker takes (a worker on another prefix): the producer says so once, naming the queue, the prefix and what to check; a worker on the same queue then delivers them', async () => {
    const { logger, lines } = logs();
    const errors: string[] = [];
    const outbox = producer({ untakenAfterMs: 1000 });
    const capi = client(outbox, { logger });
    capi.on('error', (info) => {
      errors.push(`${info.kind}: ${info.error.message}`);
    });
    startWorker({ prefix: `${prefix}-other` });
    for (let round = 0; round < 4; round++) {
      for (let i = 0; i < 3; i++) capi.track(leadEvent(`untaken-${round}-${i}`));
      await capi.flush();
      await new Promise((resolve) => setTimeout(resolve, 800));
    }
    await waitFor(() => errors.length > 0, 5000);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(
      new RegExp(
        `^outbox: no worker has taken the jobs of queue "capi-kit-events" \\(prefix "${prefix}"\\) on Redis at [^ ]+ for 1000 ms: .*same connection \\(database\\), queueName and prefix`,
      ),
    );
    expect(lines.filter((line) => line.level === 'error')).toHaveLength(1);
    startWorker();
    await mock.waitForEvents(12);
    expect(mock.events()).toHaveLength(12);
    await capi.close();
  });
});
