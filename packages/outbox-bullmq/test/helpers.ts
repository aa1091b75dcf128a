import type { OutboxRecord } from '@capi-kit/core';
import { Redis } from 'ioredis';

/** Redis for these tests: CI exports `REDIS_URL`; without it the Redis tests are skipped, by name. */
export const REDIS_URL = process.env.REDIS_URL;

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
