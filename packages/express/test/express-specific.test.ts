import { once } from 'node:events';
import { type IncomingMessage, request, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { type MockGraph, startMockGraph } from '@capi-kit/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { capi, trackConversion } from '../src/index.js';
import { capiOptions, finishTracker, KNOWN_FBP, listen, MAJORS, postJson } from './fixtures.js';

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

  it('does not count a CORS preflight (OPTIONS) on an app.all() route as a conversion; the POST after it counts', async () => {
    const tracking = capi(capiOptions(mock));
    const finished = finishTracker();
    const app = express();
    app.use(tracking);
    // A form posting JSON from another origin: the browser asks first with OPTIONS, which a route
    // written with app.all() (or a router.use()) answers with the same middleware.
    app.all('/signup', trackConversion('Lead'), finished.middleware, (req, res) => {
      if (req.method === 'OPTIONS') {
        res.set('access-control-allow-origin', 'https://shop.example');
        res.set('access-control-allow-headers', 'content-type');
        res.sendStatus(204);
        return;
      }
      res.json({ ok: true });
    });
    const running = await listen(app);
    try {
      const preflight = await running.request('/signup', {
        method: 'OPTIONS',
        headers: {
          origin: 'https://shop.example',
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'content-type',
        },
      });
      expect(preflight.status).toBe(204);
      await finished.settled();
      await tracking.client.flush();
      expect(mock.requests()).toEqual([]);
      expect((await postJson(running, '/signup', {})).status).toBe(200);
      await finished.settled();
      await tracking.client.flush();
      expect(mock.events().map((e) => e.event.event_name)).toEqual(['Lead']);
    } finally {
      await running.close();
      await tracking.close();
    }
  });

  it('does nothing (and does not fail) without capi() before it, and says so once in development', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const finished = finishTracker();
    const app = express();
    app.get('/', trackConversion('Lead'), finished.middleware, (_req, res) => {
      res.send('ok');
    });
    const running = await listen(app);
    try {
      for (let i = 0; i < 2; i++) {
        const res = await running.request('/');
        expect(await res.text()).toBe('ok');
      }
      await finished.settled();
      expect(warn.mock.calls).toEqual([
        [expect.stringContaining("trackConversion('Lead') found no req.capi")],
      ]);
    } finally {
      warn.mockRestore();
      await running.close();
    }
  });
  it('says it once in production too: the conversion is lost, and no client is there to count it', async () => {
    vi.stubEnv('NODE_ENV', 'production');
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const finished = finishTracker();
    const app = express();
    app.post('/signup', trackConversion('Lead'), finished.middleware, (_req, res) => {
      res.json({ ok: true });
    });
    const running = await listen(app);
    try {
      for (let i = 0; i < 3; i++) expect((await postJson(running, '/signup', {})).status).toBe(200);
      await finished.settled();
      expect(warn.mock.calls).toEqual([
        [expect.stringContaining("trackConversion('Lead') found no req.capi")],
      ]);
      expect(warn.mock.calls[0]?.[0]).toContain('app.use(capi({ ... })) before the route');
    } finally {
      warn.mockRestore();
      vi.unstubAllEnvs();
      await running.close();
    }
  });
});

