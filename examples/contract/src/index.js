// @ts-check
// The example contract (examples/README.md) as one test suite. Each example's test calls
// `describeExampleContract(name, start)`; the suite starts the mock Graph API, starts the example
// against it, and checks every route over real HTTP on loopback.
import { createHash } from 'node:crypto';
import { startMockGraph } from '@capi-kit/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

/**
 * A started example app: its base URL, a way to deliver what it has queued, and a way to stop it.
 * @typedef {{ url: string, flush: () => Promise<void>, close: () => Promise<void> }} RunningExample
 */
/** @typedef {(env: Record<string, string>) => Promise<RunningExample>} StartExample */

/** The Pixel ID every example is started with. */
export const PIXEL_ID = '1234567890';
/** The access token every example is started with. */
export const ACCESS_TOKEN = 'contract-test-token';
const UA = 'Mozilla/5.0 (X11; Linux x86_64) capi-kit-contract/1.0';

/** @param {string} s */
const sha256 = (s) => createHash('sha256').update(s).digest('hex');

/**
 * @param {string[]} setCookies
 * @param {string} name
 */
function cookieValue(setCookies, name) {
  const header = setCookies.find((c) => c.startsWith(`${name}=`));
  return header?.slice(name.length + 1).split(';')[0];
}

/**
 * Registers the contract suite for one example.
 * @param {string} name
 * @param {StartExample} start
 */
