import { beforeEach, describe, expect, it, vi } from 'vitest';
import { createNextCapi } from '../src/next-capi.ts';
import { createRelayRoute } from '../src/relay.ts';
import {
  mock,
  graphOptions as options,
  PIXEL_ID,
  setUpMockGraph,
  TOKEN,
  UA,
} from './mock-graph.ts';
import { scope } from './next-mocks.ts';

vi.mock('next/headers.js', async () => (await import('./next-mocks.ts')).nextHeadersMock());
vi.mock('next/server.js', async () => (await import('./next-mocks.ts')).nextServerMock());
vi.mock('next/navigation.js', async () => (await import('./next-mocks.ts')).nextNavigationMock());

const FBP = 'fb.2.1700000000000.42';

setUpMockGraph();
beforeEach(() => {
  scope.reset();
});

const body = (event_id: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    v: 1,
    pixel_id: PIXEL_ID,
    events: [
      {
        event_name: 'AddToCart',
        event_id,
        event_time: Math.floor(Date.now() / 1000),
        event_source_url: 'https://shop.example.com/p/1',
        custom_data: { value: 1, currency: 'EUR' },
        ...extra,
      },
    ],
  });
/** A relay request as Next's server hands it over: its own hostname in the URL, the browser's in `Host`. */
const beacon = (payload: string, headers: Record<string, string> = {}) =>
  new Request('http://localhost:3000/capi/events', {
    method: 'POST',
    headers: {
      host: 'shop.example.com',
      'content-type': 'application/json',
      'sec-fetch-site': 'same-origin',
      'user-agent': UA,
      cookie: `_fbp=${FBP}`,
      referer: 'https://shop.example.com/p/1',
      'x-forwarded-for': '203.0.113.9',
      ...headers,
    },
    body: payload,
  });

