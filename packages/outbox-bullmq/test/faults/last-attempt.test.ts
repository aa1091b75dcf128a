import { createCapi, type OutboxRecord } from '@capi-kit/core';
import { type MockGraph, startMockGraph } from '@capi-kit/testing';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { bullmqOutbox, createCapiWorker } from '../../src/index.js';
import { ownRedis, until } from './helpers.js';

// A job's last attempt that settles some of its events (Meta took them, or rejected them) and then
// has a Redis call refused (out of memory: `maxmemory 1`, set on a redis-server of our own as the
// last request to the mock Graph API answers). BullMQ's failing of the job still goes through (its
// script's first write is a DEL, which Redis allows when full), so the worker's `failed` listener
// reports the job's events as out of attempts. When the refused call was the rejected events' own
// job (`queue.add`), it reported every event of the job: the delivered ones (counted as sent and
// as undeliverable) and the rejected ones (undeliverable twice, `rejected` then `max_attempts`);
// when it was `job.updateData` after a rejection, the rejected ones twice. A refused
// `job.updateData` after a partial delivery reported right only because BullMQ's `updateData`
// changes the job object before it writes; the worker no longer depends on that.

const PIXEL = '1234567890';
const TOKEN = 'worker-token';

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

/** Event ids in a request body (the ids below are `ok-…`, `bad-…`, `late-…`). */
const idsIn = (body: string): string[] =>
  [...body.matchAll(/(?:ok|bad|late)-\d+/g)].map((m) => m[0]);

/**
 * One job of `ids` (one attempt), sent one event per request, one request at a time: the mock
 * refuses `bad-…` events (400, Meta's invalid event), answers 503 to `late-…` ones, and takes the
 * rest. As the last request answers, Redis becomes full. Returns what each party said.
 */
const lastAttempt = async (ids: string[]) => {
  const prefix = `capi-last-attempt-${Date.now().toString(36)}`;
  const admin = new Redis(redis.url);
  mock.reset();
  mock.rejectEvents((event) => String(event.event_id).startsWith('bad-'));
  const undeliverable: { reason: string; ids: string[] }[] = [];
  const deadLetters: { reason: string; ids: string[] }[] = [];
  const sent: string[] = [];
  let answered = 0;
  let turn: Promise<unknown> = Promise.resolve();
  const worker = createCapiWorker({
    connection: redis.url,
    prefix,
    pixelId: PIXEL,
    accessToken: TOKEN,
    graphUrl: mock.url,
    env: false,
    concurrency: 1,
    // One event (about 250 bytes) per request.
    maxBatchBytes: 400,
    onUndeliverable: (records: readonly OutboxRecord[], reason) => {
      undeliverable.push({ reason, ids: records.map((r) => r.eventId) });
    },
    // The mock over HTTP; requests in turn, so that each fault meets the event it is for.
    fetch: (async (url: string, init: RequestInit) => {
      const mine = turn.then(async () => {
        const body =
          typeof init.body === 'string'
            ? init.body
            : Buffer.from(init.body as Uint8Array).toString();
        if (idsIn(body).some((id) => id.startsWith('late-'))) mock.failNext(503);
        return fetch(url, init);
      });
      turn = mine.catch(() => {});
      const response = await mine;
      if (++answered === ids.length) await admin.config('SET', 'maxmemory', '1');
      return response;
    }) as typeof fetch,
  });
  worker.on('sent', (info) => {
    sent.push(...info.eventIds);
  });
  worker.on('deadLetter', (info) => {
    deadLetters.push({ reason: info.reason, ids: info.events.map((e) => e.eventId) });
  });
  const client = createCapi({
    pixelId: PIXEL,
    accessToken: TOKEN,
    graphUrl: mock.url,
    env: false,
    logger: false,
    outbox: bullmqOutbox({ connection: redis.url, prefix, jobOptions: { attempts: 1 } }),
  });
  const queue = new Queue('capi-kit-events', { connection: { port: redis.port }, prefix });
  try {
    for (const id of ids) {
      client.track({
        event_name: 'Lead',
        event_id: id,
        action_source: 'system_generated',
        user_data: { em: `${id}@example.com` },
      });
    }
    await client.flush();
    expect(await until(() => worker.stats().failed === 1, 30_000)).toBe(true);
    // The job, as Redis keeps it in the failed set.
    const [failed] = await queue.getFailed();
    return {
      accepted: mock.events().map((e) => String(e.event.event_id)),
      sent,
      undeliverable,
      deadLetters,
      stats: worker.stats(),
      failedReason: failed?.failedReason,
      keptInRedis: (failed?.data.records as OutboxRecord[] | undefined)?.map((r) => r.eventId),
    };
  } finally {
    await admin.config('SET', 'maxmemory', '0');
    admin.disconnect();
    await queue.close();
    await worker.close({ timeoutMs: 2000 });
    await client.close({ timeoutMs: 1000 });
  }
};

