import { Readable } from 'node:stream';
import type { CapiClient } from '@capi-kit/core';
import { type MockGraph, startMockGraph } from '@capi-kit/testing';
import Fastify, { type FastifyInstance } from 'fastify';
import Fastify4 from 'fastify4';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type CapiFastifyOptions, capiPlugin, routeConversion } from '../src/index.js';
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
  it('registers as a named plugin that is not encapsulated, a version range Fastify checks', async () => {
    const app = fastify();
    await app.register(capiPlugin, capiOptions(mock));
    try {
      // The decorators land on the app itself, not on a child scope of the plugin's own.
      expect(app.hasRequestDecorator('capi')).toBe(true);
      expect(app.hasDecorator('capiClient')).toBe(true);
      expect(app.hasPlugin('@capi-kit/fastify')).toBe(true);
      expect(app.printPlugins()).toContain('@capi-kit/fastify');
      // Fastify refuses to register a plugin whose range excludes its own version.
      const meta = (capiPlugin as unknown as Record<symbol, { fastify: string; name: string }>)[
        Symbol.for('plugin-meta')
      ] as { fastify: string; name: string };
      const old = Object.assign(
        (_app: unknown, _options: unknown, done: () => void) => {
          done();
        },
        { [Symbol.for('plugin-meta')]: { ...meta, fastify: '3.x', name: 'too-old' } },
      );
      await expect(fastify().register(old)).rejects.toThrow(/fastify-plugin: too-old/);
      expect(meta.fastify).toBe('4.x || 5.x');
    } finally {
      await app.close();
    }
  });

  it("behind a proxy it does not trust, says that Fastify's own trustProxy is not read and where to set it", async () => {
    // The app trusts its proxy the Fastify way; the plugin reads only its own option, so every
    // visitor got the proxy's address while request.ip had theirs.
    const app = fastify({ trustProxy: true });
    await app.register(capiPlugin, capiOptions(mock, { trustProxy: false }));
    const warned: string[] = [];
    app.capiClient.on('warn', ({ message }) => warned.push(message));
    app.get('/', async (request) => ({
      fastifyIp: request.ip,
      capiIp: request.capi.context.user_data.client_ip_address,
    }));
    const running = await listen(app);
    try {
      for (let i = 0; i < 2; i++) {
        const res = await running.request('/', { headers: { 'x-forwarded-for': '203.0.113.31' } });
        expect(await res.json()).toEqual({ fastifyIp: '203.0.113.31', capiIp: '127.0.0.1' });
      }
      expect(warned).toHaveLength(1);
      expect(warned[0]).toContain('came through a proxy');
      expect(warned[0]).toContain(
        "Fastify's own trustProxy (fastify({ trustProxy })) is not read by capi-kit: set trustProxy on the plugin too",
      );
      expect(warned[0]).not.toContain('203.0.113.31');
    } finally {
      await app.close();
    }
  });

  it('refused options and a second registration reject register(), not the process', async () => {
    // A callback plugin's throw escapes avvio as an uncaught exception: `await app.register(…)` then
    // failed only at the plugin timeout (10 s), saying `done` was never called.
    const app = fastify();
    const wireName = { ...capiOptions(mock), test_event_code: 'TEST1' } as CapiFastifyOptions;
    await expect(app.register(capiPlugin, wireName)).rejects.toThrow(/write testEventCode/);
    await app.close();
    const twice = fastify();
    await twice.register(capiPlugin, capiOptions(mock));
    await expect(
      twice.register(async (scope) => {
        await scope.register(capiPlugin, capiOptions(mock));
      }),
    ).rejects.toThrow(/already registered in this app/);
    await twice.close();
  });

  it('says when it sits in an encapsulated plugin that declares no route after it', async () => {
    // A plugins/capi.ts loaded without fastify-plugin (as @fastify/autoload loads one) covered none
    // of the app's routes: their config.capi tracked nothing and request.capi was undefined, unsaid.
    const started = async (
      build: (app: FastifyInstance, options: CapiFastifyOptions) => void,
      extra: CapiFastifyOptions = {},
    ) => {
      const warnings: string[] = [];
      const logger = {
        debug: () => {},
        info: () => {},
        error: () => {},
        warn: (_fields: Record<string, unknown>, message: string) => {
          warnings.push(message);
        },
      };
      const app = fastify();
      build(app, capiOptions(mock, { logger, ...extra }));
      const responses = responseTracker(app);
      const running = await listen(app);
      return { app, running, responses, warnings };
    };
    let client: CapiClient | undefined;
    const { app, running, responses, warnings } = await started((root, options) => {
      root.register(async function capiSetup(plugins) {
        await plugins.register(capiPlugin, options);
        client = plugins.capiClient;
      });
      root.get('/lead', { config: { capi: { event: 'Lead' } } }, async (request) =>
        String(typeof request.capi),
      );
    });
    try {
      const res = await running.request('/lead?fbclid=AbCd', { headers: NAVIGATION });
      // What the warning is about: the route outside the scope has nothing of the plugin's.
      expect(await res.text()).toBe('undefined');
      expect(res.headers.getSetCookie()).toEqual([]);
      await responses.settled();
      await client?.flush();
      expect(mock.events()).toEqual([]);
      expect(warnings).toEqual([
        "capi-kit: capiPlugin is registered inside the encapsulated plugin 'capiSetup', which declares no route after it: Fastify keeps a plugin's hooks and decorators inside the plugin that registers it, so routes declared elsewhere in the app get no request.capi, no _fbp/_fbc cookies and no config.capi tracking. Register capiPlugin on the root instance before your routes, or wrap 'capiSetup' with fastify-plugin",
      ]);
    } finally {
      await app.close();
    }
    // Its own relay is no route of the app's.
    const relayOnly = await started(
      (root, options) => {
        root.register(async function capiSetup(plugins) {
          await plugins.register(capiPlugin, options);
        });
      },
      { relay: true },
    );
    await relayOnly.app.close();
    expect(relayOnly.warnings).toHaveLength(1);
    // Covered routes: at the root, in a scope declaring routes after it, in a fastify-plugin'd
    // plugin (no scope of its own); and nothing said in production.
    const covered: ((root: FastifyInstance, options: CapiFastifyOptions) => void)[] = [
      (root, options) => {
        root.register(capiPlugin, options);
      },
      (root, options) => {
        root.register(
          async function shop(scope) {
            await scope.register(capiPlugin, options);
            scope.get('/cart', async () => 'ok');
          },
          { prefix: '/shop' },
        );
      },
      (root, options) => {
        const setup = async (plugins: FastifyInstance) => {
          await plugins.register(capiPlugin, options);
        };
        root.register(Object.assign(setup, { [Symbol.for('skip-override')]: true }));
      },
    ];
    for (const build of covered) {
      const quiet = await started(build);
      await quiet.app.close();
      expect(quiet.warnings).toEqual([]);
    }
    const production = await started(
      (root, options) => {
        root.register(async function capiSetup(plugins) {
          await plugins.register(capiPlugin, options);
        });
      },
      { development: false },
    );
    await production.app.close();
    expect(production.warnings).toEqual([]);
  });

  it('says when it sits in an encapsulated plugin that declares routes while the app has others outside it', async () => {
    // The scope's own routes are covered, so the no-route warning stayed quiet; a root route's
    // handler read request.capi as undefined, unsaid.
    const warnings: string[] = [];
    const logger = {
      debug: () => {},
      info: () => {},
      error: () => {},
      warn: (_fields: Record<string, unknown>, message: string) => {
        warnings.push(message);
      },
    };
    const app = fastify();
    app.get('/landing', async (request) => String(typeof request.capi));
    app.register(
      async function shop(scope) {
        // Declared before the plugin: covered all the same, so not named.
        scope.get('/early', async (request) => String(typeof request.capi));
        await scope.register(
          capiPlugin,
          capiOptions(mock, { logger, relay: { path: '/shop/capi/events' } }),
        );
        scope.get('/cart', async (request) => String(typeof request.capi));
        scope.get('/', async () => 'shop');
      },
      { prefix: '/shop' },
    );
    const running = await listen(app);
    try {
      expect(await (await running.request('/landing')).text()).toBe('undefined');
      expect(await (await running.request('/shop/cart')).text()).toBe('object');
      expect(await (await running.request('/shop/early')).text()).toBe('object');
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toContain("inside the encapsulated plugin 'shop'");
      expect(warnings[0]).toContain("such as '/landing'");
      expect(warnings[0]).toContain('1 route path(s) elsewhere');
      expect(warnings[0]).toContain('register capiPlugin on the root instance');
    } finally {
      await app.close();
    }
  });

  it('a relay given as its path alone is refused, naming the fix', async () => {
    // relay: '/api/capi/events' registered the relay at /capi/events, unheard at the intended path.
    const app = fastify();
    await expect(
      app.register(capiPlugin, capiOptions(mock, { relay: '/api/capi/events' as never })),
    ).rejects.toThrow(
      `capi-kit: relay must be true or the relay's options ({ path, … }), got a string: for another path write relay: { path: "/api/capi/events" }`,
    );
    await app.close();
  });

  it('relay.path is from the site root: in a prefixed scope it must be under the prefix', async () => {
    // Registered as is, the relay answered at /api/capi/events while the browser posted to
    // /capi/events, and a path with a query was a route no request ever matched.
    const inScope = (relay: CapiFastifyOptions['relay']) => {
      const app = fastify();
      const registered = app.register(
        async (api) => {
          await api.register(capiPlugin, capiOptions(mock, { relay }));
        },
        { prefix: '/api' },
      );
      return { app, registered };
    };
    const refused = inScope(true);
    await expect(refused.registered).rejects.toThrow(
      /relay\.path '\/capi\/events' is from the site root, and this scope's prefix '\/api'/,
    );
    await refused.app.close();
    const query = fastify();
    await expect(
      query.register(capiPlugin, capiOptions(mock, { relay: { path: '/capi/events?v=1' } })),
    ).rejects.toThrow(/relay\.path must be a path from the site root/);
    await query.close();
    const served = inScope({ path: '/api/capi/events' });
    await served.registered;
    try {
      const running = await listen(served.app);
      // The relay's own answer to a GET (405, POST only), not the app's 404.
      expect((await running.request('/api/capi/events')).status).toBe(405);
    } finally {
      await served.app.close();
    }
  });

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

  it('tracks config.capi routes whatever the registration order, and only after a reply below 400', async () => {
    const app = fastify();
    // Declared before the plugin is registered, after an un-awaited register, and in a child scope.
    app.post('/before', { config: { capi: { event: 'Lead' } } }, async () => ({ ok: true }));
    app.register(capiPlugin, capiOptions(mock));
    app.post('/after', { config: { capi: { event: 'Contact' } } }, async () => ({ ok: true }));
    app.register(async (scope) => {
      scope.post('/child', { config: { capi: { event: 'Schedule' } } }, async () => ({ ok: 1 }));
      scope.post(
        '/refused',
        { config: { capi: { event: 'SubmitApplication' } } },
        async (_request, reply) => reply.code(409).send({ ok: false }),
      );
    });
    app.post('/plain', async () => ({ ok: true }));
    const responses = responseTracker(app);
    try {
      const running = await listen(app);
      for (const path of ['/before', '/after', '/child', '/refused', '/plain']) {
        expect((await postJson(running, path, {})).status).toBe(path === '/refused' ? 409 : 200);
      }
      await responses.settled();
      await app.capiClient.flush();
      expect(mock.events().map((e) => e.event.event_name)).toEqual(['Lead', 'Contact', 'Schedule']);
    } finally {
      await app.close();
    }
  });

  it('adds no response listener to requests of routes without config.capi', async () => {
    const finishListeners = async (withPlugin: boolean) => {
      const app = fastify();
      if (withPlugin) await app.register(capiPlugin, capiOptions(mock));
      app.get('/', (_request, reply) => ({ finish: reply.raw.listenerCount('finish') }));
      app.get('/tracked', { config: { capi: { event: 'ViewContent' } } }, (_request, reply) => ({
        finish: reply.raw.listenerCount('finish'),
      }));
      try {
        const running = await listen(app);
        const read = async (path: string) =>
          ((await (await running.request(path)).json()) as { finish: number }).finish;
        return { plain: await read('/'), tracked: await read('/tracked') };
      } finally {
        await app.close();
      }
    };
    const without = await finishListeners(false);
    const withCapi = await finishListeners(true);
    expect(withCapi.plain).toBe(without.plain);
    expect(withCapi.tracked).toBe(without.tracked + 1);
  });

  it('does not track a route whose handler or hook threw, whatever the error handler answers', async () => {
    // A declined payment redirected back to the cart is not a Purchase.
    const app = fastify();
    await app.register(capiPlugin, capiOptions(mock));
    const responses = responseTracker(app);
    app.setErrorHandler((_error, _request, reply) => reply.redirect('/cart?declined=1', 303));
    const lead = () => ({ config: { capi: { event: 'Lead' as const } } });
    app.post('/handler', lead(), async () => {
      throw new Error('declined');
    });
    const preHandler = async () => {
      throw new Error('declined');
    };
    app.post('/hook', { ...lead(), preHandler }, async () => 'ok');
    app.post('/here', lead(), async () => 'ok');
    try {
      const running = await listen(app);
      const post = (path: string) => running.request(path, { method: 'POST', redirect: 'manual' });
      expect((await post('/handler')).status).toBe(303);
      expect((await post('/hook')).status).toBe(303);
      expect((await post('/here')).status).toBe(200);
      await responses.settled();
      await app.capiClient.flush();
      expect(mock.events().map((e) => e.event.event_name)).toEqual(['Lead']);
    } finally {
      await app.close();
    }
  });

  it('does not track a route that handed its request to the 404 handler, whatever that answers', async () => {
    // An SPA fallback answers 200 from the not-found handler: that reply is not the route's own.
    const app = fastify();
    await app.register(capiPlugin, capiOptions(mock));
    const responses = responseTracker(app);
    app.setNotFoundHandler((_request, reply) => reply.code(200).send('index.html'));
    const lead = { config: { capi: { event: 'Lead' as const } } };
    app.get('/moved', lead, async (_request, reply) => reply.callNotFound());
    app.get('/here', lead, async () => 'ok');
    try {
      const running = await listen(app);
      expect((await running.request('/moved')).status).toBe(200);
      expect((await running.request('/here')).status).toBe(200);
      await responses.settled();
      await app.capiClient.flush();
      expect(mock.events().map((e) => e.event.event_name)).toEqual(['Lead']);
    } finally {
      await app.close();
    }
  });

  it("does not track a route whose reply an app's hook sent before the handler ran (an auth redirect)", async () => {
    // A session check redirecting an anonymous visitor to /login answered 302 for the route, and
    // its conversion was tracked: a Purchase for a checkout that never ran.
    const app = fastify();
    await app.register(capiPlugin, capiOptions(mock));
    const responses = responseTracker(app);
    app.addHook('onRequest', async (request, reply) => {
      if (request.url === '/early') return reply.redirect('/login', 302);
    });
    app.addHook('preHandler', async (request, reply) => {
      if (request.headers.cookie !== 'session=1') return reply.redirect('/login', 303);
    });
    const lead = { config: { capi: { event: 'Lead' as const } } };
    app.post('/early', lead, async () => 'ok');
    app.post('/checkout', lead, async () => 'ok');
    // The handler's own redirect (post/redirect/get) is the route's reply, and tracked.
    app.post('/prg', lead, async (_request, reply) => reply.redirect('/thanks', 303));
    try {
      const running = await listen(app);
      const post = (path: string, cookie?: string) =>
        running.request(path, {
          method: 'POST',
          redirect: 'manual',
          headers: cookie === undefined ? {} : { cookie },
        });
      expect((await post('/early', 'session=1')).status).toBe(302);
      expect((await post('/checkout')).status).toBe(303);
      expect((await post('/checkout', 'session=1')).status).toBe(200);
      expect((await post('/prg', 'session=1')).status).toBe(303);
      await responses.settled();
      await app.capiClient.flush();
      expect(mock.events().map((e) => e.event.event_name)).toEqual(['Lead', 'Lead']);
      const stats = app.capiClient.stats();
      expect(stats.sent).toBe(2);
      expect(stats.queued + stats.inFlight + stats.deadLettered).toBe(0);
    } finally {
      await app.close();
    }
  });

  it('a config.capi that cannot be read is reported once replied, never thrown, and null tracks nothing', async () => {
    // Both throw in the reply's `finish` listener if unguarded: an uncaught exception, the process down.
    const app = fastify();
    await app.register(capiPlugin, capiOptions(mock));
    const responses = responseTracker(app);
    const errors: { kind: string; source: string | undefined }[] = [];
    app.capiClient.on('error', (info) => {
      errors.push({ kind: info.kind, source: 'source' in info ? info.source : undefined });
    });
    const unreadable = {
      get event(): never {
        throw new Error('config getter');
      },
    };
    app.get('/unreadable', { config: { capi: unreadable as never } }, async () => 'ok');
    app.get('/null', { config: { capi: null as never } }, async () => 'ok');
    app.get('/lead', { config: { capi: { event: 'Lead' } } }, async () => 'ok');
    try {
      const running = await listen(app);
      for (const path of ['/unreadable', '/null', '/lead']) {
        expect((await running.request(path)).status).toBe(200);
      }
      await responses.settled();
      await app.capiClient.flush();
      expect(errors).toEqual([{ kind: 'callback', source: 'config.capi' }]);
      expect(mock.events().map((e) => e.event.event_name)).toEqual(['Lead']);
    } finally {
      await app.close();
    }
  });

  it('a config.capi of the wrong shape is refused when declared, and reported when replied if declared before', async () => {
    // From JavaScript: the event name alone, fixed params in place of map, no event.
    const wrong = [
      ['/name', 'Purchase', /config\.capi must be \{ event, map\? \}.*got string/],
      ['/fixed', { event: 'Lead', map: { custom_data: {} } }, /map of 'Lead' must be a function/],
      ['/nameless', { map: () => ({}) }, /config\.capi\.event must be the event's name/],
    ] as const;
    const app = fastify();
    for (const [path, capi] of wrong) app.post(path, { config: { capi: capi as never } }, () => 1);
    await app.register(capiPlugin, capiOptions(mock));
    const responses = responseTracker(app);
    const errors: string[] = [];
    app.capiClient.on('error', (info) => {
      if (info.kind === 'callback') errors.push(`${info.source}: ${info.error.message}`);
    });
    for (const [path, capi, message] of wrong) {
      expect(() => app.post(`/late${path}`, { config: { capi: capi as never } }, () => 1)).toThrow(
        message,
      );
    }
    try {
      const running = await listen(app);
      for (const [path] of wrong) expect((await postJson(running, path, {})).status).toBe(200);
      await responses.settled();
      expect(errors).toHaveLength(wrong.length);
      wrong.forEach(([, , message], i) => {
        expect(errors[i]).toMatch(/^config\.capi: /);
        expect(errors[i]).toMatch(message);
      });
    } finally {
      await app.close();
    }
  });

  it("tracks even when an app's onResponse hook registered before the plugin fails", async () => {
    // Tracking is the reply's own listener: a hook earlier in the chain no longer decides it.
    const app = fastify();
    app.addHook('onResponse', (_request, _reply, next) => next(new Error('metrics down')));
    // flushOnEnd: no onResponse hook after the failing one would tell the test the reply ended.
    await app.register(capiPlugin, capiOptions(mock, { flushOnEnd: true }));
    app.get('/lead', { config: { capi: { event: 'Lead' } } }, async () => 'ok');
    try {
      expect((await (await listen(app)).request('/lead')).status).toBe(200);
      const events = await mock.waitForEvents(1, { timeoutMs: 3000 });
      expect(events.map((e) => e.event.event_name)).toEqual(['Lead']);
    } finally {
      await app.close();
    }
  });

  it('keeps a cookie the app set on the raw response beside _fbp', async () => {
    // Express middleware (through @fastify/express or middie) and `reply.raw.setHeader` write
    // there; Fastify's own headers, where the plugin puts _fbp, replaced them when sent.
    const app = fastify();
    await app.register(capiPlugin, capiOptions(mock));
    app.get('/', (_request, reply) => {
      reply.raw.setHeader('set-cookie', 'session=abc; Path=/; HttpOnly');
      reply.header('set-cookie', 'csrf=1; Path=/');
      return 'ok';
    });
    app.get('/stream', (_request, reply) => {
      reply.raw.setHeader('set-cookie', ['session=abc; Path=/; HttpOnly']);
      return reply.type('text/plain').send(Readable.from(['ok']));
    });
    try {
      const running = await listen(app);
      for (const path of ['/', '/stream']) {
        const res = await running.request(path, { headers: NAVIGATION });
        expect(await res.text()).toBe('ok');
        const names = res.headers.getSetCookie().map((cookie) => cookie.split('=', 1)[0]);
        expect(names).toContain('session');
        expect(names).toContain('_fbp');
        expect(names.filter((name) => name === 'session')).toHaveLength(1);
      }
    } finally {
      await app.close();
    }
  });

  it('keeps a session cookie Express middleware sets when the head is written, beside _fbp', async () => {
    // express-session and cookie-session (through @fastify/middie or @fastify/express) set their
    // cookie from a writeHead wrapper (the on-headers package), done here as they do it. Fastify's
    // writeHead(status, headers) replaced it with its own Set-Cookie, where the plugin renews _fbp
    // on every page view: the visitor's session was dropped from each page.
    const app = fastify();
    app.addHook('onRequest', (_request, reply, done) => {
      const response = reply.raw;
      const writeHead = response.writeHead;
      response.writeHead = function (this: typeof response, ...args: unknown[]) {
        const prev = response.getHeader('set-cookie') ?? [];
        response.setHeader(
          'set-cookie',
          (Array.isArray(prev) ? prev : [String(prev)]).concat('sid=abc; Path=/; HttpOnly'),
        );
        return (writeHead as (...a: unknown[]) => typeof response).apply(this, args);
      } as typeof response.writeHead;
      done();
    });
    await app.register(capiPlugin, capiOptions(mock));
    app.get('/', () => 'ok');
    app.get('/csrf', (_request, reply) => reply.header('set-cookie', 'csrf=1; Path=/').send('ok'));
    app.get('/stream', (_request, reply) => reply.type('text/plain').send(Readable.from(['ok'])));
    try {
      const running = await listen(app);
      for (const path of ['/', '/csrf', '/stream']) {
        const res = await running.request(`${path}?fbclid=IwAR_session`, { headers: NAVIGATION });
        expect(await res.text()).toBe('ok');
        const names = res.headers
          .getSetCookie()
          .map((cookie) => cookie.split('=', 1)[0])
          .sort();
        expect(names).toEqual(
          path === '/csrf' ? ['_fbc', '_fbp', 'csrf', 'sid'] : ['_fbc', '_fbp', 'sid'],
        );
      }
    } finally {
      await app.close();
    }
  });

  it('sets _fbp and _fbc on a hijacked reply, each once on the others', async () => {
    // An SSR framework mounted on Fastify writes reply.raw itself: Fastify's headers never go out.
    const app = fastify();
    await app.register(capiPlugin, capiOptions(mock));
    app.get('/ssr', (_request, reply) => {
      reply.hijack();
      reply.raw.writeHead(200, { 'content-type': 'text/html' });
      reply.raw.end('<html></html>');
    });
    app.get('/page', (_request, reply) => reply.header('set-cookie', 'csrf=1; Path=/').send('ok'));
    try {
      const running = await listen(app);
      for (const path of ['/ssr', '/page']) {
        const res = await running.request(`${path}?fbclid=IwAR_hijacked`, { headers: NAVIGATION });
        await res.text();
        const names = res.headers
          .getSetCookie()
          .map((cookie) => cookie.split('=', 1)[0])
          .sort();
        expect(names).toEqual(path === '/ssr' ? ['_fbc', '_fbp'] : ['_fbc', '_fbp', 'csrf']);
      }
    } finally {
      await app.close();
    }
  });

  it('sends no _fbp/_fbc on a reply the app removed Set-Cookie from, in a handler or an onSend hook', async () => {
    // A page stripped of cookies to be cached (a shared cache would hand its Set-Cookie, a freshly
    // minted _fbp, to every visitor). On Fastify 4, removeHeader leaves the raw response alone,
    // and the plugin's copies there (for hijacked replies) still went out.
    const app = fastify();
    await app.register(capiPlugin, capiOptions(mock));
    app.get('/cached', (_request, reply) => {
      reply.removeHeader('set-cookie');
      return reply.header('cache-control', 'public, max-age=600').send('page');
    });
    await app.register(async (scope) => {
      scope.addHook('onSend', (_request, reply, payload, done) => {
        reply.removeHeader('set-cookie');
        done(null, payload);
      });
      scope.get('/cdn', () => 'page');
    });
    app.get('/page', () => 'page');
    try {
      const running = await listen(app);
      for (const path of ['/cached', '/cdn', '/page']) {
        const res = await running.request(`${path}?fbclid=IwAR_cached`, { headers: NAVIGATION });
        expect(await res.text()).toBe('page');
        const names = res.headers.getSetCookie().map((cookie) => cookie.split('=', 1)[0]);
        expect(names).toEqual(path === '/page' ? ['_fbp', '_fbc'] : []);
      }
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

describe.each([
  { name: 'Fastify 5', fastify: Fastify },
  { name: 'Fastify 4', fastify: Fastify4 as unknown as typeof Fastify },
])('$name: rewriteUrl', ({ fastify }) => {
  // `rewriteUrl` replaces `request.raw.url` before routing (a locale prefix stripped, a legacy path
  // mapped): the page the browser loaded, and so event_source_url, is the URL before the rewrite.
  it('reads the page URL as the browser sent it, not as rewriteUrl made it', async () => {
    const app = fastify({
      rewriteUrl: (req) => (req.url ?? '/').replace(/^\/en(?=\/)/, ''),
    });
    await app.register(capiPlugin, capiOptions(mock));
    const responses = responseTracker(app);
    app.get('/landing', { config: { capi: { event: 'ViewContent' } } }, async () => 'ok');
    try {
      const running = await listen(app);
      const res = await running.request('/en/landing?fbclid=IwAR_rewritten', {
        headers: NAVIGATION,
      });
      expect(res.status).toBe(200);
      await responses.settled();
      await app.capiClient.flush();
      const [tracked] = mock.events();
      expect(tracked?.event.event_source_url).toBe(
        `${running.url}/en/landing?fbclid=IwAR_rewritten`,
      );
    } finally {
      await app.close();
    }
  });
});
