import { type MockGraph, startMockGraph } from '@capi-kit/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { capi, trackConversion } from '../src/index.js';
import { capiOptions, finishTracker, listen, MAJORS, postJson } from './fixtures.js';

// What every adapter's route-level tracking does is checked by the conformance kit
// (conformance.test.ts); here, what only Express has: `next(err)` and a route without `capi()`.

let mock: MockGraph;
beforeAll(async () => {
  mock = await startMockGraph();
});
beforeEach(() => mock.reset());
afterAll(() => mock.close());

describe.each(MAJORS)('$name: trackConversion', ({ express }) => {
  it('does not track when the handler calls next(err)', async () => {
    const tracking = capi(capiOptions(mock));
    const finished = finishTracker();
    const app = express();
    app.use(tracking);
    app.post('/rejects', trackConversion('Lead'), finished.middleware, (_req, _res, next) => {
      next(new Error('async failure'));
    });
    app.use(((_error, _req, res, _next) => {
      res.status(500).json({ error: 'internal' });
    }) as import('express').ErrorRequestHandler);
    const running = await listen(app);
    try {
      const res = await postJson(running, '/rejects', {});
      expect(res.status).toBe(500);
      await finished.settled();
      await tracking.client.flush();
      expect(mock.requests()).toEqual([]);
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

describe.each(MAJORS)('$name: close()', ({ express }) => {
  it('refuses events tracked after it while the server still answers', async () => {
    const tracking = capi(capiOptions(mock));
    const app = express();
    app.use(tracking);
    app.get('/', (req, res) => {
      res.json(req.capi.track('ViewContent'));
    });
    const running = await listen(app);
    try {
      await tracking.close();
      const late = await running.request('/', { headers: { 'x-forwarded-for': '203.0.113.1' } });
      expect(late.status).toBe(200);
      expect(await late.json()).toMatchObject({ accepted: false, reason: 'closed' });
    } finally {
      await running.close();
    }
  });
});
