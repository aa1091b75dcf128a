import { describe, expect, it } from 'vitest';
import {
  createMemoryRateLimiter,
  rateLimitKey,
  readRelayBody,
  UNKNOWN_CLIENT_KEY,
} from '../../src/relay/index.js';

describe('rateLimitKey', () => {
  it.each([
    ['203.0.113.7', '203.0.113.7'],
    ['::ffff:203.0.113.7', '203.0.113.7'],
    ['2001:db8:1:2::1', '2001:db8:1:2::/64'],
    ['2001:0db8:0001:0002:ffff:ffff:ffff:ffff', '2001:db8:1:2::/64'],
    ['::1', '0:0:0:0::/64'],
    [undefined, UNKNOWN_CLIENT_KEY],
    ['not an ip', UNKNOWN_CLIENT_KEY],
  ])('%s → %s', (ip, key) => {
    expect(rateLimitKey(ip)).toBe(key);
  });
});

describe('createMemoryRateLimiter', () => {
  it('is a token bucket per key', () => {
    const limiter = createMemoryRateLimiter({ eventsPerMinute: 60, burst: 3 });
    expect(limiter.take('a', 3, 0)).toEqual({ allowed: true });
    expect(limiter.take('a', 1, 0)).toEqual({ allowed: false, retryAfterSeconds: 1 });
    expect(limiter.take('b', 3, 0)).toEqual({ allowed: true });
    expect(limiter.take('a', 1, 1000)).toEqual({ allowed: true });
    expect(limiter.take('a', 2, 1000)).toEqual({ allowed: false, retryAfterSeconds: 2 });
    // A refused request takes nothing.
    expect(limiter.take('a', 2, 3000)).toEqual({ allowed: true });
  });

  it('caps a request larger than the bucket at a full bucket', () => {
    const limiter = createMemoryRateLimiter({ eventsPerMinute: 60, burst: 5 });
    expect(limiter.take('a', 50, 0)).toEqual({ allowed: true });
    expect(limiter.take('a', 50, 0)).toEqual({ allowed: false, retryAfterSeconds: 5 });
  });

  it('forgets the least recently used key beyond maxKeys', () => {
    const limiter = createMemoryRateLimiter({ eventsPerMinute: 1, burst: 1, maxKeys: 2 });
    expect(limiter.take('a', 1, 0).allowed).toBe(true);
    expect(limiter.take('b', 1, 0).allowed).toBe(true);
    expect(limiter.take('a', 1, 0).allowed).toBe(false); // a is now the most recent
    expect(limiter.take('c', 1, 0).allowed).toBe(true); // evicts b
    expect(limiter.take('a', 1, 0).allowed).toBe(false); // a was kept
    expect(limiter.take('b', 1, 0).allowed).toBe(true); // b starts over (evicts c)
  });

  it('keeps a key in use through a flood of new keys, and forgets the idle ones', () => {
    const limiter = createMemoryRateLimiter({ eventsPerMinute: 1, burst: 1, maxKeys: 100 });
    expect(limiter.take('busy', 1, 0).allowed).toBe(true);
    expect(limiter.take('idle', 1, 0).allowed).toBe(true);
    for (let i = 0; i < 10_000; i++) {
      expect(limiter.take(`flood-${i}`, 1, 0).allowed).toBe(true);
      if (i % 10 === 0) expect(limiter.take('busy', 1, 0).allowed).toBe(false);
    }
    expect(limiter.take('idle', 1, 0).allowed).toBe(true); // forgotten: a full bucket again
    expect(limiter.take('flood-9999', 1, 0).allowed).toBe(false); // recent: remembered
    expect(limiter.take('flood-0', 1, 0).allowed).toBe(true); // long gone
  });

  it('does not refill when the clock goes backwards', () => {
    const limiter = createMemoryRateLimiter({ eventsPerMinute: 60, burst: 1 });
    expect(limiter.take('a', 1, 10_000).allowed).toBe(true);
    expect(limiter.take('a', 1, 0).allowed).toBe(false);
  });
});

describe('readRelayBody', () => {
  const text = (n: number) => 'x'.repeat(n);

  it('reads a Web stream and an async iterable up to the cap', async () => {
    const web = await readRelayBody(new Blob([text(10)]).stream(), 10);
    expect(web.tooLarge).toBe(false);
    async function* chunks() {
      yield new TextEncoder().encode('ab');
      yield 'cd';
    }
    const node = await readRelayBody(chunks(), 4);
    expect(node.tooLarge === false && new TextDecoder().decode(node.bytes)).toBe('abcd');
  });

  it('stops at the cap without reading on, and without destroying a Node stream', async () => {
    let pulled = 0;
    let returned = false;
    const source: AsyncIterable<Uint8Array> = {
      [Symbol.asyncIterator]: () => ({
        next: async () => {
          pulled++;
          return { done: false, value: new Uint8Array(8) };
        },
        return: async () => {
          returned = true;
          return { done: true, value: undefined };
        },
      }),
    };
    expect(await readRelayBody(source, 20)).toEqual({ tooLarge: true });
    expect(pulled).toBe(3);
    expect(returned).toBe(false);
    expect(await readRelayBody(new Blob([text(11)]).stream(), 10)).toEqual({ tooLarge: true });
  });
});
