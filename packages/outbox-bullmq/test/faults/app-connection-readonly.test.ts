import { type MockGraph, startMockGraph } from '@capi-kit/testing';
import { Redis, type RedisOptions } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ownRedis, producerWithErrors, until, workerWithErrors } from './helpers.js';

// An ioredis instance of the app's as `connection`, after a failover that demoted the node it is
// connected to (here: made a replica with REPLICAOF). The connections this package opens itself
// reconnect on READONLY (through the endpoint, to the new primary); the app's instance only does
// if the app gave it `reconnectOnError`, which the package must not set on a connection it does
// not own. Without it, every write failed for as long as the process lived, and the message's
// fix, "point `connection` at the primary", was wrong: it pointed at the writer endpoint already.

let mock: MockGraph;
let primary: Awaited<ReturnType<typeof ownRedis>>;
let replica: Awaited<ReturnType<typeof ownRedis>>;
beforeAll(async () => {
  mock = await startMockGraph();
  [primary, replica] = await Promise.all([ownRedis(), ownRedis()]);
  const admin = new Redis(replica.url);
  await admin.call('REPLICAOF', '127.0.0.1', String(primary.port));
  admin.disconnect();
});
afterAll(async () => {
  await replica?.stop();
  await primary?.stop();
  await mock?.close();
});

const RECONNECT_FIX = /reconnectOnError: \(error\) => error\.message\.startsWith\('READONLY'\)/;

/** The app's instance, on the demoted node. */
const appRedis = (options: RedisOptions = {}) => {
  const redis = new Redis(replica.url, options);
  redis.on('error', () => {});
  return redis;
};

it.each([
  { given: 'without reconnectOnError', options: {}, says: RECONNECT_FIX },
  {
    given: 'with reconnectOnError',
    options: { reconnectOnError: (error: Error) => error.message.startsWith('READONLY') },
    says: /point `connection` at the primary/,
  },
])(
  "the producer on an app's instance $given that Redis answers READONLY: the fix says what to give it, and the fallback delivers",
  async ({ options, says }) => {
    const redis = appRedis(options);
    const before = mock.events().length;
    const { client, errors, track } = producerWithErrors(mock, {
      connection: redis,
      prefix: 'capi-app-readonly',
    });
    try {
      track('readonly', 2);
      await client.flush();
      const readonly = errors.filter((message) => /READONLY/.test(message));
      expect(readonly).toHaveLength(1);
      expect(readonly[0]).toMatch(/is a read-only replica \(READONLY .*\)/);
      expect(readonly[0]).toMatch(says);
      if (says !== RECONNECT_FIX) expect(readonly[0]).not.toMatch(RECONNECT_FIX);
      expect(await until(() => mock.events().length === before + 2, 30_000)).toBe(true);
    } finally {
      await client.close({ timeoutMs: 1000 });
      // The app's, left open by close().
      expect(redis.status).not.toBe('end');
      redis.disconnect();
    }
  },
);

it("a worker on an app's instance without reconnectOnError that Redis answers READONLY: its log line's fix says what to give it", async () => {
  const redis = appRedis({ maxRetriesPerRequest: null });
  const { worker, lines } = workerWithErrors(mock, {
    connection: redis,
    prefix: 'capi-app-readonly',
  });
  const readonly = () => lines.filter((l) => /READONLY/.test(String(l.obj.error)));
  try {
    expect(await until(() => readonly().length > 0, 20_000)).toBe(true);
    expect(readonly()[0]?.obj.fix).toMatch(RECONNECT_FIX);
  } finally {
    await worker.close({ timeoutMs: 1000 });
    redis.disconnect();
  }
}, 60_000);