export function describeExampleContract(name, start) {
  describe(`example contract: ${name}`, () => {
    /** @type {Awaited<ReturnType<typeof startMockGraph>>} */
    let mock;
    /** @type {RunningExample} */
    let app;

    beforeAll(async () => {
      mock = await startMockGraph();
      app = await start({
        PORT: '0',
        META_PIXEL_ID: PIXEL_ID,
        META_ACCESS_TOKEN: ACCESS_TOKEN,
        META_GRAPH_URL: mock.url,
        META_PIXEL_SCRIPT_URL: `${mock.url}/fbevents.js`,
        TRUST_PROXY: 'loopback',
      });
    });
    afterAll(async () => {
      await app?.close();
      await mock?.close();
    });
    beforeEach(() => {
      mock.recover();
      mock.reset();
    });

    /**
     * @param {string} path
     * @param {unknown} body
     * @param {Record<string, string>} [headers]
     */
    const post = (path, body, headers = {}) =>
      fetch(`${app.url}${path}`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': UA,
          referer: `${app.url}/checkout`,
          ...headers,
        },
        body: JSON.stringify(body),
      });

    it('GET / sets _fbp and _fbc and fires PageView with one event ID in the page and in CAPI', async () => {
      const res = await fetch(`${app.url}/?fbclid=IwAR2xYz_AbC-123`, {
        headers: {
          'user-agent': UA,
          accept: 'text/html',
          'sec-fetch-dest': 'document',
          'x-forwarded-for': '203.0.113.7',
        },
      });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/text\/html/);
      const cookies = res.headers.getSetCookie();
      const fbp = cookieValue(cookies, '_fbp');
      const fbc = cookieValue(cookies, '_fbc');
      // localhost and IP hosts have subdomain index 0 (capi.md §5).
      expect(fbp).toMatch(/^fb\.0\.\d{13}\.\d+$/);
      expect(fbc).toMatch(/^fb\.0\.\d{13}\.IwAR2xYz_AbC-123$/);
      const html = await res.text();
      const eventId = /"eventID":"([^"]+)"/.exec(html)?.[1];
      expect(eventId).toBeTruthy();
      expect(html).toContain(`${mock.url}/fbevents.js`);

      await app.flush();
      const views = mock.events({ event_name: 'PageView' });
      expect(views).toHaveLength(1);
      expect(views[0]?.event).toMatchObject({
        event_id: eventId,
        action_source: 'website',
        event_source_url: `${app.url}/?fbclid=IwAR2xYz_AbC-123`,
        user_data: { fbp, fbc, client_user_agent: UA, client_ip_address: '203.0.113.7' },
      });
    });

    it('POST /lead sends a Lead with normalized, hashed user_data and the browser cookies', async () => {
      const res = await post(
        '/lead',
        {
          email: ' Alice.Ng@Example.com ',
          phone: '(650) 555-1212',
          first_name: 'Alice',
          last_name: 'Ng',
          country: 'US',
        },
        { cookie: '_fbp=fb.0.1700000000000.42; _fbc=fb.0.1700000000001.IwAR_x' },
      );
      expect(res.status).toBe(200);
      const { event_id } = /** @type {{ event_id: string }} */ (await res.json());
      expect(event_id).toBeTruthy();
      await app.flush();
      const leads = mock.events({ event_name: 'Lead' });
      expect(leads).toHaveLength(1);
      expect(leads[0]?.event).toMatchObject({
        event_id,
        event_source_url: `${app.url}/checkout`,
        user_data: {
          em: [sha256('alice.ng@example.com')],
          ph: [sha256('16505551212')],
          fn: [sha256('alice')],
          ln: [sha256('ng')],
          country: [sha256('us')],
          fbp: 'fb.0.1700000000000.42',
          fbc: 'fb.0.1700000000001.IwAR_x',
          client_user_agent: UA,
        },
      });
    });

    it('POST /purchase derives event_id from order_id, so a retried order is counted once', async () => {
      const order = {
        email: 'bob@example.com',
        value: 49.9,
        currency: 'eur',
        order_id: 'ORD-1001',
        contents: [{ id: 'sku-1', quantity: 2, item_price: 24.95 }],
      };
      const first = await post('/purchase', order);
      expect(first.status).toBe(200);
      const a = /** @type {{ event_id: string }} */ (await first.json());
      const b = /** @type {{ event_id: string }} */ (await (await post('/purchase', order)).json());
      const c = /** @type {{ event_id: string }} */ (
        await (await post('/purchase', { ...order, order_id: 'ORD-1002' })).json()
      );
      expect(b.event_id).toBe(a.event_id);
      expect(c.event_id).not.toBe(a.event_id);

      await app.flush();
      const purchases = mock.events({ event_name: 'Purchase' });
      expect(purchases).toHaveLength(3);
      expect(purchases[0]?.event).toMatchObject({
        event_id: a.event_id,
        user_data: { em: [sha256('bob@example.com')] },
        custom_data: {
          value: 49.9,
          currency: 'EUR',
          order_id: 'ORD-1001',
          contents: [{ id: 'sku-1', quantity: 2, item_price: 24.95 }],
        },
      });
      expect(mock.duplicates()).toEqual([
        expect.objectContaining({ event_name: 'Purchase', event_id: a.event_id, count: 2 }),
      ]);
    });

    it.each([
      ['/lead', 'email', { phone: '+16505551212' }],
      ['/lead', 'email', { email: 42 }],
      ['/purchase', 'email', { value: 10, currency: 'USD', order_id: 'o-1' }],
      [
        '/purchase',
        'value',
        { email: 'a@example.com', value: 'ten', currency: 'USD', order_id: 'o-1' },
      ],
      ['/purchase', 'currency', { email: 'a@example.com', value: 10, order_id: 'o-1' }],
      ['/purchase', 'order_id', { email: 'a@example.com', value: 10, currency: 'USD' }],
    ])(
      'POST %s without a valid %s → 400 naming the field; nothing is sent',
      async (path, field, body) => {
        const res = await post(path, body);
        expect(res.status).toBe(400);
        const json = /** @type {{ error: string, field: string }} */ (await res.json());
        expect(json.field).toBe(field);
        expect(json.error).toEqual(expect.any(String));
        await app.flush();
        expect(mock.events()).toHaveLength(0);
      },
    );

    it('a failing Graph API never changes a response, and the events arrive after recovery', async () => {
      mock.outage('hang');
      const started = Date.now();
      const responses = await Promise.all(
        [1, 2, 3].map((i) => post('/lead', { email: `down${i}@example.com` })),
      );
      // The Graph API is hanging forever: a response that waited for it would never come.
      expect(Date.now() - started).toBeLessThan(1000);
      for (const res of responses) {
        expect(res.status).toBe(200);
        expect(Object.keys(/** @type {object} */ (await res.json()))).toEqual(['event_id']);
      }
      expect(mock.events()).toHaveLength(0);
      mock.recover();
      await mock.waitForEvents(3, { timeoutMs: 15_000 });
      const emails = mock
        .events()
        .map((e) => /** @type {{ em?: string[] } | undefined} */ (e.event.user_data)?.em?.[0]);
      expect(new Set(emails)).toEqual(
        new Set([1, 2, 3].map((i) => sha256(`down${i}@example.com`))),
      );
    });

    it('POST /capi/events refuses a chunked 90 KiB relay body with 413 and forwards nothing', async () => {
      /** @param {string} event_id @param {number} filler */
      const relayBody = (event_id, filler) =>
        JSON.stringify({
          v: 1,
          pixel_id: PIXEL_ID,
          events: [
            {
              event_name: 'AddToCart',
              event_id,
              event_time: Math.floor(Date.now() / 1000),
              custom_data: { content_name: 'x'.repeat(filler) },
            },
          ],
        });
      /** @param {string} text */
      const relayPost = (text) =>
        fetch(
          `${app.url}/capi/events`,
          /** @type {RequestInit} */ ({
            method: 'POST',
            headers: {
              'content-type': 'application/json',
              'user-agent': UA,
              'sec-fetch-site': 'same-origin',
              origin: app.url,
            },
            // A stream: sent chunked, with no Content-Length to check up front.
            body: new Blob([text]).stream(),
            duplex: 'half',
          }),
        );
      const huge = await relayPost(relayBody('relay-huge', 90 * 1024));
      expect(huge.status).toBe(413);
      expect(await huge.json()).toEqual({ error: 'body_too_large' });
      // The same route forwards a small body: the 413 is the cap, not a missing route.
      const small = await relayPost(relayBody('relay-small', 10));
      expect(small.status).toBe(204);
      await app.flush();
      expect(mock.uniqueEventIds()).toEqual(['relay-small']);
    });

    it('concurrent requests never mix contexts', async () => {
      const n = 24;
      const replies = await Promise.all(
        Array.from({ length: n }, async (_, i) => {
          const res = await post(
            '/lead',
            { email: `user${i}@example.com` },
            { 'user-agent': `UA-${i}`, cookie: `_fbp=fb.0.1700000000000.${1000 + i}` },
          );
          return /** @type {{ event_id: string }} */ (await res.json()).event_id;
        }),
      );
      await app.flush();
      const byId = new Map(mock.events().map((e) => [e.event.event_id, e.event]));
      expect(byId.size).toBe(n);
      replies.forEach((eventId, i) => {
        expect(byId.get(eventId)?.user_data).toMatchObject({
          em: [sha256(`user${i}@example.com`)],
          client_user_agent: `UA-${i}`,
          fbp: `fb.0.1700000000000.${1000 + i}`,
        });
      });
    });
  });
}

export { describeGracefulShutdown, SHUTDOWN_STATS_LINE } from './shutdown.js';
