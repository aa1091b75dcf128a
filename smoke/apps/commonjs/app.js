// A CommonJS app against the installed tarballs, run with `--no-experimental-require-module` (what
// Node before 20.19 does, and Jest's own `require`): every entry point loads with `require()`. Then
// one event from the server (an Express route) and one from the browser module through the
// first-party relay reach the mock Graph API. Prints what arrived as JSON.
const { once } = require('node:events');

const ENTRIES = [
  '@capi-kit/core',
  '@capi-kit/express',
  '@capi-kit/fastify',
  '@capi-kit/nestjs',
  '@capi-kit/next',
  '@capi-kit/next/proxy',
  '@capi-kit/next/client',
  '@capi-kit/browser',
  '@capi-kit/testing',
  '@capi-kit/outbox-sqlite',
  '@capi-kit/outbox-bullmq',
  '@capi-kit/cli',
  '@capi-kit/tiktok',
];
// Nest's decorators need the metadata polyfill loaded first, as in any Nest app.
require('reflect-metadata');
const loaded = Object.fromEntries(ENTRIES.map((name) => [name, Object.keys(require(name)).length]));

const { capi } = require('@capi-kit/express');
const { createPixel } = require('@capi-kit/browser');
const { startMockGraph } = require('@capi-kit/testing');
const express = require('express');

const PIXEL_ID = '1234567890';
const TOKEN = 'smoke-token';

async function main() {
  const mock = await startMockGraph({ accessToken: TOKEN });
  const tracking = capi({
    env: { META_PIXEL_ID: PIXEL_ID, META_ACCESS_TOKEN: TOKEN, META_GRAPH_URL: mock.url },
    relay: true,
  });
  const app = express();
  app.use(express.json());
  app.use(tracking);
  app.post('/purchase', (req, res) => {
    const { event_id } = req.capi.track('Purchase', {
      user_data: { em: 'buyer@example.com' },
      custom_data: { value: 42, currency: 'USD' },
    });
    res.json({ event_id });
  });
  const server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const origin = `http://127.0.0.1:${server.address().port}`;

  const answer = await fetch(`${origin}/purchase`, { method: 'POST' });
  const { event_id: purchaseId } = await answer.json();

  // The browser module outside a browser: the page globals it reads, an `fbq` that records calls,
  // and the Fetch Metadata header a browser adds to a same-origin POST (the relay's CSRF guard).
  const pixelCalls = [];
  globalThis.fbq = (...args) => pixelCalls.push(args);
  globalThis.location = { href: `${origin}/pricing` };
  globalThis.document = { referrer: '' };
  const nodeFetch = globalThis.fetch;
  const relayAnswers = [];
  globalThis.fetch = async (url, init = {}) => {
    if (!String(url).startsWith(`${origin}/capi/events`)) return nodeFetch(url, init);
    const headers = new Headers(init.headers);
    headers.set('sec-fetch-site', 'same-origin');
    const relayed = await nodeFetch(url, { ...init, headers });
    relayAnswers.push(relayed.status);
    return relayed;
  };
  const pixel = createPixel({ pixelId: PIXEL_ID, relay: `${origin}/capi/events` });
  const viewId = pixel.track('ViewContent', { content_ids: ['sku-1'], content_type: 'product' });

  await mock.waitForEvents(2, { timeoutMs: 5000 }).catch(() => {});
  await tracking.close();
  server.close();
  const arrived = mock.events().map((e) => ({ pixelId: e.pixelId, event: e.event }));
  await mock.close();
  console.log(
    `SMOKE_RESULT ${JSON.stringify({ loaded, purchaseId, viewId, pixelCalls, relayAnswers, arrived })}`,
  );
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
