import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type MockGraph, startMockGraph } from '@capi-kit/testing';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rawRecord, wireLead } from '../helpers.js';
import { deliveries, ownRedis, startChild, until } from './helpers.js';

const DIST = fileURLToPath(new URL('../../dist/index.mjs', import.meta.url));
const EVENTS = 20_000;
const QUEUE = 'capi-kit-events';
const PIXEL = '1234567890';

interface EngineCounts {
  sent: number;
  queued: number;
  inFlight: number;
  deadLettered: number;
  dropped: Record<string, number>;
}
/** One stream's figures in a producer report: the producer's counters and its client's stats. */
interface StreamAccount {
  buffered: number;
  writing: number;
  enqueued: number;
  client?: EngineCounts;
}
interface ProducerReport {
  done?: boolean;
  half?: boolean;
  closed?: boolean;
  tracked: number;
  enqueued: number;
  fallback: number;
  mode: string;
  buffered: number;
  writing: number;
  account: Record<string, StreamAccount>;
  outboxErrors?: number;
  undeliverable?: Record<string, string[]>;
  stats?: EngineCounts;
}
interface WorkerMessage {
  type: 'ready' | 'active' | 'completed' | 'stats';
  id?: string;
  events?: number;
  stats?: { rerun: number; rerunEvents: number; sent: number; completed: number };
}

let mock: MockGraph;
let redis: Awaited<ReturnType<typeof ownRedis>>;
const stopAll: (() => void)[] = [];
beforeAll(async () => {
  if (!existsSync(DIST)) throw new Error('build first: the child processes run dist/');
  mock = await startMockGraph({ accessToken: 'EAAtest-token-0123456789' });
  redis = await ownRedis();
});
afterAll(async () => {
  for (const stop of stopAll) stop();
  await mock.close();
  await redis.stop();
});

const startWorker = (prefix: string) => {
  const worker = startChild('worker.mjs', [redis.url, prefix, mock.url]);
  stopAll.push(() => {
    if (worker.child.exitCode === null) worker.child.kill('SIGKILL');
  });
  return worker;
};

const closeWorker = async (worker: ReturnType<typeof startWorker>) => {
  worker.child.send('close');
  const { stats } = await worker.waitFor<WorkerMessage>((m) => m.type === 'stats');
  await worker.exited;
  return stats as NonNullable<WorkerMessage['stats']>;
};

/** Jobs BullMQ has failed for good (its failed set), e.g. past the stall limit. */
const failedJobs = async (prefix: string): Promise<number> => {
  const queue = new Queue(QUEUE, { connection: { host: '127.0.0.1', port: redis.port }, prefix });
  try {
    return (await queue.getJobCounts('failed')).failed ?? 0;
  } finally {
    await queue.close();
  }
};

const waitingJobs = async (prefix: string): Promise<number> => {
  const queue = new Queue(QUEUE, { connection: { host: '127.0.0.1', port: redis.port }, prefix });
  try {
    const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized');
    return Object.values(counts).reduce((a, b) => a + b, 0);
  } finally {
    await queue.close();
  }
};

const sum = (values: Record<string, number>) => Object.values(values).reduce((a, b) => a + b, 0);

/**
 * The reports (one per event-loop turn of the producer, and its final ones) where the README's
 * invariant fails: per stream, buffered + writing + enqueued + the client's sent, queued, in
 * flight, dead-lettered and dropped = the events tracked (each track() is one event of the pixel).
 */
const notAddingUp = (reports: readonly ProducerReport[]): string[] =>
  reports.flatMap((report) => {
    const streams = Object.keys(report.account);
    const off = [PIXEL, ...streams.filter((s) => s !== PIXEL)].filter((stream) => {
      const a = report.account[stream];
      const c = a?.client;
      const engine = c ? c.sent + c.queued + c.inFlight + c.deadLettered + sum(c.dropped) : 0;
      const accounted = a ? a.buffered + a.writing + a.enqueued + engine : 0;
      return accounted !== (stream === PIXEL ? report.tracked : 0);
    });
    return off.map(
      (stream) => `tracked ${report.tracked}: ${stream} ${JSON.stringify(report.account[stream])}`,
    );
  });

