import { type MockGraph, startMockGraph } from '@capi-kit/testing';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { capiPlugin } from '../src/index.js';
import { capiOptions, KNOWN_FBP, listen, MAJORS, NAVIGATION, type Running } from './fixtures.js';

let mock: MockGraph;
beforeAll(async () => {
  mock = await startMockGraph();
});
afterAll(() => mock.close());

describe.each(MAJORS)('$name: _fbp/_fbc cookies', ({ fastify }) => {
  let app: FastifyInstance;
  let running: Running;
  // A module-level array, as apps write them. Fastify 4 stores such an array by reference and
  // appends later cookies into it, which would carry one visitor's _fbp into the next reply.
  const APP_COOKIES = ['csrf=1; Path=/', 'session=abc; Path=/; HttpOnly'];
  beforeAll(async () => {
    app = fastify();
    // The app's own cookies, before the plugin (an earlier onRequest hook) and after it.
    app.addHook('onRequest', (_request, reply, done) => {
      reply.header('set-cookie', APP_COOKIES);
      done();
    });
    await app.register(capiPlugin, capiOptions(mock));
    app.get('/', (_request, reply) => {
      reply.header('set-cookie', 'theme=dark; Path=/');
      return 'ok';
    });
    running = await listen(app);
  });
  afterAll(() => app.close());

  const names = (res: Response) =>
    res.headers.getSetCookie().map((c) => c.slice(0, c.indexOf('=')));

  it('sets _fbp and _fbc on a landing from an ad click (?fbclid=)', async () => {
    const res = await running.request('/?fbclid=IwAR0abc_DEF-123', { headers: NAVIGATION });
    expect(res.status).toBe(200);
    const cookies = res.headers.getSetCookie();
    // Host-only (an IP host has no registrable domain), so subdomain index 0, and readable by the Pixel.
    expect(cookies.find((c) => c.startsWith('_fbp='))).toMatch(
      /^_fbp=fb\.0\.\d{13}\.\d+; Max-Age=7776000; Path=\/; SameSite=Lax$/,
    );
    expect(cookies.find((c) => c.startsWith('_fbc='))).toMatch(
      /^_fbc=fb\.0\.\d{13}\.IwAR0abc_DEF-123; Max-Age=7776000; Path=\/; SameSite=Lax$/,
    );
  });

  it("keeps the app's own cookies set before and after it, and never grows the app's array", async () => {
    const first = await running.request('/?fbclid=IwAR0abc', { headers: NAVIGATION });
    expect(names(first)).toEqual(['csrf', 'session', '_fbp', '_fbc', 'theme']);
    const second = await running.request('/', { headers: NAVIGATION });
    expect(names(second)).toEqual(['csrf', 'session', '_fbp', 'theme']);
    expect(APP_COOKIES).toEqual(['csrf=1; Path=/', 'session=abc; Path=/; HttpOnly']);
  });

  it('re-sets a valid _fbp on a page load, keeping its value, and sets nothing on a sub-request', async () => {
    const page = await running.request('/', {
      headers: { ...NAVIGATION, cookie: `_fbp=${KNOWN_FBP}` },
    });
    expect(page.headers.getSetCookie().filter((c) => c.startsWith('_fbp='))).toEqual([
      `_fbp=${KNOWN_FBP}; Max-Age=7776000; Path=/; SameSite=Lax`,
    ]);
    const fetchCall = await running.request('/', { headers: { cookie: `_fbp=${KNOWN_FBP}` } });
    expect(names(fetchCall)).toEqual(['csrf', 'session', 'theme']);
  });

  it('writes no cookies with cookies: false', async () => {
    const other = fastify();
    await other.register(capiPlugin, capiOptions(mock, { cookies: false }));
    other.get('/', () => 'ok');
    try {
      const res = await (await listen(other)).request('/?fbclid=IwAR0abc', { headers: NAVIGATION });
      expect(res.headers.getSetCookie()).toEqual([]);
    } finally {
      await other.close();
    }
  });
});
