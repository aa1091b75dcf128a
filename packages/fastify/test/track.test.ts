import { createHash } from 'node:crypto';
import { createCapi } from '@capi-kit/core';
import { type MockGraph, startMockGraph } from '@capi-kit/testing';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { capiPlugin } from '../src/index.js';
import {
  capiOptions,
  KNOWN_FBP,
  listen,
  MAJORS,
  NAVIGATION,
  PIXEL_ID,
  postJson,
  type Running,
  UA,
} from './fixtures.js';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

let mock: MockGraph;
beforeAll(async () => {
  mock = await startMockGraph();
});
beforeEach(() => mock.reset());
afterAll(() => mock.close());

describe.each(MAJORS)('$name: request.capi', ({ fastify }) => {
  let app: FastifyInstance;
  let running: Running;
  beforeAll(async () => {
    app = fastify();
    await app.register(capiPlugin, capiOptions(mock));
    app.get('/landing', (request) => request.capi.track('PageView'));
    app.post<{ Body: { email: string } }>('/lead', async (request) => {
      // Yield so concurrent requests interleave between the context and the track call.
      await new Promise((resolve) => setImmediate(resolve));
      return request.capi.track('Lead', { user_data: { em: request.body.email } });
    });
    app.post('/explicit', (request) =>
      request.capi.track('Lead', {
        event_source_url: 'https://shop.example/checkout',
        user_data: {
          em: 'a@example.com',
          client_ip_address: '192.0.2.1',
          client_user_agent: 'explicit-agent',
          fbp: 'fb.1.1600000000000.42',
        },
      }),
    );
    app.post('/whole', (request) =>
      request.capi.track({
        event_name: 'Subscribe',
        event_id: request.capi.eventId(),
        user_data: { em: 'whole@example.com' },
        custom_data: { value: 9.5, currency: 'EUR' },
      }),
    );
    app.get('/ids', (request) => [request.capi.eventId(), request.capi.eventId()]);
    running = await listen(app);
  });
  afterAll(() => app.close());

  it('fills IP (trusted X-Forwarded-For), user agent, fbp, fbc and event_source_url', async () => {
    const res = await running.request('/landing?fbclid=IwAR0click', {
      headers: { ...NAVIGATION, 'x-forwarded-for': '203.0.113.7', referer: 'https://ads.example/' },
    });
    const result = (await res.json()) as { event_id: string; accepted: boolean };
    expect(result.accepted).toBe(true);
    await app.capiClient.flush();
    const fbp = res.headers.getSetCookie().find((c) => c.startsWith('_fbp='));
    expect(mock.events({ event_name: 'PageView' })[0]?.event).toMatchObject({
      event_id: result.event_id,
      action_source: 'website',
      event_source_url: `${running.url}/landing?fbclid=IwAR0click`,
      referrer_url: 'https://ads.example/',
      user_data: {
        client_ip_address: '203.0.113.7',
        client_user_agent: UA,
        fbp: fbp?.slice('_fbp='.length, fbp.indexOf(';')),
        fbc: expect.stringMatching(/^fb\.0\.\d{13}\.IwAR0click$/),
      },
    });
  });

  it('uses the calling page as event_source_url of a fetch, and the browser _fbp', async () => {
    const res = await postJson(
      running,
      '/lead',
      { email: 'Jane.Doe@Example.com' },
      {
        cookie: `_fbp=${KNOWN_FBP}`,
        referer: `${running.url}/pricing`,
        'x-forwarded-for': '2001:db8::1',
      },
    );
    const { event_id } = (await res.json()) as { event_id: string };
    await app.capiClient.flush();
    expect(mock.events()[0]?.event).toMatchObject({
      event_id,
      event_source_url: `${running.url}/pricing`,
      user_data: {
        client_ip_address: '2001:db8::1',
        fbp: KNOWN_FBP,
        em: [sha256('jane.doe@example.com')],
      },
    });
  });

  it('lets explicit values win over the request context', async () => {
    await postJson(running, '/explicit', {}, { 'x-forwarded-for': '203.0.113.7' });
    await app.capiClient.flush();
    expect(mock.events()[0]?.event).toMatchObject({
      event_source_url: 'https://shop.example/checkout',
      user_data: {
        client_ip_address: '192.0.2.1',
        client_user_agent: 'explicit-agent',
        fbp: 'fb.1.1600000000000.42',
      },
    });
  });

  it('tracks a whole event with the id from eventId()', async () => {
    const result = (await (await postJson(running, '/whole', {})).json()) as {
      event_id: string;
      accepted: boolean;
    };
    expect(result.accepted).toBe(true);
    expect(result.event_id).toMatch(/^[0-9a-f-]{36}$/);
    await app.capiClient.flush();
    expect(mock.events()[0]?.event).toMatchObject({
      event_name: 'Subscribe',
      event_id: result.event_id,
      custom_data: { value: 9.5, currency: 'EUR' },
      user_data: { client_user_agent: UA },
    });
  });

  it('eventId() gives a fresh UUID each call', async () => {
    const ids = (await (await running.request('/ids')).json()) as string[];
    expect(ids[0]).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(new Set(ids).size).toBe(2);
  });

  // With fbclid the context is computed in onRequest (an _fbc to set); without, it is deferred
  // to track() (a returning visitor's sub-request sets no cookie).
  it.each([
    { mode: 'computed at once', query: (i: number) => `?fbclid=click${i}` },
    { mode: 'deferred', query: () => '' },
  ])('never mixes the contexts of 50 concurrent requests ($mode)', async ({ query }) => {
    const N = 50;
    const responses = await Promise.all(
      Array.from({ length: N }, async (_, i) => {
        const fbp = `fb.0.1700000000000.${1000 + i}`;
        const res = await fetch(`${running.url}/lead${query(i)}`, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'user-agent': `agent-${i}`,
            'x-forwarded-for': `198.51.100.${i + 1}`,
            cookie: `_fbp=${fbp}`,
            referer: `${running.url}/page-${i}`,
          },
          body: JSON.stringify({ email: `user${i}@example.com` }),
        });
        return { i, fbp, ...((await res.json()) as { event_id: string }) };
      }),
    );
    await app.capiClient.flush();
    const byId = new Map(mock.events().map((e) => [e.event.event_id, e.event]));
    expect(byId.size).toBe(N);
    for (const { i, fbp, event_id } of responses) {
      expect(byId.get(event_id)).toMatchObject({
        event_source_url: `${running.url}/page-${i}`,
        user_data: {
          client_user_agent: `agent-${i}`,
          client_ip_address: `198.51.100.${i + 1}`,
          fbp,
          ...(query(i) === ''
            ? {}
            : { fbc: expect.stringMatching(new RegExp(`^fb\\.0\\.\\d{13}\\.click${i}$`)) }),
          em: [sha256(`user${i}@example.com`)],
        },
      });
    }
  });
});