// The relay's rules over HTTP (sizes, methods, rate limits, cross-site) are checked by the adapter
// conformance kit (conformance.test.ts); here, what only the Next route has.
describe('createRelayRoute', () => {
  it('answers 204, delivers through after() with the browser event_id and the request data', async () => {
    const identified: Request[] = [];
    const { POST } = createRelayRoute({
      ...options(),
      identify: (request) => {
        identified.push(request);
        return { external_id: 'u-1' };
      },
    });
    const response = await POST(beacon(body('next-1')));
    expect(response.status).toBe(204);
    expect(scope.afterTasks).toHaveLength(1);
    await Promise.all(scope.afterTasks ?? []);
    const [received] = mock.events();
    expect(received?.event).toMatchObject({
      event_id: 'next-1',
      event_source_url: 'https://shop.example.com/p/1',
      user_data: { client_ip_address: '203.0.113.9', client_user_agent: UA, fbp: FBP },
    });
    expect(identified).toHaveLength(1);
  });

  it('compares Origin with the browser host, not Next’s own hostname', async () => {
    const { POST } = createRelayRoute(options());
    const ok = await POST(
      beacon(body('o1'), { 'sec-fetch-site': '', origin: 'https://shop.example.com' }),
    );
    expect(ok.status).toBe(204);
    const cross = await POST(
      beacon(body('o2'), { 'sec-fetch-site': '', origin: 'http://localhost:3000' }),
    );
    expect(cross.status).toBe(403);
  });

  it('sets the minted _fbp, rate-limits, and delivers through a shared binding', async () => {
    const capi = createNextCapi(options());
    const { POST } = createRelayRoute({ capi, rateLimit: { eventsPerMinute: 60, burst: 1 } });
    const first = await POST(beacon(body('s1'), { cookie: '' }));
    expect(first.status).toBe(204);
    expect(first.headers.getSetCookie()[0]).toMatch(/^_fbp=fb\.1\./);
    const second = await POST(beacon(body('s2')));
    expect(second.status).toBe(429);
    await capi.flush();
    expect(mock.uniqueEventIds()).toContain('s1');
    expect(mock.uniqueEventIds()).not.toContain('s2');
    expect(capi.client.stats().dedup.relay).toBe(1);
    await capi.close();
  });

  it('keeps delivery alive with the shared binding’s waitUntil (after() is not used then)', async () => {
    const kept: Promise<unknown>[] = [];
    const capi = createNextCapi({ ...options(), waitUntil: (promise) => kept.push(promise) });
    const { POST } = createRelayRoute({ capi });
    expect((await POST(beacon(body('w1')))).status).toBe(204);
    // The binding's keep-alive carried the delivery, not Next's after().
    expect(kept).toHaveLength(1);
    expect(scope.afterTasks ?? []).toHaveLength(0);
    await Promise.all(kept);
    expect(mock.uniqueEventIds()).toEqual(['w1']);
    // A waitUntil of the route's own still comes first.
    const own: Promise<unknown>[] = [];
    const route = createRelayRoute({ capi, waitUntil: (promise) => own.push(promise) });
    expect((await route.POST(beacon(body('w2')))).status).toBe(204);
    expect({ own: own.length, binding: kept.length }).toEqual({ own: 1, binding: 1 });
    await Promise.all(own);
    await capi.close();
  });

  it('reads requests as the shared binding does (its consent, trustProxy, destinations), route options on top', async () => {
    const capi = createNextCapi({ ...options(), consent: () => 'denied' });
    expect(capi.requestContextOptions).toEqual({ consent: expect.any(Function) });
    expect(JSON.stringify(capi.requestContextOptions)).not.toContain(TOKEN);
    const denied = createRelayRoute({ capi });
    expect((await denied.POST(beacon(body('c1')))).status).toBe(204);
    const granted = createRelayRoute({ capi, consent: () => 'granted' });
    expect((await granted.POST(beacon(body('c2')))).status).toBe(204);
    await capi.flush();
    expect(mock.uniqueEventIds()).toEqual(['c2']);
    await capi.close();
  });

  it('takes bodyTimeoutMs as a relay rule: a body that stalls gets 408', async () => {
    const { POST } = createRelayRoute({ ...options(), bodyTimeoutMs: 50 });
    const half = new TextEncoder().encode(body('stalled')).slice(0, 20);
    const stalled = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(half); // and nothing more
      },
    });
    const { headers } = beacon('');
    const request = new Request('http://localhost:3000/capi/events', {
      method: 'POST',
      headers,
      body: stalled,
      duplex: 'half',
    } as RequestInit);
    const response = await POST(request);
    expect(response.status).toBe(408);
    expect(await response.json()).toEqual({ error: 'body_timeout' });
  });

  it('takes identifyTimeoutMs as a relay rule: an identify that never answers is given up on then', async () => {
    const capi = createNextCapi(options());
    const errors: string[] = [];
    capi.client.on('error', (info) => errors.push(String(info.error)));
    const { POST } = createRelayRoute({
      capi,
      identify: () => new Promise<undefined>(() => {}),
      identifyTimeoutMs: 50,
    });
    const response = await POST(beacon(body('slow-identify')));
    expect(response.status).toBe(204);
    // Not the 2000 ms default: the option reached the relay, not the client.
    expect(errors).toEqual([expect.stringContaining('within identifyTimeoutMs (50 ms)')]);
    await capi.flush();
    expect(mock.uniqueEventIds()).toEqual(['slow-identify']);
    await capi.close();
  });

  it('answers 503 when the client cannot be created, and says why once', async () => {
    // A relay-only app (no other tracking) missing META_ACCESS_TOKEN answered every beacon 503
    // without a word: the route read `capi.client`, whose error is the caller's to tell.
    const { POST } = createRelayRoute({ env: false });
    const spy = vi.spyOn(console, 'error').mockImplementation(() => {});
    expect((await POST(beacon(body('x')))).status).toBe(503);
    expect((await POST(beacon(body('y')))).status).toBe(503);
    expect(spy.mock.calls.map((call) => String(call[0]))).toEqual([
      expect.stringMatching(/could not create the Conversions API client.*needs a pixelId/),
    ]);
    spy.mockRestore();
  });
});