/** How many reports caught events in the buffer, and in a pending write (the moments that used to be missed). */
const moments = (reports: readonly ProducerReport[]) =>
  `${reports.length} reports, ${reports.filter((r) => r.buffered > 0).length} with events buffered, ${reports.filter((r) => r.writing > 0).length} with a write pending`;

describe('BullMQ outbox faults, on a redis-server of our own', () => {
  it(`Redis killed (-9) and restarted during delivery: all ${EVENTS} events delivered at least once`, async () => {
    const prefix = `capi-fault-restart-${Date.now().toString(36)}`;
    mock.reset();
    mock.outage({ kind: 'latency', latencyMs: 100 });
    const workers = [startWorker(prefix), startWorker(prefix)];
    await Promise.all(workers.map((w) => w.waitFor((m) => m.type === 'ready')));
    const producer = startChild('producer.mjs', [
      redis.url,
      prefix,
      mock.url,
      String(EVENTS),
      'close',
    ]);
    stopAll.push(() => producer.child.kill('SIGKILL'));

    // Mid-delivery: Redis dies without warning and comes back a second later, same port and AOF.
    expect(await until(() => mock.events().length >= 3000, 20_000)).toBe(true);
    const seenAtKill = mock.events().length;
    await redis.kill();
    const downAt = Date.now();
    await new Promise((resolve) => setTimeout(resolve, 1000));
    await redis.start();
    const downMs = Date.now() - downAt;

    const report = await producer.waitFor<ProducerReport>((m) => m.done === true);
    expect((await producer.exited).code).toBe(0);
    const reports = producer.messages as unknown as ProducerReport[];
    // Delivered, or counted by the producer and handed to onUndeliverable (asserted empty below).
    const handedOver = new Set(Object.values(report.undeliverable ?? {}).flat());
    const all = () => {
      const delivered = deliveries(mock);
      for (let i = 0; i < EVENTS; i++) {
        if (!delivered.has(`bq-${i}`) && !handedOver.has(`bq-${i}`)) return false;
      }
      return true;
    };
    // And the queue drained: an addBulk cut off by the kill may still have landed (its events
    // went to the fallback too), and the workers deliver it again.
    const end = Date.now() + 25_000;
    while (!(all() && (await waitingJobs(prefix)) === 0) && Date.now() < end) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const workerStats = await Promise.all(workers.map(closeWorker));

    const delivered = deliveries(mock);
    let missing = 0;
    for (let i = 0; i < EVENTS; i++) {
      if (!delivered.has(`bq-${i}`) && !handedOver.has(`bq-${i}`)) missing++;
    }
    let duplicated = 0;
    for (const times of delivered.values()) duplicated += times - 1;
    const stats = report.stats as NonNullable<ProducerReport['stats']>;
    const byReason = Object.fromEntries(
      Object.entries(report.undeliverable ?? {}).map(([reason, ids]) => [reason, ids.length]),
    );
    const accounted =
      stats.sent + stats.queued + stats.inFlight + stats.deadLettered + sum(stats.dropped);
    console.log(
      `[redis restart] tracked ${report.tracked}; Redis down ${downMs} ms after the mock had ${seenAtKill} events; ` +
        `producer: ${report.enqueued} to Redis, ${report.fallback} to its memory fallback (sent itself ${stats.sent}), outbox error hooks ${report.outboxErrors}, dropped and handed to onUndeliverable ${JSON.stringify(byReason)}; ` +
        `workers sent ${workerStats.map((s) => s.sent).join(' + ')}, re-ran ${workerStats.map((s) => s.rerunEvents).join(' + ')} events of stalled jobs; ` +
        `mock: ${delivered.size} unique in ${mock.requests().length} requests, ${duplicated} duplicates; neither delivered nor handed over: ${missing}; ` +
        `jobs still waiting ${await waitingJobs(prefix)}, failed ${await failedJobs(prefix)}; ` +
        `producer's figures checked at ${moments(reports)}`,
    );
    expect(missing).toBe(0);
    // The producer's accounting, at every turn through the outage and at the end: buffered,
    // writing, to Redis, or counted by its own engine (the fallback).
    expect(notAddingUp(reports)).toEqual([]);
    expect(report.enqueued + accounted).toBe(report.tracked);
    // Nothing given up: the fallback (sized for the run) delivered what Redis could not take.
    expect(report.undeliverable).toEqual({});
    expect(sum(stats.dropped)).toBe(0);
    expect(await waitingJobs(prefix)).toBe(0);
  });

  it('kill -9 of a worker and of a producer mid-batch: everything that reached Redis is delivered; duplicates only from the killed worker’s jobs', async () => {
    const prefix = `capi-fault-kill-${Date.now().toString(36)}`;
    mock.reset();
    mock.outage({ kind: 'latency', latencyMs: 300 });
    const doomed = startWorker(prefix);
    const survivor = startWorker(prefix);
    await Promise.all([doomed, survivor].map((w) => w.waitFor((m) => m.type === 'ready')));
    const producer = startChild('producer.mjs', [
      redis.url,
      prefix,
      mock.url,
      String(EVENTS),
      'hold',
    ]);
    stopAll.push(() => producer.child.kill('SIGKILL'));

    // The worker dies with jobs in flight (sent to Meta, not acknowledged to BullMQ)…
    await doomed.waitFor((m) => m.type === 'active');
    await until(() => mock.events().length > 0, 10_000);
    doomed.child.kill('SIGKILL');
    expect((await doomed.exited).signal).toBe('SIGKILL');
    const completedIds = new Set(
      doomed.messages.filter((m) => m.type === 'completed').map((m) => String(m.id)),
    );
    const inFlightEvents = doomed.messages
      .filter((m) => m.type === 'active' && !completedIds.has(String(m.id)))
      .reduce((n, m) => n + Number(m.events), 0);

    // …and the producer dies while tracking, with events enqueued and some only in its buffer.
    const progress = await producer.waitFor<ProducerReport>((m) => Number(m.enqueued) >= 8000);
    producer.child.kill('SIGKILL');
    expect((await producer.exited).signal).toBe('SIGKILL');
    const reports = producer.messages as unknown as ProducerReport[];
    const last = reports.at(-1) as ProducerReport;
    expect(last.tracked).toBeLessThan(EVENTS);
    // Up to its last report before the kill, the producer accounted for every event it took.
    expect(notAddingUp(reports)).toEqual([]);

    // The survivor takes over the stalled jobs and the rest of the queue.
    const drained = async () => (await waitingJobs(prefix)) === 0;
    const end = Date.now() + 25_000;
    while (!(await drained()) && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
    const survivorStats = await closeWorker(survivor);

    const delivered = deliveries(mock);
    const enqueuedMissing: string[] = [];
    for (let i = 0; i < last.enqueued; i++) {
      if (!delivered.has(`bq-${i}`)) enqueuedMissing.push(`bq-${i}`);
    }
    let duplicated = 0;
    for (const times of delivered.values()) duplicated += times - 1;
    let trackedNotDelivered = 0;
    for (let i = 0; i < last.tracked; i++) if (!delivered.has(`bq-${i}`)) trackedNotDelivered++;
    console.log(
      `[kill -9] worker killed with ${inFlightEvents} events in its active jobs; producer killed after tracking ≥ ${last.tracked} (reported ${progress.enqueued}→${last.enqueued} enqueued); ` +
        `survivor sent ${survivorStats.sent}, re-ran ${survivorStats.rerunEvents} events of ${survivorStats.rerun} stalled jobs; ` +
        `mock: ${delivered.size} unique in ${mock.requests().length} requests, ${duplicated} duplicates; ` +
        `enqueued but not delivered ${enqueuedMissing.length}; tracked but not delivered (the producer's buffer or pending write at the kill) ${trackedNotDelivered}; ` +
        `producer's figures checked at ${moments(reports)}`,
    );
    // At least once for everything Redis acknowledged.
    expect(enqueuedMissing).toEqual([]);
    // What the kill lost was in the producer's figures as buffered or writing at its last report.
    expect(trackedNotDelivered).toBeLessThanOrEqual(last.buffered + last.writing);
    // Duplicates come only from the killed worker's jobs that BullMQ ran again.
    expect(survivorStats.rerun).toBeGreaterThan(0);
    expect(duplicated).toBeLessThanOrEqual(survivorStats.rerunEvents);
    expect(await waitingJobs(prefix)).toBe(0);
  });

  it('Redis killed while a worker sends a job: its close({ timeoutMs }) resolves on time and the process exits; the job stays in Redis and the next worker delivers it', async () => {
    const prefix = `capi-fault-close-${Date.now().toString(36)}`;
    const EVENTS_IN_JOB = 50;
    mock.reset();
    // Meta answers after 1.5 s: the job is in flight (sent, not acknowledged to BullMQ) when Redis dies.
    mock.outage({ kind: 'latency', latencyMs: 1500 });
    const worker = startWorker(prefix);
    await worker.waitFor((m) => m.type === 'ready');
    const queue = new Queue(QUEUE, { connection: { host: '127.0.0.1', port: redis.port }, prefix });
    const records = Array.from({ length: EVENTS_IN_JOB }, (_, i) =>
      rawRecord(PIXEL, wireLead(`close-${i}`)),
    );
    await queue.add('events', { v: 1, pixelId: PIXEL, records }, { attempts: 10 });
    await queue.close();
    await worker.waitFor((m) => m.type === 'active');
    await redis.kill();

    // BullMQ's close has no deadline: it waited forever to write the job's outcome, the lock
    // renewal keeping the process alive.
    const started = Date.now();
    worker.child.send({ type: 'close', timeoutMs: 1000 });
    const closed = await Promise.race([
      worker.waitFor<WorkerMessage>((m) => m.type === 'stats').then(() => Date.now() - started),
      new Promise<'hung'>((resolve) => setTimeout(() => resolve('hung'), 8000)),
    ]);
    expect(closed).not.toBe('hung');
    expect(closed as number).toBeLessThan(1000 + 1000);
    // Nothing of the worker's is left running: the process exits by itself.
    const exit = await Promise.race([
      worker.exited,
      new Promise<'alive'>((resolve) => setTimeout(() => resolve('alive'), 5000)),
    ]);
    expect(exit).toEqual({ code: 0, signal: null });

    // Redis is back: the job was never acknowledged, so its lock runs out and the next worker
    // re-runs it. Every event is delivered or still queued at every step, and delivered at the end.
    await redis.start();
    mock.recover();
    const next = startWorker(prefix);
    await next.waitFor((m) => m.type === 'ready');
    // The first worker's request reached Meta before Redis died: wait for the re-run itself.
    await next.waitFor((m) => m.type === 'completed', 20_000);
    const delivered = deliveries(mock);
    expect(records.filter((r) => !delivered.has(r.eventId))).toEqual([]);
    const stats = await closeWorker(next);
    expect(stats.rerun).toBe(1);
    expect(await waitingJobs(prefix)).toBe(0);
    expect(await failedJobs(prefix)).toBe(0);
  });

  it('an idle worker whose Redis died: close({ timeoutMs }) ends without waiting out its deadline, and the process exits', async () => {
    const prefix = `capi-fault-idle-${Date.now().toString(36)}`;
    const worker = startWorker(prefix);
    await worker.waitFor((m) => m.type === 'ready');
    await redis.kill();
    try {
      // No job runs: nothing is waited for. BullMQ's pause() waited on the dead connection, so
      // close() ran to its deadline (10 s by default) and logged that it had not ended in time,
      // on every deploy while Redis was down.
      const started = Date.now();
      worker.child.send({ type: 'close', timeoutMs: 20_000 });
      const closed = await Promise.race([
        worker.waitFor<WorkerMessage>((m) => m.type === 'stats').then(() => Date.now() - started),
        new Promise<'at the deadline'>((resolve) =>
          setTimeout(() => resolve('at the deadline'), 15_000),
        ),
      ]);
      expect(closed).not.toBe('at the deadline');
      const exit = await Promise.race([
        worker.exited,
        new Promise<'alive'>((resolve) => setTimeout(() => resolve('alive'), 5000)),
      ]);
      expect(exit).toEqual({ code: 0, signal: null });
    } finally {
      await redis.start();
    }
  });

  it('Redis hung (SIGSTOP) at close(): right after close({ timeoutMs }) gave up, the events Redis holds or that wait behind them are counted as writing and buffered; when the writes time out, as dropped (shutdown); every event by id', async () => {
    const prefix = `capi-fault-stall-${Date.now().toString(36)}`;
    const count = 4000;
    mock.reset();
    const producer = startChild('producer.mjs', [
      redis.url,
      prefix,
      mock.url,
      String(count),
      'stall',
    ]);
    stopAll.push(() => producer.child.kill('SIGKILL'));
    let closed: ProducerReport;
    let done: ProducerReport;
    try {
      // The first half reaches Redis; then Redis stops answering, connections open, and the
      // producer tracks the second half and closes with 300 ms to spare, less than a write's 5 s.
      const half = await producer.waitFor<ProducerReport>((m) => m.half === true);
      expect(half).toMatchObject({
        tracked: count / 2,
        enqueued: count / 2,
        buffered: 0,
        writing: 0,
      });
      redis.stall();
      producer.child.send('go');
      closed = await producer.waitFor<ProducerReport>((m) => m.closed === true);
      done = await producer.waitFor<ProducerReport>((m) => m.done === true, 20_000);
    } finally {
      redis.resume();
    }
    expect((await producer.exited).code).toBe(0);
    const reports = producer.messages as unknown as ProducerReport[];
    const stats = done.stats as EngineCounts;
    const handedOver = done.undeliverable?.shutdown ?? [];
    console.log(
      `[redis stalled at close] right after close(): ${closed.buffered} buffered, ${closed.writing} writing, ${closed.enqueued} in Redis; ` +
        `at the end: ${done.enqueued} in Redis, ${done.fallback} to the fallback (sent ${stats.sent}, dropped ${JSON.stringify(stats.dropped)}), ` +
        `handed to onUndeliverable ${handedOver.length}; producer's figures checked at ${moments(reports)}`,
    );
    // At every turn, right after close(), and once the writes failed: everything adds up.
    expect(notAddingUp(reports)).toEqual([]);
    // The moment the figures used to miss was reached: close() returned with a write pending.
    expect(closed.tracked).toBe(count);
    expect(closed.writing).toBeGreaterThan(0);
    expect(closed.enqueued).toBe(count / 2);
    expect(done).toMatchObject({
      buffered: 0,
      writing: 0,
      enqueued: count / 2,
      fallback: count / 2,
    });
    // The second half went to the fallback of a closed client: dropped (shutdown) and handed over,
    // unless this process sent some itself (a machine slow enough to fail a write before close).
    const shutdown = stats.dropped.shutdown ?? 0;
    expect(stats.sent + shutdown).toBe(count / 2);
    expect(handedOver).toHaveLength(shutdown);
    const delivered = deliveries(mock);
    const handed = new Set(handedOver);
    const queue = new Queue(QUEUE, { connection: { host: '127.0.0.1', port: redis.port }, prefix });
    const inRedis = new Set<string>();
    try {
      for (const job of await queue.getJobs(['waiting'])) {
        for (const record of job.data.records as { eventId: string }[]) inRedis.add(record.eventId);
      }
    } finally {
      await queue.close();
    }
    const unaccounted: string[] = [];
    for (let i = 0; i < count; i++) {
      const id = `bq-${i}`;
      const where = i < count / 2 ? inRedis.has(id) : delivered.has(id) || handed.has(id);
      if (!where) unaccounted.push(id);
    }
    expect(unaccounted).toEqual([]);
  });
});
