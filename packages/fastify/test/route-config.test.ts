import { type MockGraph, startMockGraph } from '@capi-kit/testing';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type CapiRouteConfig, capiPlugin, routeConversion } from '../src/index.js';
import {
  capiOptions,
  errorsOf,
  KNOWN_FBP,
  listen,
  MAJORS,
  postJson,
  type Running,
  responseTracker,
  UA,
} from './fixtures.js';

let mock: MockGraph;
beforeAll(async () => {
  mock = await startMockGraph();
});
beforeEach(() => mock.reset());
afterAll(() => mock.close());

const PURCHASE = {
  event_id: 'order-1',
  user_data: { em: 'buyer@example.com' },
  custom_data: { value: 42, currency: 'USD' },
};

describe.each(MAJORS)('$name: route config.capi', ({ fastify }) => {
  let app: FastifyInstance;
  let running: Running;
  let errors: ReturnType<typeof errorsOf>;
  let responses: ReturnType<typeof responseTracker>;
  beforeAll(async () => {
    app = fastify();
    await app.register(capiPlugin, capiOptions(mock));
    errors = errorsOf(app.capiClient);
    responses = responseTracker(app);
    // What the handler computed, for `map` to read once the reply is sent.
    const purchases = new WeakMap<object, typeof PURCHASE>();
    const purchase: CapiRouteConfig = {
      event: 'Purchase',
      map: (request) => {
        const params = purchases.get(request);
        // A Purchase map must return value and currency; the handler set them for every < 400.
        if (params === undefined) throw new Error('no purchase for this request');
        return params;
      },
    };
    app.post<{ Querystring: { status?: string } }>(
      '/purchase',
      { config: { capi: purchase } },
      async (request, reply) => {
        const status = Number(request.query.status ?? 200);
        purchases.set(request, PURCHASE);
        return reply.code(status).send({ ok: status < 400 });
      },
    );
    app.post('/throws', { config: { capi: purchase } }, async () => {
      throw new Error('handler failed');
    });
    app.post('/no-map', { config: { capi: { event: 'CompleteRegistration' } } }, async () => ({
      ok: true,
    }));
    app.post(
      '/bad-map',
      {
        config: {
          capi: {
            event: 'Purchase',
            map: () => {
              throw new Error('map exploded');
            },
          },
        },
      },
      async (_request, reply) => reply.code(201).send({ created: true }),
    );
    app.post(
      '/signup',
      {
        config: {
          capi: routeConversion('SignupStarted', (request) => ({
            custom_data: { custom_properties: { plan: request.url.slice(1) } },
          })),
        },
      },
      async () => ({ ok: true }),
    );
    app.post('/untracked', async () => ({ ok: true }));
    running = await listen(app);
  });
  afterAll(() => app.close());
  beforeEach(() => {
    errors.length = 0;
  });

  /** Waits until every reply so far was considered for tracking, then for delivery. */
  const delivered = async () => {
    await responses.settled();
    await app.capiClient.flush();
  };

  it('tracks after a 200 with data from map(request, reply) and the request context', async () => {
    const res = await postJson(running, '/purchase', {}, { 'x-forwarded-for': '203.0.113.5' });
    expect(res.status).toBe(200);
    await delivered();
    const events = mock.events({ event_name: 'Purchase' });
    expect(events).toHaveLength(1);
    expect(events[0]?.event).toMatchObject({
      event_id: 'order-1',
      custom_data: { value: 42, currency: 'USD' },
      event_source_url: `${running.url}/purchase`,
      user_data: { client_ip_address: '203.0.113.5', client_user_agent: UA },
    });
  });

  it('computes a deferred context after the response: returning visitor on a sub-request', async () => {
    // A valid _fbp, no fbclid, not a navigation: no cookie to set, so the context waits for the
    // track() in onResponse; the socket address was read while the request was live.
    const res = await postJson(
      running,
      '/purchase',
      {},
      { 'x-forwarded-for': '203.0.113.6', cookie: `_fbp=${KNOWN_FBP}` },
    );
    expect(res.headers.getSetCookie()).toEqual([]);
    await delivered();
    expect(mock.events({ event_name: 'Purchase' })[0]?.event).toMatchObject({
      event_source_url: `${running.url}/purchase`,
      user_data: { client_ip_address: '203.0.113.6', client_user_agent: UA, fbp: KNOWN_FBP },
    });
  });

  it('tracks with the context alone when there is no map, and not on routes without config', async () => {
    await postJson(running, '/no-map', {}, { 'x-forwarded-for': '203.0.113.5' });
    await postJson(running, '/untracked', {}, { 'x-forwarded-for': '203.0.113.5' });
    await delivered();
    expect(mock.events().map((e) => e.event.event_name)).toEqual(['CompleteRegistration']);
  });

  it('tracks a custom event declared with routeConversion, custom properties on the wire', async () => {
    await postJson(running, '/signup', {}, { 'x-forwarded-for': '203.0.113.5' });
    await delivered();
    const events = mock.events();
    expect(events.map((e) => e.event.event_name)).toEqual(['SignupStarted']);
    expect(events[0]?.event.custom_data).toEqual({ plan: 'signup' });
  });

  it.each([400, 404, 422, 500, 503])('does not track after a %i', async (status) => {
    const res = await postJson(running, `/purchase?status=${status}`, {});
    expect(res.status).toBe(status);
    await delivered();
    expect(mock.requests()).toEqual([]);
  });

  it('does not track when the handler throws', async () => {
    const res = await postJson(running, '/throws', {});
    expect(res.status).toBe(500);
    await delivered();
    expect(mock.requests()).toEqual([]);
  });

  it('reports a throwing map through the error hook and leaves the reply alone', async () => {
    const res = await postJson(running, '/bad-map', {});
    expect(res.status).toBe(201);
    expect(await res.json()).toEqual({ created: true });
    await delivered();
    expect(mock.requests()).toEqual([]);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ kind: 'callback', source: 'Purchase params' });
    expect(errors[0]?.error.message).toContain('map exploded');
  });

  it('reports a strict-mode validation throw instead of crashing the process', async () => {
    const strict = fastify();
    await strict.register(capiPlugin, capiOptions(mock, { strict: true }));
    const strictErrors = errorsOf(strict.capiClient);
    const settled = responseTracker(strict);
    // A Purchase without currency is invalid: strict track() throws, after the reply is sent.
    strict.post(
      '/purchase',
      // @ts-expect-error the types reject it too; JavaScript callers reach this run-time path.
      { config: { capi: { event: 'Purchase', map: () => ({ custom_data: { value: 1 } }) } } },
      async () => ({ ok: true }),
    );
    try {
      const res = await postJson(await listen(strict), '/purchase', {});
      expect(res.status).toBe(200);
      await settled.settled();
      expect(strictErrors).toEqual([
        expect.objectContaining({ kind: 'callback', source: 'Purchase track' }),
      ]);
    } finally {
      await strict.close();
    }
  });
});
