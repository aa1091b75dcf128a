#!/usr/bin/env node
// One server of the middleware bench, in its own process: a hello-world Express or Fastify app,
// plain or with capi-kit. `node middleware-server.mjs <express|fastify> <variant> [graphUrl]`.
// Variants: `plain`; `capi` = the middleware and one ViewContent `track()` per request (request
// context only: IP, UA, _fbp, _fbc, URL, plus custom_data); `capi-pii` = the same with a fully
// populated Purchase (9 hashed user_data fields); `mounted` = the middleware and no `track()`, what
// every request that tracks nothing pays (assets, API calls). GET /_stats answers this process's
// CPU time and the client's counters, for the orchestrator (middleware.mjs).
import { fullEvent } from './lib.mjs';

const [framework, variant, graphUrl] = process.argv.slice(2);
const withCapi = variant !== 'plain';

const capiOptions = {
  pixelId: '1234567890',
  accessToken: 'EAAbenchTOKEN0123456789',
  graphUrl,
  env: false,
  trustProxy: 'loopback',
};

const viewContent = {
  custom_data: {
    content_type: 'product',
    content_ids: ['SKU-1'],
    value: 42.5,
    currency: 'USD',
  },
};

// What the handler knows about the buyer; the request context supplies IP, UA, fbp, fbc and URL.
let seq = 0;
const purchase = () => {
  const { user_data, custom_data } = fullEvent(seq++, Date.now());
  const { client_ip_address, client_user_agent, fbp, fbc, ...pii } = user_data;
  return { user_data: pii, custom_data };
};

const trackOne =
  variant === 'capi-pii'
    ? (capi) => capi.track('Purchase', purchase())
    : variant === 'mounted'
      ? () => {}
      : (capi) => capi.track('ViewContent', viewContent);

const stats = (client) =>
  JSON.stringify({
    cpu: process.cpuUsage(),
    memory: process.memoryUsage(),
    capi: client?.stats(),
  });

let close;
let client;
if (framework === 'express') {
  const { default: express } = await import('express');
  const app = express();
  app.get('/_stats', (_req, res) => {
    res.type('json').send(stats(client));
  });
  if (withCapi) {
    const { capi } = await import('@capi-kit/express');
    const middleware = capi(capiOptions);
    client = middleware.client;
    app.use(middleware);
    app.get('/', (req, res) => {
      trackOne(req.capi);
      res.send('Hello World!');
    });
  } else {
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
  };
} else if (framework === 'fastify') {
  const { default: Fastify } = await import('fastify');
  const app = Fastify({ logger: false, keepAliveTimeout: 60_000 });
  app.get('/_stats', (_request, reply) => {
    reply.type('application/json').send(stats(client));
  });
  if (withCapi) {
    const { capiPlugin } = await import('@capi-kit/fastify');
    await app.register(capiPlugin, capiOptions);
    app.get('/', (request) => {
      trackOne(request.capi);
      return 'Hello World!';
    });
  } else {
    app.get('/', () => 'Hello World!');
  }
  await app.listen({ port: 0, host: '127.0.0.1' });
  client = withCapi ? app.capiClient : undefined;
  process.stdout.write(`listening on http://127.0.0.1:${app.server.address().port}\n`);
  close = () => app.close();
} else {
  throw new Error(`unknown framework ${framework}`);
}

process.once('SIGTERM', async () => {
  // Fastify's onClose hook closes its client; Express's middleware does not own the server.
  await close();
  if (framework === 'express') await client?.close({ timeoutMs: 2000 });
  process.exit(0);
});
