import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type { NodeRequestLike } from '../../src/context/index.js';
import { type CapiClient, createCapi } from '../../src/delivery/index.js';
import type { ErrorInfo } from '../../src/delivery/types.js';
import { type CreateRelayOptions, createRelay, type RelayInput } from '../../src/relay/index.js';
import { PIXEL, scriptedFetch, TOKEN } from '../delivery/helpers.js';

// What a hostile (or just unlucky) client can send the relay, beyond relay.test.ts.

const clients: CapiClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close({ timeoutMs: 100 })));
});

function harness(relayOptions: Partial<CreateRelayOptions<NodeRequestLike>> = {}) {
  const { fetch, seen } = scriptedFetch();
  const client = createCapi({
    pixelId: PIXEL,
    accessToken: TOKEN,
    fetch,
    env: false,
    flushIntervalMs: 60_000,
  });
  clients.push(client);
  const errors: ErrorInfo[] = [];
  client.on('error', (e) => errors.push(e));
  const relay = createRelay<NodeRequestLike>({
    client,
    requestContext: { trustProxy: 'loopback' },
    ...relayOptions,
  });
  const sent = async () => {
    await client.flush();
    return seen.flatMap((r) => r.body.data as Record<string, unknown>[]);
  };
  return { client, relay, errors, sent };
}

const event = (extra: Record<string, unknown> = {}) => ({
  event_name: 'AddToCart',
  event_id: 'evt-1',
  event_time: Math.floor(Date.now() / 1000),
  event_source_url: 'https://shop.example/product/1',
  ...extra,
});

const body = (events: unknown[] = [event()]) => JSON.stringify({ v: 1, pixel_id: PIXEL, events });

function request(payload: RelayInput<NodeRequestLike>['body']): RelayInput<NodeRequestLike> {
  return {
    request: {
      method: 'POST',
      url: '/capi/events',
      headers: {
        host: 'shop.example',
        'content-type': 'application/json',
        'sec-fetch-site': 'same-origin',
        'user-agent': 'Mozilla/5.0 relay-review',
        'x-forwarded-for': '203.0.113.7',
        'x-forwarded-proto': 'https',
      },
      remoteAddress: '127.0.0.1',
    },
    body: payload,
  };
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const bytes = (text: string) => new TextEncoder().encode(text);

describe('relay review: a body the client stops sending', () => {
  it('is a refused request, not an app error or a dropped event', async () => {
    const h = harness();
    const half = bytes(body()).slice(0, 20);
    // A Node request whose client went away mid-body: its iterator rejects ('aborted').
    const node = Object.assign(
      (async function* () {
        yield half;
        throw Object.assign(new Error('aborted'), { code: 'ECONNRESET' });
      })(),
      { httpVersionMajor: 1 },
    );
    // A Web request body whose connection broke.
    const web = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(half);
        controller.error(new TypeError('network error'));
      },
    });
    for (const stream of [node, web]) {
      const answer = await h.relay.handle(request(stream));
      expect(answer.status).toBe(400);
    }
    const stats = h.relay.stats();
    expect(stats.refused.invalid_payload).toBe(2);
    // No event was received, so none can have been dropped: received = tracked + dropped holds.
    expect(stats.events).toMatchObject({ received: 0, tracked: 0 });
    expect(stats.events.dropped).toEqual({
      malformed: 0,
      not_allowed: 0,
      not_accepted: 0,
      error: 0,
    });
    // A visitor closing a tab mid-beacon is not the app's error (nor a line in its error log).
    expect(h.errors).toEqual([]);
    // The same request read whole still goes through.
    expect((await h.relay.handle(request(bytes(body())))).status).toBe(204);
  });

  it("a Web stream the app already read is still reported as the app's mistake", async () => {
    const h = harness();
    const stream = new Response(body()).body as ReadableStream<Uint8Array>;
    stream.getReader(); // a middleware took the body first
    await h.relay.handle(request(stream));
    expect(h.errors.map((e) => e.kind)).toEqual(['callback']);
    expect(String((h.errors[0] as { error?: unknown }).error)).toContain('already read');
    expect(h.relay.stats().refused.invalid_payload).toBe(0);
  });
});

describe('relay review: user_data from the page (allowUserData)', () => {
  it('costs time in proportion to the body, not to its values squared', async () => {
    // Each distinct value was checked against every value kept before it: 60 000 short IDs in a
    // 660 KB body took 8 s of one thread (64 KiB of them, 150 ms). A page sends one or two.
    const h = harness({ allowUserData: true, maxBodyBytes: 1024 * 1024, rateLimit: false });
    const ids = Array.from({ length: 60_000 }, (_, i) => `u${i}`);
    const wire = body([event({ user_data: { external_id: ids } })]);
    expect(wire.length).toBeLessThan(1024 * 1024);
    // No timing asserted here (speed is the benches'): the old scan made this one call take
    // seconds, past the test's own timeout; now it is one pass and one Set.
    expect((await h.relay.handle(request(wire))).status).toBe(204);
    // Far past maxBatchBytes once hashed: dropped at intake, as any oversized event.
    expect(h.relay.stats().events.received).toBe(1);
    // Repeats still go once, in first-seen order, a raw value and its hash as one.
    const again = body([event({ user_data: { external_id: ['b', 'a', 'b', sha256('a'), 'c'] } })]);
    expect((await h.relay.handle(request(again))).status).toBe(204);
    const sent = await h.sent();
    expect(sent.map((e) => e.user_data)).toEqual([
      expect.objectContaining({ external_id: ['b', 'a', 'c'].map(sha256) }),
    ]);
  });
});
