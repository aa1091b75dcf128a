import { createHash } from 'node:crypto';
import { type MockGraph, startMockGraph } from '@capi-kit/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { capi } from '../src/index.js';
import {
  capiOptions,
  KNOWN_FBP,
  listen,
  MAJORS,
  NAVIGATION,
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

describe.each(MAJORS)('$name: req.capi', ({ express }) => {
  let running: Running;
  let tracking: ReturnType<typeof capi>;
  beforeAll(async () => {
    tracking = capi(capiOptions(mock));
    const app = express();
    app.use(express.json());
    app.use(tracking);
    app.get('/landing', (req, res) => {
      res.json(req.capi.track('PageView'));
    });
    app.post('/lead', async (req, res) => {
      // Yield so concurrent requests interleave between the context and the track call.
      await new Promise((resolve) => setImmediate(resolve));
      res.json(req.capi.track('Lead', { user_data: { em: req.body.email } }));
    });
    app.post('/explicit', (req, res) => {
      res.json(
        req.capi.track('Lead', {
          event_source_url: 'https://shop.example/checkout',
          user_data: {
            em: 'a@example.com',
            client_ip_address: '192.0.2.1',
            client_user_agent: 'explicit-agent',
            fbp: 'fb.1.1600000000000.42',
          },
        }),
      );
    });
    app.post('/whole', (req, res) => {
      const event_id = req.capi.eventId();
      res.json(
        req.capi.track({
          event_name: 'Subscribe',
          event_id,
          user_data: { em: 'whole@example.com' },
          custom_data: { value: 9.5, currency: 'EUR' },
        }),
      );
    });
    app.get('/ids', (req, res) => {
      res.json([req.capi.eventId(), req.capi.eventId()]);
    });
    running = await listen(app);
  });
  afterAll(async () => {
    await running.close();
    await tracking.close();
  });

  it('fills IP (trusted X-Forwarded-For), user agent, fbp, fbc and event_source_url', async () => {
    const res = await running.request('/landing?fbclid=IwAR0click', {
      headers: { ...NAVIGATION, 'x-forwarded-for': '203.0.113.7', referer: 'https://ads.example/' },
    });
    const result = (await res.json()) as { event_id: string; accepted: boolean };
    expect(result.accepted).toBe(true);
    await tracking.client.flush();
    const [sent] = mock.events({ event_name: 'PageView' });
    const fbp = res.headers.getSetCookie().find((c) => c.startsWith('_fbp='));
    expect(sent?.event).toMatchObject({
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
    await tracking.client.flush();
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
    await tracking.client.flush();
    const sent = mock.events()[0]?.event;
    expect(sent).toMatchObject({
      event_source_url: 'https://shop.example/checkout',
      user_data: {
        client_ip_address: '192.0.2.1',
        client_user_agent: 'explicit-agent',
        fbp: 'fb.1.1600000000000.42',
      },
    });
  });

  it('tracks a whole event with the id from eventId()', async () => {
    const res = await postJson(running, '/whole', {});
    const result = (await res.json()) as { event_id: string; accepted: boolean };
    expect(result.accepted).toBe(true);
    expect(result.event_id).toMatch(/^[0-9a-f-]{36}$/);
    await tracking.client.flush();
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

  // With fbclid the context is computed in the middleware (an _fbc to set); without, it is
  // deferred to track() (a returning visitor's sub-request sets no cookie).
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
    await tracking.client.flush();
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

describe.each(MAJORS)('$name: capi({ client })', ({ express }) => {
  it('shares one client across apps and never closes it', async () => {
    const shared = capi(capiOptions(mock)).client;
    const first = capi({ client: shared, trustProxy: 'loopback' });
    const second = capi({ client: shared });
    expect(first.client).toBe(shared);
    expect(second.client).toBe(shared);
    const app = express();
    app.use('/a', first);
    app.use('/b', second);
    app.get(['/a', '/b'], (req, res) => {
      res.json(req.capi.track('ViewContent'));
    });
    const running = await listen(app);
    try {
      await running.request('/a', { headers: { 'x-forwarded-for': '203.0.113.9' } });
      await running.request('/b', { headers: { 'x-forwarded-for': '203.0.113.9' } });
      await first.close();
      await second.close();
      expect(shared.closed).toBe(false);
      // Still accepting after both adapters closed; delivered through the one client.
      const late = await running.request('/b', { headers: { 'x-forwarded-for': '203.0.113.9' } });
      expect(((await late.json()) as { accepted: boolean }).accepted).toBe(true);
      await shared.flush();
      const ips = mock.events().map((e) => e.event.user_data?.client_ip_address);
      // Each adapter keeps its own context options: only the first trusts the loopback proxy, the
      // second ignores a forwarded address it has no reason to believe.
      expect(ips).toEqual(['203.0.113.9', '127.0.0.1', '127.0.0.1']);
    } finally {
      await running.close();
      await shared.close();
    }
  });
});
