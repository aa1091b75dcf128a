#!/usr/bin/env node
// One server of the middleware bench, in its own process: a hello-world Express or Fastify app.
// `node middleware-server.mjs <express|fastify> <variant> [graphUrl]`. Variants:
// - `plain`: no tracking.
// - `naive`: the hand-written middleware of naive-middleware.mjs (cookies, IP, SHA-256, batches).
// - `capi`: `app.use(capi())` / `capiPlugin` and `req.capi.track('ViewContent', …)`.
// - `sdk`: Meta's Node SDK as its README shows: ServerEvent + UserData + CustomData and
//   `new EventRequest(token, pixel).setEvents([event]).execute()` per request, fire-and-forget
//   with a catch; the request context (cookies, IP, URL) comes from the same hand-written code as
//   `naive`, since the SDK has none.
// - `mounted`: capi-kit mounted, nothing tracked (what requests that track nothing pay).
// - `noop`: a middleware (Express) or `onRequest` hook (Fastify) that does nothing: what the
//   framework itself charges for any middleware, the floor under `mounted` (instructions.mjs).
// Every tracking variant tracks one ViewContent per request with an email and the request context.
// GET /_stats answers this process's CPU time, memory and its delivery counters (tracked,
// delivered, failed, pending), for the orchestrator (middleware.mjs).
import { createRequire } from 'node:module';
import {
  COOKIE_MAX_AGE_MS,
  createNaiveTracker,
  naiveContext,
  setCookieHeader,
} from './naive-middleware.mjs';

const [framework, variant, graphUrl] = process.argv.slice(2);
// One pixel per variant, so that the orchestrator counts at the mock only this server's events.
const PIXEL_ID = String(
  1234567890 + ['plain', 'naive', 'capi', 'sdk', 'mounted', 'noop'].indexOf(variant),
);
const ACCESS_TOKEN = 'EAAbenchTOKEN0123456789';

const capiOptions = {
  pixelId: PIXEL_ID,
  accessToken: ACCESS_TOKEN,
  graphUrl,
  env: false,
  trustProxy: 'loopback',
};

const custom_data = {
  content_type: 'product',
  content_ids: ['SKU-1'],
  value: 42.5,
  currency: 'USD',
};

// What the handler knows about the visitor (from its session, say): a different one per request.
let tracked = 0;
const nextEmail = () => `Customer.${tracked++}@Example.com`;

/** One tracked ViewContent per request: `track(req)` for the handler, `counters()` for /_stats. */
const contender = () => {
  if (variant === 'plain' || variant === 'mounted' || variant === 'noop')
    return { track: () => {}, counters: () => ({}) };
  if (variant === 'capi') {
    return {
      track: (capi) => capi.track('ViewContent', { user_data: { em: nextEmail() }, custom_data }),
      counters: undefined, // from the client's stats
    };
  }
  if (variant === 'naive') {
    const tracker = createNaiveTracker({ graphUrl, pixelId: PIXEL_ID, accessToken: ACCESS_TOKEN });
    return {
      track: (context) =>
        tracker.track('ViewContent', context, { email: nextEmail(), custom_data }),
      counters: () => {
        const s = tracker.stats();
        return { delivered: s.delivered, failed: s.failed, pending: s.queued + s.inFlight };
      },
      drain: () => tracker.drain(),
      close: () => tracker.close(),
    };
  }
  if (variant === 'sdk') return sdkContender();
  throw new Error(`unknown variant ${variant}`);
};

const sdkContender = () => {
  const sdk = createRequire(import.meta.url)('facebook-nodejs-business-sdk');
  const { EventRequest, UserData, CustomData, ServerEvent, FacebookAdsApi } = sdk;
  // The SDK has no option for its Graph host: `FacebookAdsApi.GRAPH` is a static getter returning
  // https://graph.facebook.com, read on every call. Redefined here, at run time, to aim at the mock;
  // nothing else of the SDK is changed. (It sends the access token in the URL's query string and in
  // the body, as it does against Graph.)
  Object.defineProperty(FacebookAdsApi, 'GRAPH', { get: () => graphUrl, configurable: true });
  const counters = { delivered: 0, failed: 0, pending: 0 };
  const requests = new Set();
  return {
    track: (context) => {
      const userData = new UserData()
        .setEmails([nextEmail()])
        .setClientIpAddress(context.ip)
        .setClientUserAgent(context.userAgent)
        .setFbp(context.fbp);
      if (context.fbc) userData.setFbc(context.fbc);
      const customData = new CustomData()
        .setContentType(custom_data.content_type)
        .setContentIds(custom_data.content_ids)
        .setValue(custom_data.value)
        .setCurrency(custom_data.currency);
      const serverEvent = new ServerEvent()
        .setEventName('ViewContent')
        .setEventTime(Math.floor(Date.now() / 1000))
        .setEventId(crypto.randomUUID())
        .setUserData(userData)
        .setCustomData(customData)
        .setEventSourceUrl(context.url)
        .setActionSource('website');
      counters.pending++;
      const sending = new EventRequest(ACCESS_TOKEN, PIXEL_ID)
        .setEvents([serverEvent])
        // The SDK sends `"test_event_code": null` and `"partner_agent": null` when unset; Graph
        // takes them, the mock refuses a non-string. Unset as `undefined` they stay out of the JSON.
        .setTestEventCode(undefined)
        .setPartnerAgent(undefined)
        .execute()
        .then(
          () => {
            counters.delivered++;
          },
          () => {
            counters.failed++;
          },
        )
        .finally(() => {
          counters.pending--;
          requests.delete(sending);
        });
      requests.add(sending);
    },
    counters: () => ({ ...counters }),
    drain: () => Promise.allSettled([...requests]),
    close: () => Promise.allSettled([...requests]),
  };
};