/** Each event once: taken by Meta, or handed to `onUndeliverable`, never both nor twice. */
const countedOnce = (
  ids: string[],
  outcome: Awaited<ReturnType<typeof lastAttempt>>,
): Record<string, number> =>
  Object.fromEntries(
    ids.map((id) => [
      id,
      outcome.accepted.filter((a) => a === id).length +
        outcome.undeliverable.flatMap((u) => u.ids).filter((u) => u === id).length,
    ]),
  );

it("last attempt, Meta took one event, the other failed, and Redis refused the job's update (out of memory): only the undelivered event is reported undeliverable", async () => {
  const ids = ['ok-1', 'late-1'];
  const outcome = await lastAttempt(ids);
  // Redis refused the update: the failed job still holds both events.
  expect(outcome.failedReason).toMatch(/^OOM command not allowed/);
  expect(outcome.keptInRedis).toEqual(ids);
  expect(outcome.accepted).toEqual(['ok-1']);
  expect(outcome.sent).toEqual(['ok-1']);
  expect(outcome.undeliverable).toEqual([{ reason: 'max_attempts', ids: ['late-1'] }]);
  expect(outcome.deadLetters).toEqual([{ reason: 'max_attempts', ids: ['late-1'] }]);
  expect(countedOnce(ids, outcome)).toEqual({ 'ok-1': 1, 'late-1': 1 });
});

it("last attempt, one event delivered, one rejected, one failed, and Redis refused the rejected event's dead-letter job: the delivered event is not reported undeliverable, the rejected one once", async () => {
  const ids = ['ok-1', 'bad-1', 'late-1'];
  const outcome = await lastAttempt(ids);
  expect(outcome.failedReason).toMatch(/^OOM command not allowed/);
  expect(outcome.keptInRedis).toEqual(ids);
  expect(outcome.accepted).toEqual(['ok-1']);
  expect(outcome.stats).toMatchObject({ sent: 1, rejected: 1, failed: 1 });
  expect(outcome.undeliverable).toEqual([
    { reason: 'rejected', ids: ['bad-1'] },
    { reason: 'max_attempts', ids: ['late-1'] },
  ]);
  expect(outcome.deadLetters).toEqual([
    { reason: 'rejected', ids: ['bad-1'] },
    { reason: 'max_attempts', ids: ['late-1'] },
  ]);
  expect(countedOnce(ids, outcome)).toEqual({ 'ok-1': 1, 'bad-1': 1, 'late-1': 1 });
});

it("last attempt, one event delivered, one rejected, and Redis refused the job's update: the rejected event is reported once, as rejected", async () => {
  const ids = ['ok-1', 'bad-1'];
  const outcome = await lastAttempt(ids);
  expect(outcome.failedReason).toMatch(/^OOM command not allowed/);
  expect(outcome.keptInRedis).toEqual(ids);
  expect(outcome.accepted).toEqual(['ok-1']);
  expect(outcome.undeliverable).toEqual([{ reason: 'rejected', ids: ['bad-1'] }]);
  expect(outcome.deadLetters).toEqual([{ reason: 'rejected', ids: ['bad-1'] }]);
  expect(countedOnce(ids, outcome)).toEqual({ 'ok-1': 1, 'bad-1': 1 });
});