describe.each(MAJORS)('$name: capi() twice on one request', ({ express }) => {
  it('mounted on the app and on a router: one _fbp/_fbc minted, every event carries it', async () => {
    const tracking = capi(capiOptions(mock));
    const other = capi(capiOptions(mock, { pixelId: '9876543210' }));
    const app = express();
    app.use(tracking);
    const seen: (string | undefined)[] = [];
    app.use((req, _res, next) => {
      seen.push(req.capi.context.user_data.fbp);
      next();
    });
    const shop = express.Router();
    shop.use(tracking);
    shop.use(other);
    shop.get('/landing', (req, res) => {
      seen.push(req.capi.context.user_data.fbp);
      res.json(req.capi.track('ViewContent'));
    });
    app.use('/shop', shop);
    const running = await listen(app);
    try {
      const res = await running.request('/shop/landing?fbclid=IwAR2F4-dbP0l7Mn1Iaw');
      expect(res.status).toBe(200);
      const cookies = res.headers.getSetCookie().map((c) => c.split(';', 1)[0] as string);
      // One of each: a second mount minted a second _fbp (and _fbc), and the browser kept the
      // last while the events tracked before it carried the first.
      expect(cookies.map((c) => c.split('=', 1)[0])).toEqual(['_fbp', '_fbc']);
      const fbp = cookies[0]?.slice('_fbp='.length);
      expect(seen).toEqual([fbp, fbp]);
      await tracking.client.flush();
      await other.client.flush();
      // The second instance's own pixel got the event, with the same browser ID.
      const sent = mock.events().map((e) => [e.pixelId, e.event.user_data?.fbp]);
      expect(sent).toEqual([['9876543210', fbp]]);
    } finally {
      await running.close();
      await tracking.close();
      await other.close();
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

describe.each(MAJORS)('$name: a factory misused', ({ express }) => {
  // Express calls what it is given with (req, res, next): a factory given as is used to build a
  // client per request and never call next(), so every request hung until the client gave up.
  const failing = async (mount: (app: import('express').Express) => void) => {
    const errors: string[] = [];
    const app = express();
    mount(app);
    app.use(((error, _req, res, _next) => {
      errors.push(error instanceof Error ? error.message : String(error));
      res.status(500).send('internal');
    }) as import('express').ErrorRequestHandler);
    const running = await listen(app);
    try {
      const res = await running.request('/', { signal: AbortSignal.timeout(2000) });
      return { status: res.status, errors };
    } finally {
      await running.close();
    }
  };

  it('app.use(capi) answers with an error naming the fix instead of hanging', async () => {
    const result = await failing((app) => {
      app.use(capi as unknown as import('express').RequestHandler);
      app.get('/', (_req, res) => {
        res.send('ok');
      });
    });
    expect(result).toEqual({
      status: 500,
      errors: [expect.stringContaining('app.use(capi({ ... })), not app.use(capi)')],
    });
  });

  it('a route given trackConversion uncalled answers with an error naming the fix', async () => {
    const tracking = capi(capiOptions(mock));
    try {
      const result = await failing((app) => {
        app.use(tracking);
        app.get(
          '/',
          trackConversion as unknown as import('express').RequestHandler,
          (_req, res) => {
            res.send('ok');
          },
        );
      });
      expect(result).toEqual({
        status: 500,
        errors: [expect.stringContaining("trackConversion('Purchase', map)")],
      });
    } finally {
      await tracking.close();
    }
  });

  it('capi() refuses a relay path that no request path can equal', () => {
    // 'capi/events' never matched: the browser's events reached the app's 404 unheard.
    for (const path of ['capi/events', '/capi/events?v=1', '']) {
      expect(() => capi({ ...capiOptions(mock), relay: { path } })).toThrow(
        "relay.path must be a path from the site root, starting with '/'",
      );
    }
  });

  it('capi() refuses a relay given as its path alone, naming the fix', () => {
    // relay: '/api/capi/events' turned the relay on at /capi/events: the browser's posts to the
    // intended path went to the app's 404 unheard.
    expect(() => capi({ ...capiOptions(mock), relay: '/api/capi/events' as never })).toThrow(
      `capi-kit: relay must be true or the relay's options ({ path, … }), got a string: for another path write relay: { path: "/api/capi/events" }`,
    );
    expect(() => capi({ ...capiOptions(mock), relay: 1 as never })).toThrow(
      /relay must be true or the relay's options .*, got number$/,
    );
  });

  it('trackConversion refuses fixed params in place of map when the route is built', () => {
    // Before, every response reported "TypeError: lazy is not a function" and tracked nothing.
    const call = trackConversion as unknown as (name: string, map: unknown) => unknown;
    expect(() => call('Lead', { custom_data: { value: 1 } })).toThrow(
      "trackConversion('Lead', map): map must be a function of (req, res)",
    );
  });

  it('trackConversion refuses a name that is not a string when the route is built', () => {
    const call = trackConversion as unknown as (name: unknown) => unknown;
    expect(() => call({ event_name: 'Lead' })).toThrow(
      'trackConversion(eventName, map?) takes the event name first; got object',
    );
  });
});

describe.each(MAJORS)('$name: capi() after the response has started', ({ express }) => {
  // An early flush of the page's head before capi(): appending the cookies threw
  // ERR_HTTP_HEADERS_SENT, and the app's error handler replaced the page.
  it('leaves the response alone, reports once that the cookies could not be set, and tracks', async () => {
    const tracking = capi(capiOptions(mock));
    const errors: string[] = [];
    tracking.client.on('error', (info) => errors.push(`${info.source}: ${info.error.message}`));
    const app = express();
    app.use((_req, res, next) => {
      res.status(200).type('html').write('<head></head>');
      next();
    });
    app.use(tracking);
    app.get('/', (req, res) => {
      res.end(`<body>${req.capi.track('PageView').accepted}</body>`);
    });
    app.use(((_error, _req, res, _next) => {
      res.end('<p>error</p>');
    }) as import('express').ErrorRequestHandler);
    const running = await listen(app);
    const page = { 'sec-fetch-dest': 'document', 'sec-fetch-mode': 'navigate' };
    try {
      for (let i = 0; i < 2; i++) {
        const res = await running.request('/', { headers: page });
        expect(await res.text()).toBe('<head></head><body>true</body>');
        expect(res.headers.get('set-cookie')).toBeNull();
      }
      expect(errors).toEqual([expect.stringMatching(/^cookies: .*before middleware that writes/)]);
      await tracking.client.flush();
      expect(mock.events()).toHaveLength(2);
    } finally {
      await running.close();
      await tracking.close();
    }
  });
});

describe.each(MAJORS)('$name: the relay under a mount path', ({ express }) => {
  const mounted = async (path: string | undefined) => {
    const tracking = capi(capiOptions(mock, { relay: path === undefined ? true : { path } }));
    const errors: string[] = [];
    tracking.client.on('error', (info) => errors.push(`${info.source}: ${info.error.message}`));
    const app = express();
    app.use('/api', tracking);
    app.use((_req, res) => {
      res.status(404).send('app 404');
    });
    const running = await listen(app);
    try {
      for (const url of ['/api/cart', '/api/cart', '/capi/events']) {
        await postJson(running, url, { v: 1, events: [] }, { origin: running.url });
      }
      return errors;
    } finally {
      await running.close();
      await tracking.close();
    }
  };

  // The browser's posts to /capi/events never reach capi() mounted under /api: they went to the
  // app's 404 and nothing said why.
  it('says once that the relay path is not under the mount path', async () => {
    expect(await mounted(undefined)).toEqual([
      expect.stringMatching(
        /^relay: capi\(\) is mounted under a path that relay.path '\/capi\/events'/,
      ),
    ]);
  });

  it('says nothing when the relay path is under the mount path', async () => {
    expect(await mounted('/API/capi/events')).toEqual([]);
  });
});

describe.each(MAJORS)('$name: a WebSocket handshake routed through the app', ({ express }) => {
  // What express-ws does: Node emits `upgrade` on the server, outside Express, and the handshake
  // is handed to the app with a response object that is never written; the WebSocket library
  // answers 101 itself. Routes see req.capi; no Set-Cookie of ours can reach the browser.
  it('tracks with the browser _fbp, and mints none for a browser without one', async () => {
    const tracking = capi(capiOptions(mock));
    const app = express();
    app.use(tracking);
    const tracked: string[] = [];
    app.get('/live', (req) => {
      tracked.push(req.capi.track('Contact').event_id);
      req.socket.end(
        'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n',
      );
    });
    const server = app.listen(0, '127.0.0.1');
    await once(server, 'listening');
    server.on('upgrade', (req: IncomingMessage, socket: Duplex) => {
      (app as unknown as { handle: (...args: unknown[]) => void }).handle(
        req,
        new ServerResponse(req),
        () => socket.end('HTTP/1.1 404 Not Found\r\n\r\n'),
      );
    });
    const { port } = server.address() as AddressInfo;
    const handshake = (cookie?: string) =>
      new Promise<void>((resolve, reject) => {
        const req = request({
          host: '127.0.0.1',
          port,
          path: '/live',
          headers: {
            connection: 'Upgrade',
            upgrade: 'websocket',
            'sec-websocket-version': '13',
            'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
            'user-agent': 'Mozilla/5.0 (X11; Linux x86_64)',
            'x-forwarded-for': '198.51.100.7', // the visitor, through the loopback proxy
            ...(cookie === undefined ? {} : { cookie }),
          },
        });
        req.on('upgrade', (_res, socket) => {
          socket.destroy();
          resolve();
        });
        req.on('response', () => reject(new Error('not upgraded')));
        req.on('error', reject);
        req.end();
      });
    try {
      await handshake(`_fbp=${KNOWN_FBP}`);
      await handshake();
      await tracking.client.flush();
      expect(tracked).toHaveLength(2);
      expect(mock.events().map((e) => e.event.user_data.fbp)).toEqual([KNOWN_FBP, undefined]);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await tracking.close();
    }
  });
});