const { track, counters, drain: drainContender, close: closeContender } = contender();
const withCapi = variant === 'capi' || variant === 'mounted';
const handWritten = variant === 'naive' || variant === 'sdk';

let client;
/**
 * Waits until everything tracked so far was answered by the mock (`/_stats?drain`), so that the
 * CPU a run's deliveries cost is counted in that run: no polling, which would cost CPU too.
 */
const drain = () =>
  client ? client.drain({ timeoutMs: 60_000 }) : (drainContender?.() ?? Promise.resolve());
const stats = () => {
  const capi = client?.stats();
  const delivery = capi
    ? {
        delivered: capi.sent,
        failed: Object.values(capi.dropped).reduce((a, b) => a + b, 0) + capi.deadLettered,
        pending: capi.queued + capi.inFlight,
      }
    : counters();
  return JSON.stringify({
    pixelId: PIXEL_ID,
    cpu: process.cpuUsage(),
    memory: process.memoryUsage(),
    delivery: { tracked, ...delivery },
    capi,
  });
};

let close;
if (framework === 'express') {
  const { default: express } = await import('express');
  const app = express();
  app.get('/_stats', async (req, res) => {
    if (req.query.drain !== undefined) await drain();
    res.type('json').send(stats());
  });
  if (withCapi) {
    const { capi } = await import('@capi-kit/express');
    const middleware = capi(capiOptions);
    client = middleware.client;
    app.use(middleware);
    app.get('/', (req, res) => {
      track(req.capi);
      res.send('Hello World!');
    });
  } else if (handWritten) {
    app.use((req, res, next) => {
      const context = naiveContext(
        req.headers,
        req.socket.remoteAddress,
        req.originalUrl,
        req.query,
      );
      for (const [name, value] of context.newCookies) {
        res.cookie(name, value, {
          maxAge: COOKIE_MAX_AGE_MS,
          path: '/',
          sameSite: 'lax',
          secure: context.secure,
        });
      }
      req.fbContext = context;
      next();
    });
    app.get('/', (req, res) => {
      track(req.fbContext);
      res.send('Hello World!');
    });
  } else {
    if (variant === 'noop') app.use((_req, _res, next) => next());
    app.get('/', (_req, res) => {
      res.send('Hello World!');
    });
  }
  const server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  server.keepAliveTimeout = 60_000;
  process.stdout.write(`listening on http://127.0.0.1:${server.address().port}\n`);
  close = async () => {
    await new Promise((resolve) => server.close(resolve));
    server.closeAllConnections?.();
    await client?.close({ timeoutMs: 2000 }); // the middleware does not own the server
  };
} else if (framework === 'fastify') {
  const { default: Fastify } = await import('fastify');
  const app = Fastify({ logger: false, keepAliveTimeout: 60_000 });
  app.get('/_stats', async (request, reply) => {
    if (request.query.drain !== undefined) await drain();
    return reply.type('application/json').send(stats());
  });
  if (withCapi) {
    const { capiPlugin } = await import('@capi-kit/fastify');
    await app.register(capiPlugin, capiOptions);
    app.get('/', (request) => {
      track(request.capi);
      return 'Hello World!';
    });
  } else if (handWritten) {
    app.decorateRequest('fbContext', null);
    app.addHook('onRequest', (request, reply, done) => {
      const context = naiveContext(
        request.headers,
        request.socket.remoteAddress,
        request.url,
        request.query,
      );
      if (context.newCookies.length > 0) {
        reply.header(
          'set-cookie',
          context.newCookies.map((cookie) => setCookieHeader(cookie, context.secure)),
        );
      }
      request.fbContext = context;
      done();
    });
    app.get('/', (request) => {
      track(request.fbContext);
      return 'Hello World!';
    });
  } else {
    if (variant === 'noop') app.addHook('onRequest', (_request, _reply, done) => done());
    app.get('/', () => 'Hello World!');
  }
  await app.listen({ port: 0, host: '127.0.0.1' });
  client = withCapi ? app.capiClient : undefined;
  process.stdout.write(`listening on http://127.0.0.1:${app.server.address().port}\n`);
  close = () => app.close(); // its onClose hook closes capi-kit's client
} else {
  throw new Error(`unknown framework ${framework}`);
}

process.once('SIGTERM', async () => {
  await close();
  await closeContender?.();
  process.exit(0);
});
