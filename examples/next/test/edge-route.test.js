// @ts-check
// `POST /edge/lead` runs on Next's Edge runtime (`export const runtime = 'edge'`): the core's
// pure-JS hashing, Web Crypto and fetch, inside Next's own Edge sandbox under `next start`; and
// `POST /capi/events`, the first-party relay route.
import { createHash } from 'node:crypto';
import { startMockGraph } from '@capi-kit/testing';
import { ACCESS_TOKEN, PIXEL_ID } from 'capi-kit-example-contract';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startNext } from './next-server.js';

/** @param {string} s */
const sha256 = (s) => createHash('sha256').update(s).digest('hex');

/** @type {Awaited<ReturnType<typeof startMockGraph>>} */
let mock;
/** @type {Awaited<ReturnType<typeof startNext>>} */
let app;

beforeAll(async () => {
  mock = await startMockGraph({ accessToken: ACCESS_TOKEN });
  app = await startNext({
    META_PIXEL_ID: PIXEL_ID,
    META_ACCESS_TOKEN: ACCESS_TOKEN,
    META_GRAPH_URL: mock.url,
    TRUST_PROXY: 'loopback',
  });
});
afterAll(async () => {
  await app?.close();
  await mock?.close();
});

it('an Edge route handler tracks with the request context and sets the cookie', async () => {
  const ua = 'Mozilla/5.0 (X11; Linux x86_64) capi-kit-edge/1.0';
  const res = await fetch(`${app.url}/edge/lead`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'user-agent': ua, referer: `${app.url}/signup` },
    body: JSON.stringify({ email: ' Edge.Lead@Example.com ' }),
  });
  expect(res.status).toBe(200);
  const { event_id } = /** @type {{ event_id: string }} */ (await res.json());
  const fbp = res.headers
    .getSetCookie()
    .find((c) => c.startsWith('_fbp='))
    ?.slice('_fbp='.length)
    .split(';')[0];
  expect(fbp).toMatch(/^fb\.0\.\d{13}\.\d+$/);
  const [lead] = await mock.waitForEvents(1, { event_name: 'Lead', timeoutMs: 10_000 });
  expect(lead?.event).toMatchObject({
    event_id,
    event_source_url: `${app.url}/signup`,
    user_data: { em: [sha256('edge.lead@example.com')], fbp, client_user_agent: ua },
  });

  const invalid = await fetch(`${app.url}/edge/lead`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ phone: '+1 650 555 1212' }),
  });
  expect(invalid.status).toBe(400);
  expect(await invalid.json()).toMatchObject({ field: 'email' });
});

it('POST /capi/events relays a browser Pixel event with its event ID; a cross-site post is refused', async () => {
  const ua = 'Mozilla/5.0 (X11; Linux x86_64) capi-kit-relay/1.0';
  const fbp = 'fb.0.1700000000000.77';
  const payload = {
    v: 1,
    pixel_id: PIXEL_ID,
    events: [
      {
        event_name: 'ViewContent',
        event_id: 'browser-evt-1',
        event_time: Math.floor(Date.now() / 1000),
        event_source_url: `${app.url}/products/1`,
        custom_data: { content_ids: ['sku-1'] },
      },
    ],
  };
  const post = (/** @type {Record<string, string>} */ headers) =>
    fetch(`${app.url}/capi/events`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'user-agent': ua,
        cookie: `_fbp=${fbp}`,
        ...headers,
      },
      body: JSON.stringify(payload),
    });

  const refused = await post({ 'sec-fetch-site': 'cross-site', origin: 'https://evil.example' });
  expect(refused.status).toBe(403);

  const res = await post({ 'sec-fetch-site': 'same-origin', origin: app.url });
  expect(res.status).toBe(204);
  const [relayed] = await mock.waitForEvents(1, { event_name: 'ViewContent', timeoutMs: 10_000 });
  expect(relayed?.event).toMatchObject({
    event_id: 'browser-evt-1',
    event_source_url: `${app.url}/products/1`,
    user_data: { fbp, client_user_agent: ua },
    custom_data: { content_ids: ['sku-1'] },
  });
  expect(mock.events({ event_name: 'ViewContent' })).toHaveLength(1);
});
