import type { OutboxRecord } from '@capi-kit/core';
import { type MockGraph, startMockGraph } from '@capi-kit/testing';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { deliveries, ownRedis, producerWithErrors, until, workerWithErrors } from './helpers.js';

// Redis full part-way through a producer's write: BullMQ's addBulk is one pipeline, each job its
// own script, so the jobs before the first refusal stay in Redis while addBulk rejects as a whole.
// The producer handed the whole batch to its in-memory fallback (50 of 1010 events here): the jobs already written were
// delivered twice (by a worker and by the producer's own client) and counted twice as delivered,
// and Redis held events the producer counted as in its fallback, not as enqueued.

let mock: MockGraph;
let redis: Awaited<ReturnType<typeof ownRedis>>;
beforeAll(async () => {
  mock = await startMockGraph();
  redis = await ownRedis();
});
afterAll(async () => {
  await mock?.close();
  await redis?.stop();
});

/** The events of the jobs waiting in the queue, by event id. */
const queuedEventIds = async (queue: Queue): Promise<string[]> => {
  const jobs = await queue.getJobs(['waiting', 'prioritized', 'delayed', 'active']);
  return jobs.flatMap((job) => (job.data.records as OutboxRecord[]).map((r) => r.eventId));
};

it('Redis out of memory part-way through a write: the jobs written stay enqueued, only the others go to the fallback, and each event is delivered once', async () => {
  const prefix = `capi-partial-${Date.now().toString(36)}`;
  const admin = new Redis(redis.url);
  const queue = new Queue('capi-kit-events', { connection: { port: redis.port }, prefix });
  mock.reset();
  const { client, outbox } = producerWithErrors(mock, {
    connection: redis.url,
    prefix,
    maxJobEvents: 50,
  });
  const tracked: string[] = [];
  const track = (count: number) => {
    for (let i = 0; i < count; i++) {
      const id = `partial-${tracked.length}`;
      tracked.push(id);
      client.track({
        event_name: 'Lead',
        event_id: id,
        action_source: 'system_generated',
        user_data: { em: `${id}@example.com` },
        // About 2 KB an event.
        custom_data: { content_name: 'x'.repeat(2000) },
      });
    }
  };
  let worker: ReturnType<typeof workerWithErrors>['worker'] | undefined;
  try {
    track(10);
    await client.flush();
    expect(outbox.producerStats().enqueuedEvents).toBe(10);
    // Room for a few jobs of 50 events (about 100 KB each), not for all of them.
    const used = Number(/used_memory:(\d+)/.exec(await admin.info('memory'))?.[1]);
    await admin.config('SET', 'maxmemory', String(used + 300_000));
    for (let batch = 0; batch < 10; batch++) {
      track(100);
      await client.flush();
    }
    const stats = outbox.producerStats();
    expect(stats.writeFailures).toBeGreaterThan(0);
    expect(stats.enqueuedEvents + stats.fallbackEvents).toBe(tracked.length);
    // A write of two jobs (100 events) was cut in the middle: one job landed, one did not.
    expect((stats.enqueuedEvents - 10) % 100).toBe(50);
    // What Redis holds is what the producer counts as enqueued: no event both there and in the fallback.
    const inRedis = await queuedEventIds(queue);
    expect(inRedis).toHaveLength(stats.enqueuedEvents);
    expect(new Set(inRedis).size).toBe(inRedis.length);

    // Room again: a worker delivers the queue, the producer's client its fallback.
    await admin.config('SET', 'maxmemory', '0');
    worker = workerWithErrors(mock, { connection: redis.url, prefix }).worker;
    await client.flush();
    expect(await until(() => deliveries(mock).size === tracked.length, 60_000)).toBe(true);
    await until(() => worker?.stats().sent === stats.enqueuedEvents, 10_000);
    const twice = [...deliveries(mock)].filter(([, n]) => n > 1).map(([id]) => id);
    expect(twice).toEqual([]);
    // Counted once as delivered: by the worker (the queue's) or by the producer's client (its fallback).
    expect(worker.stats().sent + client.stats().sent).toBe(tracked.length);
  } finally {
    await admin.config('SET', 'maxmemory', '0').catch(() => {});
    admin.disconnect();
    await queue.close();
    await worker?.close({ timeoutMs: 2000 });
    await client.close({ timeoutMs: 2000 });
  }
}, 120_000);
