import { type MockGraph, startMockGraph } from '@capi-kit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { capi } from '../src/index.js';
import { capiOptions, KNOWN_FBP, listen, MAJORS, NAVIGATION, type Running } from './fixtures.js';

let mock: MockGraph;
beforeAll(async () => {
  mock = await startMockGraph();
});
afterAll(() => mock.close());

describe.each(MAJORS)('$name: _fbp/_fbc cookies', ({ express }) => {
  let running: Running;
  let tracking: ReturnType<typeof capi>;
  beforeAll(async () => {
    tracking = capi(capiOptions(mock));
    const app = express();
    // The app's own cookies, before capi() (a raw setHeader and res.cookie) and after it.
    app.use((_req, res, next) => {
      res.setHeader('Set-Cookie', ['csrf=1; Path=/']);
      res.cookie('session', 'abc', { httpOnly: true });
      next();
    });
    app.use(tracking);
    app.get('/', (_req, res) => {
      res.cookie('theme', 'dark');
      res.append('Set-Cookie', 'lang=en; Path=/');
      res.send('ok');
    });
    app.get('/plain', (_req, res) => {
      res.send('ok');
    });
    running = await listen(app);
  });
  afterAll(async () => {
    await running.close();
    await tracking.close();
  });

  it('sets _fbp and _fbc on a landing from an ad click (?fbclid=)', async () => {
    const res = await running.request('/?fbclid=IwAR0abc_DEF-123', { headers: NAVIGATION });
    expect(res.status).toBe(200);
    const cookies = res.headers.getSetCookie();
    const fbp = cookies.find((c) => c.startsWith('_fbp='));
    const fbc = cookies.find((c) => c.startsWith('_fbc='));
    // Host-only (an IP host has no registrable domain), so subdomain index 0, and readable by the Pixel.
    expect(fbp).toMatch(/^_fbp=fb\.0\.\d{13}\.\d+; Max-Age=7776000; Path=\/; SameSite=Lax$/);
    expect(fbc).toMatch(
      /^_fbc=fb\.0\.\d{13}\.IwAR0abc_DEF-123; Max-Age=7776000; Path=\/; SameSite=Lax$/,
    );
  });

  it("keeps the app's own cookies set before and after it", async () => {
    const res = await running.request('/?fbclid=IwAR0abc', { headers: NAVIGATION });
    const names = res.headers.getSetCookie().map((c) => c.slice(0, c.indexOf('=')));
    expect(names).toEqual(['csrf', 'session', '_fbp', '_fbc', 'theme', 'lang']);
    expect(res.headers.getSetCookie()[1]).toBe('session=abc; Path=/; HttpOnly');
  });

  it('re-sets a valid _fbp on a page load, keeping its value', async () => {
    const res = await running.request('/', {
      headers: { ...NAVIGATION, cookie: `_fbp=${KNOWN_FBP}` },
    });
    const fbp = res.headers.getSetCookie().filter((c) => c.startsWith('_fbp='));
    expect(fbp).toEqual([`_fbp=${KNOWN_FBP}; Max-Age=7776000; Path=/; SameSite=Lax`]);
  });

  it('sets no _fbc without fbclid and nothing but the app cookie when _fbp is known on a sub-request', async () => {
    const landing = await running.request('/plain', { headers: NAVIGATION });
    expect(landing.headers.getSetCookie().map((c) => c.slice(0, 5))).toEqual([
      'csrf=',
      'sessi',
      '_fbp=',
    ]);
    const fetchCall = await running.request('/plain', { headers: { cookie: `_fbp=${KNOWN_FBP}` } });
    expect(fetchCall.headers.getSetCookie()).toEqual([
      'csrf=1; Path=/',
      'session=abc; Path=/; HttpOnly',
    ]);
  });

  it('writes no cookies with cookies: false', async () => {
    const off = capi(capiOptions(mock, { cookies: false }));
    const app = express();
    app.use(off);
    app.get('/', (_req, res) => {
      res.send('ok');
    });
    const other = await listen(app);
    try {
      const res = await other.request('/?fbclid=IwAR0abc', { headers: NAVIGATION });
      expect(res.headers.getSetCookie()).toEqual([]);
    } finally {
      await other.close();
      await off.close();
    }
  });
});
