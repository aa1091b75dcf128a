import { type MockGraph, startMockGraph } from '@capi-kit/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { capi, trackConversion } from '../src/index.js';
import {
  capiOptions,
  errorsOf,
  finishTracker,
  KNOWN_FBP,
  listen,
  MAJORS,
  postJson,
  type Running,
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

describe.each(MAJORS)('$name: trackConversion', ({ express }) => {
  let running: Running;
  let tracking: ReturnType<typeof capi>;
  let errors: ReturnType<typeof errorsOf>;
  const finished = finishTracker();
  beforeAll(async () => {
    tracking = capi(capiOptions(mock));
    errors = errorsOf(tracking.client);
    const app = express();
    app.use(express.json());
    app.use(tracking);
    const purchase = trackConversion('Purchase', (_req, res) => res.locals.purchase);
    app.post('/purchase', purchase, finished.middleware, (req, res) => {
      const status = Number(req.query.status ?? 200);
      res.locals.purchase = PURCHASE;
      res.status(status).json({ ok: status < 400 });
    });
    app.post('/throws', purchase, finished.middleware, () => {
      throw new Error('handler failed');
    });
    app.post('/rejects', purchase, finished.middleware, (_req, _res, next) => {
      next(new Error('async failure'));
    });
    app.post(
      '/bad-map',
      trackConversion('Purchase', () => {
        throw new Error('map exploded');
      }),
      finished.middleware,
      (_req, res) => {
        res.status(201).json({ created: true });
      },
    );
    app.post(
      '/no-map',
      trackConversion('CompleteRegistration'),
      finished.middleware,
      (_req, res) => {
        res.json({ ok: true });
      },
    );
    app.use(((_error, _req, res, _next) => {
      res.status(500).json({ error: 'internal' });
    }) as import('express').ErrorRequestHandler);
    running = await listen(app);
  });
  afterAll(async () => {
    await running.close();
    await tracking.close();
  });
  beforeEach(() => {
    errors.length = 0;
  });

  /** Waits until every response so far was considered for tracking, then for delivery. */
  const delivered = async () => {
    await finished.settled();
    await tracking.client.flush();
  };

  it('tracks after a 200 with data from map(req, res) and the request context', async () => {
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
    // track() on 'finish'; the socket address was read while the request was live.
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

  it('tracks with the context alone when there is no map', async () => {
    await postJson(running, '/no-map', {}, { 'x-forwarded-for': '203.0.113.5' });
    await delivered();
    expect(mock.events({ event_name: 'CompleteRegistration' })).toHaveLength(1);
  });

  it.each([400, 404, 422, 500, 503])('does not track after a %i', async (status) => {
    const res = await postJson(running, `/purchase?status=${status}`, {});
    expect(res.status).toBe(status);
    await delivered();
    expect(mock.requests()).toEqual([]);
  });

  it('does not track when the handler throws or calls next(err)', async () => {
    const thrown = await postJson(running, '/throws', {});
    const rejected = await postJson(running, '/rejects', {});
    expect([thrown.status, rejected.status]).toEqual([500, 500]);
    await delivered();
    expect(mock.requests()).toEqual([]);
  });

  it('reports a throwing map through the error hook and leaves the response alone', async () => {
    const res = await postJson(running, '/bad-map', {});
    expect(res.status).toBe(201);
    expect(await res.json()).toEqual({ created: true });
    await delivered();
    expect(mock.requests()).toEqual([]);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ kind: 'callback', source: 'Purchase params' });
    expect(errors[0]?.error.message).toContain('map exploded');
  });
});

describe.each(MAJORS)('$name: trackConversion edge cases', ({ express }) => {
  it('reports a strict-mode validation throw instead of crashing the process', async () => {
    const tracking = capi(capiOptions(mock, { strict: true }));
    const errors = errorsOf(tracking.client);
    const finished = finishTracker();
    const app = express();
    app.use(tracking);
    // A Purchase without currency is invalid: strict track() throws, after the response is sent.
    app.post(
      '/purchase',
      // @ts-expect-error the types reject it too; JavaScript callers reach this run-time path.
      trackConversion('Purchase', () => ({ custom_data: { value: 1 } })),
      finished.middleware,
      (_req, res) => {
        res.json({ ok: true });
      },
    );
    const running = await listen(app);
    try {
      const res = await postJson(running, '/purchase', {});
      expect(res.status).toBe(200);
      await finished.settled();
      expect(errors).toEqual([
        expect.objectContaining({ kind: 'callback', source: 'Purchase track' }),
      ]);
    } finally {
      await running.close();
      await tracking.close();
    }
  });

  it('does nothing (and does not fail) without capi() before it', async () => {
    const finished = finishTracker();
    const app = express();
    app.get('/', trackConversion('Lead'), finished.middleware, (_req, res) => {
      res.send('ok');
    });
    const running = await listen(app);
    try {
      const res = await running.request('/');
      expect(await res.text()).toBe('ok');
      await finished.settled();
    } finally {
      await running.close();
    }
  });
});
