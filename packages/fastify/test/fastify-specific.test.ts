import { type MockGraph, startMockGraph } from '@capi-kit/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { capiPlugin, routeConversion } from '../src/index.js';
import { capiOptions, listen, MAJORS, NAVIGATION, postJson, responseTracker } from './fixtures.js';

// What every adapter does is checked by the conformance kit (conformance.test.ts); here, what only
// Fastify has: `routeConversion` for custom events, and `reply.header` keeping arrays by reference.

let mock: MockGraph;
beforeAll(async () => {
  mock = await startMockGraph();
});
beforeEach(() => mock.reset());
afterAll(() => mock.close());

describe.each(MAJORS)('$name: Fastify specifics', ({ fastify }) => {
  it('tracks a custom event declared with routeConversion, custom properties on the wire', async () => {
    const app = fastify();
    await app.register(capiPlugin, capiOptions(mock));
    const responses = responseTracker(app);
    const signup = routeConversion('SignupStarted', (request) => ({
      custom_data: { custom_properties: { plan: request.url.slice(1) } },
    }));
    app.post('/signup', { config: { capi: signup } }, async () => ({ ok: true }));
    try {
      await postJson(await listen(app), '/signup', {}, { 'x-forwarded-for': '203.0.113.5' });
      await responses.settled();
      await app.capiClient.flush();
      const events = mock.events();
      expect(events.map((e) => e.event.event_name)).toEqual(['SignupStarted']);
      expect(events[0]?.event.custom_data).toEqual({ plan: 'signup' });
    } finally {
      await app.close();
    }
  });

  it("never grows an array of the app's cookies passed to reply.header", async () => {
    // A module-level array, as apps write them. Fastify 4 stores such an array by reference and
    // appends later cookies into it, which would carry one visitor's _fbp into the next reply.
    const APP_COOKIES = ['csrf=1; Path=/', 'session=abc; Path=/; HttpOnly'];
    const app = fastify();
    app.addHook('onRequest', (_request, reply, done) => {
      reply.header('set-cookie', APP_COOKIES);
      done();
    });
    await app.register(capiPlugin, capiOptions(mock));
    app.get('/', () => 'ok');
    try {
      const running = await listen(app);
      for (const query of ['?fbclid=IwAR0abc', '']) {
        const res = await running.request(`/${query}`, { headers: NAVIGATION });
        expect(res.headers.getSetCookie().filter((c) => c.startsWith('csrf='))).toHaveLength(1);
      }
      expect(APP_COOKIES).toEqual(['csrf=1; Path=/', 'session=abc; Path=/; HttpOnly']);
    } finally {
      await app.close();
    }
  });
});
