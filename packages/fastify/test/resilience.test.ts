import { type MockGraph, startMockGraph } from '@capi-kit/testing';
import type { FastifyInstance } from 'fastify';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { capiPlugin } from '../src/index.js';
import {
  capiOptions,
  errorsOf,
  KNOWN_FBP,
  listen,
  MAJORS,
  NAVIGATION,
  postJson,
  type Running,
  responseTracker,
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

describe.each(MAJORS)('$name: a failing Graph API', ({ fastify }) => {
  let app: FastifyInstance;
  let running: Running;
  let responses: ReturnType<typeof responseTracker>;
  beforeEach(async () => {
    app = fastify();
    // flushOnEnd: every track() starts a Graph request at once, so it is in flight during the test.
    await app.register(capiPlugin, capiOptions(mock, { flushOnEnd: true, timeoutMs: 30_000 }));
    responses = responseTracker(app);
    app.post<{ Body: { email: string } }>('/lead', async (request, reply) => {
      const { event_id } = request.capi.track('Lead', { user_data: { em: request.body.email } });
      return reply.code(201).send({ event_id, saved: true });
    });
    app.post(
      '/purchase',
      {
        config: {
          capi: { event: 'Purchase', map: () => ({ custom_data: { value: 5, currency: 'USD' } }) },
        },
      },
      async () => ({ paid: true }),
    );
    running = await listen(app);
  });
  afterEach(async () => {
    // Abandons what is still hanging instead of waiting out the 30 s request timeout.
    const client = app.capiClient;
    const closing = client.close({ timeoutMs: 100 });
    await app.close();
    await closing;
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
    await responses.settled();
  };

  it('answers normally while every Graph request hangs', async () => {
    mock.outage('hang');
    await exercise();
    // The replies above completed while the deliveries they started are still unanswered.
    expect(app.capiClient.stats().inFlight).toBeGreaterThan(0);
    expect(mock.events()).toEqual([]);
  });

  it('answers normally while the Graph API returns 503', async () => {
    mock.outage(503);
    await exercise();
    await app.capiClient.flush();
    expect(mock.rejections().length).toBeGreaterThan(0);
    expect(mock.rejections().every((r) => r.status === 503)).toBe(true);
    expect(mock.events()).toEqual([]);
  });
});

describe.each(MAJORS)('$name: robustness of the plugin', ({ fastify }) => {
  // A navigation computes the context at once; a returning visitor's sub-request defers it to
  // the first track() or context read. Both must fail the same, harmless way.
  it.each([
    { when: 'a navigation', headers: NAVIGATION },
    { when: 'a deferred sub-request', headers: { cookie: `_fbp=${KNOWN_FBP}` } },
  ])(
    'continues with a working request.capi when the context cannot be computed: $when',
    async ({ headers }) => {
      const app = fastify();
      // A trust list whose every read throws: computing the context fails on each request.
      await app.register(capiPlugin, capiOptions(mock, { trustProxy: brokenTrustList() }));
      const errors = errorsOf(app.capiClient);
      app.get('/', (request) => ({
        result: request.capi.track('PageView', {
          event_source_url: 'https://shop.example/',
          user_data: {
            em: 'a@example.com',
            client_user_agent: String(request.headers['user-agent']),
          },
        }),
        context: request.capi.context,
      }));
      try {
        const res = await (await listen(app)).request('/', { headers });
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
        await app.capiClient.flush();
        // Only what the app passed: no IP, fbp or fbc from the failed context.
        const userData = mock.events()[0]?.event.user_data ?? {};
        expect(Object.keys(userData).sort()).toEqual(['client_user_agent', 'em']);
        expect(userData.client_user_agent).toBe(UA);
      } finally {
        await app.close();
      }
    },
  );

  it('fails closed on consent when the context fails and the app decides consent', async () => {
    const app = fastify();
    await app.register(
      capiPlugin,
      capiOptions(mock, { trustProxy: brokenTrustList(), consent: () => 'granted' }),
    );
    app.get('/', (request) =>
      request.capi.track('PageView', { event_source_url: 'https://shop.example/' }),
    );
    try {
      const res = await (await listen(app)).request('/');
      expect(await res.json()).toMatchObject({ accepted: false, reason: 'consent' });
    } finally {
      await app.close();
    }
  });
});
