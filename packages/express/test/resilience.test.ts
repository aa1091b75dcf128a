import { type MockGraph, startMockGraph } from '@capi-kit/testing';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { capi, trackConversion } from '../src/index.js';
import {
  capiOptions,
  errorsOf,
  finishTracker,
  KNOWN_FBP,
  listen,
  MAJORS,
  NAVIGATION,
  postJson,
  type Running,
  UA,
} from './fixtures.js';

/** Options that make `getRequestContext` throw, standing in for any bug on that path. */
const brokenTrustList = (): string[] =>
  new Proxy([] as string[], {
    get() {
      throw new Error('broken trust list');
    },
  });

let mock: MockGraph;
beforeAll(async () => {
  mock = await startMockGraph();
});
beforeEach(() => mock.reset());
afterAll(() => mock.close());

describe.each(MAJORS)('$name: a failing Graph API', ({ express }) => {
  let running: Running;
  let tracking: ReturnType<typeof capi>;
  let finished: ReturnType<typeof finishTracker>;
  beforeEach(async () => {
    // flushOnEnd: every track() starts a Graph request at once, so it is in flight during the test.
    tracking = capi(capiOptions(mock, { flushOnEnd: true, timeoutMs: 30_000 }));
    finished = finishTracker();
    const app = express();
    app.use(express.json());
    app.use(tracking);
    app.post('/lead', (req, res) => {
      const { event_id } = req.capi.track('Lead', { user_data: { em: req.body.email } });
      res.status(201).json({ event_id, saved: true });
    });
    app.post(
      '/purchase',
      trackConversion('Purchase', () => ({ custom_data: { value: 5, currency: 'USD' } })),
      finished.middleware,
      (_req, res) => {
        res.json({ paid: true });
      },
    );
    running = await listen(app);
  });
  afterEach(async () => {
    await running.close();
    // Abandons what is still hanging instead of waiting out the 30 s request timeout.
    await tracking.close({ timeoutMs: 100 });
    mock.recover();
  });

  const exercise = async () => {
    const lead = await postJson(running, '/lead', { email: 'a@example.com' });
    expect(lead.status).toBe(201);
    expect(await lead.json()).toEqual({ event_id: expect.any(String), saved: true });
    const purchases = await Promise.all(
      Array.from({ length: 5 }, () =>
        postJson(running, '/purchase', {}, { 'x-forwarded-for': '203.0.113.1' }),
      ),
    );
    for (const res of purchases) {
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ paid: true });
    }
    await finished.settled();
  };

  it('answers normally while every Graph request hangs', async () => {
    mock.outage('hang');
    await exercise();
    // The responses above completed while the deliveries they started are still unanswered.
    expect(tracking.client.stats().inFlight).toBeGreaterThan(0);
    expect(mock.events()).toEqual([]);
  });

  it('answers normally while the Graph API returns 503', async () => {
    mock.outage(503);
    await exercise();
    await tracking.client.flush();
    expect(mock.rejections().length).toBeGreaterThan(0);
    expect(mock.rejections().every((r) => r.status === 503)).toBe(true);
    expect(mock.events()).toEqual([]);
  });
});

describe.each(MAJORS)('$name: robustness of the middleware', ({ express }) => {
  // A navigation computes the context at once; a returning visitor's sub-request defers it to
  // the first track() or context read. Both must fail the same, harmless way.
  it.each([
    { when: 'a navigation', headers: NAVIGATION },
    { when: 'a deferred sub-request', headers: { cookie: `_fbp=${KNOWN_FBP}` } },
  ])(
    'calls next() with a working req.capi when the context cannot be computed: $when',
    async ({ headers }) => {
      // A trust list whose every read throws: computing the context fails on each request.
      const tracking = capi(capiOptions(mock, { trustProxy: brokenTrustList() }));
      const errors = errorsOf(tracking.client);
      const app = express();
      app.use(tracking);
      app.get('/', (req, res) => {
        const result = req.capi.track('PageView', {
          event_source_url: 'https://shop.example/',
          user_data: { em: 'a@example.com', client_user_agent: String(req.headers['user-agent']) },
        });
        res.json({ result, context: req.capi.context });
      });
      app.use(((error, _req, res, _next) => {
        res.status(500).json({ unexpected: String(error) });
      }) as import('express').ErrorRequestHandler);
      const running = await listen(app);
      try {
        const res = await running.request('/', { headers });
        expect(res.status).toBe(200);
        expect(res.headers.getSetCookie()).toEqual([]);
        const body = (await res.json()) as { result: { accepted: boolean }; context: unknown };
        expect(body.result.accepted).toBe(true);
        expect(body.context).toEqual({
          user_data: {},
          cookiesToSet: [],
          consent: 'granted',
          isNavigation: false,
        });
        expect(errors).toEqual([
          expect.objectContaining({ kind: 'callback', source: 'request context' }),
        ]);
        await tracking.client.flush();
        // Only what the app passed: no IP, fbp or fbc from the failed context.
        expect(Object.keys(mock.events()[0]?.event.user_data ?? {}).sort()).toEqual([
          'client_user_agent',
          'em',
        ]);
        expect(mock.events()[0]?.event.user_data?.client_user_agent).toBe(UA);
      } finally {
        await running.close();
        await tracking.close();
      }
    },
  );

  it('fails closed on consent when the context fails and the app decides consent', async () => {
    const tracking = capi(
      capiOptions(mock, { trustProxy: brokenTrustList(), consent: () => 'granted' }),
    );
    const app = express();
    app.use(tracking);
    app.get('/', (req, res) => {
      res.json(req.capi.track('PageView', { event_source_url: 'https://shop.example/' }));
    });
    const running = await listen(app);
    try {
      const res = await running.request('/');
      expect(await res.json()).toMatchObject({ accepted: false, reason: 'consent' });
    } finally {
      await running.close();
      await tracking.close();
    }
  });

  it('close() sends what is queued, then refuses new events', async () => {
    const tracking = capi(capiOptions(mock));
    const app = express();
    app.use(tracking);
    app.get('/', (req, res) => {
      res.json(req.capi.track('ViewContent'));
    });
    const running = await listen(app);
    try {
      await running.request('/', { headers: { 'x-forwarded-for': '203.0.113.1' } });
      // Batched (flushIntervalMs 1 s): nothing sent yet, close() sends it.
      expect(mock.requests()).toEqual([]);
      await tracking.close();
      expect(mock.events({ event_name: 'ViewContent' })).toHaveLength(1);
      const late = await running.request('/');
      expect(late.status).toBe(200);
      expect(await late.json()).toMatchObject({ accepted: false, reason: 'closed' });
    } finally {
      await running.close();
    }
  });
});
