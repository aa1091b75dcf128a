import { connect, createServer, type Socket } from 'node:net';
import type { OutboxRecord } from '@capi-kit/core';
import { Redis } from 'ioredis';

declare module 'vitest' {
  interface TaskMeta {
    /** Why a skipped test did not run; `npm test` prints one line per reason before its totals. */
    skipReason?: string | undefined;
  }
}

/** Whether a Redis answers `PING` at host:port within a second. */
const answersPing = (host: string, port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (answered: boolean) => {
      socket.destroy();
      resolve(answered);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => done(data.toString('latin1').startsWith('+PONG')));
  });

/**
 * Redis for these tests: `REDIS_URL` when set (an explicit choice wins: it may name a throwaway
 * instance kept apart from a developer's own), else `127.0.0.1:6379` when a Redis answers there.
 */
const REDIS_URL: string | undefined =
  process.env.REDIS_URL ??
  ((await answersPing('127.0.0.1', 6379)) ? 'redis://127.0.0.1:6379' : undefined);

/** Why the Redis tests cannot run here; `undefined` when they can. */
export const NO_REDIS: string | undefined = REDIS_URL
  ? undefined
  : 'no Redis: REDIS_URL is unset and nothing answers PING on 127.0.0.1:6379 (start redis-server or set REDIS_URL)';

/**
 * Options for a `describe` that needs Redis: skipped without one, saying why, except in CI (`CI`
 * set), where a missing Redis is a broken runner and `requireRedis()` fails the tests instead.
 */
export const needsRedis = {
  skip: NO_REDIS !== undefined && !process.env.CI,
  meta: { skipReason: NO_REDIS },
};

/** The Redis URL, or the reason there is none as an error (CI without Redis). */
export const requireRedis = (): string => {
  if (REDIS_URL === undefined) throw new Error(`${NO_REDIS}; CI must run these tests`);
  return REDIS_URL;
};

/** A BullMQ key prefix unique to this run (several runs, or CI and a developer, may share one Redis). */
export const uniquePrefix = (label: string): string =>
  `capi-test-${label}-${process.pid}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}`;

/** Deletes every key under `prefix` (BullMQ keys are `${prefix}:${queue}:…`). */
export const deleteKeys = async (url: string, prefix: string): Promise<number> => {
  const redis = new Redis(url, { maxRetriesPerRequest: 1 });
  let deleted = 0;
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) deleted += await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
  return deleted;
};

/** A Lead event the mock Graph API accepts. */
export const leadEvent = (id: string, nowMs = Date.now()) => ({
  event_name: 'Lead' as const,
  event_id: id,
  event_time: Math.floor(nowMs / 1000),
  action_source: 'website' as const,
  event_source_url: 'https://shop.example.com/signup',
  user_data: {
    em: `${id}@example.com`,
    client_ip_address: '203.0.113.7',
    client_user_agent: 'Mozilla/5.0 (X11; Linux x86_64) capi-kit-test',
  },
});

let n = 0;
/** A record whose body is the given wire event (already "hashed": the mock checks the shape). */
export const rawRecord = (pixelId: string, wire: Record<string, unknown>): OutboxRecord => {
  const body = JSON.stringify(wire);
  return {
    id: `raw-${n++}`,
    pixelId,
    eventId: String(wire.event_id),
    eventName: String(wire.event_name),
    eventTime: Number(wire.event_time),
    actionSource: String(wire.action_source),
    body,
    bytes: Buffer.byteLength(body),
    attempts: 0,
    enqueuedAt: Date.now(),
    retryAt: Date.now(),
  };
};

/** A wire event the mock accepts as is (hashed em, UA, source URL). */
export const wireLead = (id: string) => ({
  event_name: 'Lead',
  event_id: id,
  event_time: Math.floor(Date.now() / 1000),
  action_source: 'website',
  event_source_url: 'https://shop.example.com/signup',
  user_data: {
    em: 'a'.repeat(64),
    client_user_agent: 'Mozilla/5.0 capi-kit-test',
  },
});

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export const waitFor = async (done: () => boolean | Promise<boolean>, timeoutMs = 10_000) => {
  const until = Date.now() + timeoutMs;
  while (!(await done())) {
    if (Date.now() > until) throw new Error('timed out waiting');
    await sleep(20);
  }
};

/**
 * A loopback TCP proxy to the Redis at `url` whose client-to-Redis direction the test can hold:
 * while stalled, commands wait in the proxy (the connection stays up, ioredis stays `ready`) as
 * they would behind a Redis that hangs; `resume()` passes them on. Only connections through the
 * proxy are held: the shared Redis and every other test's connections are left alone.
 */
export const stallableProxy = async (url: string) => {
  const target = new URL(url);
  const pairs = new Set<{ client: Socket; upstream: Socket; held: Buffer[] }>();
  let stalled = false;
  const server = createServer((client) => {
    const upstream = connect({ host: target.hostname, port: Number(target.port || 6379) });
    const pair = { client, upstream, held: [] as Buffer[] };
    pairs.add(pair);
    client.on('data', (chunk) => {
      if (stalled) pair.held.push(chunk);
      else upstream.write(chunk);
    });
    upstream.pipe(client);
    const end = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const proxied = new URL(url);
  proxied.hostname = '127.0.0.1';
  proxied.port = String((server.address() as { port: number }).port);
  return {
    url: proxied.href,
    /** From now on, what clients send waits in the proxy. */
    stall: () => {
      stalled = true;
    },
    /** Passes on what waited, in order, and everything after it. */
    resume: () => {
      stalled = false;
      for (const pair of pairs) {
        for (const chunk of pair.held.splice(0)) pair.upstream.write(chunk);
      }
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const { client, upstream } of pairs) {
          client.destroy();
          upstream.destroy();
        }
        server.close(() => resolve());
      }),
  };
};