describe.each(MAJORS)('$name: the client lifecycle', ({ fastify }) => {
  it('onClose sends what is queued: events arrive after app.close()', async () => {
    const app = fastify();
    await app.register(capiPlugin, capiOptions(mock));
    app.get('/', (request) => request.capi.track('ViewContent'));
    const running = await listen(app);
    const client = app.capiClient;
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await running.request('/', { headers: { 'x-forwarded-for': '203.0.113.1' } });
      ids.push(((await res.json()) as { event_id: string }).event_id);
    }
    // Batched (flushIntervalMs 1 s): nothing sent yet.
    expect(mock.requests()).toEqual([]);
    await app.close();
    expect(mock.events({ event_name: 'ViewContent' }).map((e) => e.event.event_id)).toEqual(ids);
    expect(client.closed).toBe(true);
  });

  it('shares a client passed as `client` and leaves it open on close', async () => {
    const shared = createCapi({
      pixelId: PIXEL_ID,
      accessToken: 'shared-token',
      graphUrl: mock.url,
      env: false,
    });
    const first = fastify();
    const second = fastify();
    await first.register(capiPlugin, { client: shared, trustProxy: 'loopback' });
    await second.register(capiPlugin, { client: shared });
    expect(first.capiClient).toBe(shared);
    expect(second.capiClient).toBe(shared);
    for (const app of [first, second]) app.get('/', (request) => request.capi.track('Search'));
    const a = await listen(first);
    const b = await listen(second);
    try {
      const headers = { 'x-forwarded-for': '203.0.113.9' };
      await a.request('/', { headers });
      await b.request('/', { headers });
      await first.close();
      expect(shared.closed).toBe(false);
      expect(
        ((await (await b.request('/', { headers })).json()) as { accepted: boolean }).accepted,
      ).toBe(true);
      await second.close();
      expect(shared.closed).toBe(false);
      await shared.flush();
      // Each registration keeps its own context options: only the first trusts the loopback
      // proxy, the second ignores a forwarded address it has no reason to believe.
      expect(mock.events().map((e) => e.event.user_data?.client_ip_address)).toEqual([
        '203.0.113.9',
        '127.0.0.1',
        '127.0.0.1',
      ]);
    } finally {
      await first.close();
      await second.close();
      await shared.close();
    }
  });
});
