// @ts-check
// The example contract (examples/README.md) as one test suite. Each example's test calls
// `describeExampleContract(name, start)`; the suite starts the mock Graph API, starts the example
// against it, and checks every route over real HTTP on loopback; then starts it again with TikTok
// configured too (./tiktok.js) and checks that one visit reaches both platforms.
import { createHash } from 'node:crypto';
import { startMockGraph } from '@capi-kit/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { describeTikTokContract, itSendsNothingToTikTok } from './tiktok.js';

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

const JSON_TYPE = 'application/json';
/** @param {string} field @param {string} error */
const fieldError = (field, error) => ({ status: 400, reply: { error, field } });
const NOT_JSON = { status: 415, reply: { error: 'Content-Type must be application/json' } };
const NOT_AN_OBJECT = { status: 400, reply: { error: 'the body must be a JSON object' } };
const NOT_UTF8 = {
  status: 415,
  reply: { error: 'JSON must be UTF-8 (Content-Type: application/json, or with charset=utf-8)' },
};
const TOO_LARGE = { status: 413, reply: { error: 'the body is larger than 100 KB' } };
const PROTOTYPE_KEY = {
  status: 400,
  reply: { error: 'the body must not contain a "__proto__" or "constructor.prototype" key' },
};
const ORDER = { email: 'a@example.com', value: 10, currency: 'USD', order_id: 'o-1' };

/** The body limit of every example: 100 KiB, body-parser's default (examples/shared). */
export const BODY_LIMIT_BYTES = 100 * 1024;

/**
 * A valid `/lead` body of exactly `bytes` bytes (UTF-8): the email, and an extra field that no
 * example reads, padded to length.
 * @param {number} bytes
 */
export function leadBodyOfSize(bytes) {
  const empty = JSON.stringify({ email: 'big@example.com', note: '' });
  return JSON.stringify({ email: 'big@example.com', note: 'x'.repeat(bytes - empty.length) });
}

/**
 * Bad requests and the exact answer every example gives (examples/README.md, "Invalid input"):
 * the same status and the same JSON body, whatever the framework.
 * `chunked` sends the body as a stream, without `Content-Length`, so a size limit must count bytes.
 * @type {{ name: string, path: string, contentType?: string, body?: string, chunked?: boolean, status: number, reply: object }[]}
 */
export const BAD_INPUTS = [
  ...[
    ['without email', '/lead', { phone: '+16505551212' }, fieldError('email', 'email is required')],
    [
      'with a numeric email',
      '/lead',
      { email: 42 },
      fieldError('email', 'email must be a non-empty string'),
    ],
    [
      'with a blank email',
      '/lead',
      { email: '  ' },
      fieldError('email', 'email must be a non-empty string'),
    ],
    [
      'with a numeric phone',
      '/lead',
      { email: 'a@example.com', phone: 6505551212 },
      fieldError('phone', 'phone must be a string'),
    ],
    [
      'without email',
      '/purchase',
      { ...ORDER, email: undefined },
      fieldError('email', 'email is required'),
    ],
    [
      'with value "ten"',
      '/purchase',
      { ...ORDER, value: 'ten' },
      fieldError('value', 'value must be a number'),
    ],
    [
      'without value',
      '/purchase',
      { ...ORDER, value: undefined },
      fieldError('value', 'value is required'),
    ],
    [
      'without currency',
      '/purchase',
      { ...ORDER, currency: undefined },
      fieldError('currency', 'currency is required'),
    ],
    [
      'with currency "euro"',
      '/purchase',
      { ...ORDER, currency: 'euro' },
      fieldError('currency', 'currency must be a three-letter ISO 4217 code, like "EUR"'),
    ],
    [
      'without order_id',
      '/purchase',
      { ...ORDER, order_id: undefined },
      fieldError('order_id', 'order_id is required'),
    ],
    [
      'with contents without id',
      '/purchase',
      { ...ORDER, contents: [{ quantity: 1 }] },
      fieldError(
        'contents',
        'contents must be a list of { id, quantity?, item_price? } with a non-empty string id',
      ),
    ],
    [
      'with a text quantity',
      '/purchase',
      { ...ORDER, contents: [{ id: 'sku-1', quantity: 'two' }] },
      fieldError(
        'contents',
        'contents must be a list of { id, quantity?, item_price? } with a non-empty string id',
      ),
    ],
  ].map(([name, path, body, expected]) => ({
    name: /** @type {string} */ (name),
    path: /** @type {string} */ (path),
    contentType: JSON_TYPE,
    body: JSON.stringify(body),
    .../** @type {{ status: number, reply: object }} */ (expected),
  })),
  // The body's type and syntax: JSON only, everywhere (no form posts).
  {
    name: 'form-encoded',
    path: '/lead',
    contentType: 'application/x-www-form-urlencoded',
    body: 'email=a%40example.com',
    ...NOT_JSON,
  },
  {
    name: 'form-encoded',
    path: '/purchase',
    contentType: 'application/x-www-form-urlencoded',
    body: 'email=a%40example.com&value=10&currency=USD&order_id=o-1',
    ...NOT_JSON,
  },
  {
    name: 'as text/plain',
    path: '/lead',
    contentType: 'text/plain',
    body: '{"email":"a@example.com"}',
    ...NOT_JSON,
  },
  { name: 'without a body or Content-Type', path: '/lead', ...NOT_JSON },
  {
    name: 'with broken JSON',
    path: '/lead',
    contentType: JSON_TYPE,
    body: '{"email": "a@',
    ...NOT_AN_OBJECT,
  },
  {
    name: 'with an empty JSON body',
    path: '/purchase',
    contentType: JSON_TYPE,
    body: '',
    ...NOT_AN_OBJECT,
  },
  {
    name: 'with a JSON array',
    path: '/lead',
    contentType: JSON_TYPE,
    body: '[{"email":"a@example.com"}]',
    ...NOT_AN_OBJECT,
  },
  // JSON is UTF-8 (RFC 8259 §8.1): any other charset is refused before the body is read.
  {
    name: 'as JSON in charset=latin1',
    path: '/lead',
    contentType: 'application/json; charset=latin1',
    body: '{"email":"a@example.com"}',
    ...NOT_UTF8,
  },
  {
    name: 'as JSON in charset=utf-16',
    path: '/lead',
    contentType: 'application/json; charset=utf-16',
    body: '{"email":"a@example.com"}',
    ...NOT_UTF8,
  },
  {
    name: 'as JSON in charset=ISO-8859-1',
    path: '/purchase',
    contentType: 'application/json; charset=ISO-8859-1',
    body: JSON.stringify(ORDER),
    ...NOT_UTF8,
  },
  {
    name: 'as 2 MB of JSON in charset=latin1 (the charset is checked before the size)',
    path: '/lead',
    contentType: 'application/json; charset=latin1',
    body: leadBodyOfSize(2 * 1024 * 1024),
    ...NOT_UTF8,
  },
  // One body limit everywhere: 100 KB, with or without Content-Length.
  {
    name: 'with 1 byte more than 100 KB of JSON',
    path: '/lead',
    contentType: JSON_TYPE,
    body: leadBodyOfSize(BODY_LIMIT_BYTES + 1),
    ...TOO_LARGE,
  },
  {
    name: 'with 200 KB of JSON, chunked',
    path: '/lead',
    contentType: JSON_TYPE,
    body: leadBodyOfSize(200 * 1024),
    chunked: true,
    ...TOO_LARGE,
  },
  {
    name: 'with 2 MB of JSON',
    path: '/purchase',
    contentType: JSON_TYPE,
    body: JSON.stringify({ ...ORDER, note: 'x'.repeat(2 * 1024 * 1024) }),
    ...TOO_LARGE,
  },
  {
    name: 'with 2 MB of text/plain (the content type is checked before the size)',
    path: '/lead',
    contentType: 'text/plain',
    body: 'x'.repeat(2 * 1024 * 1024),
    ...NOT_JSON,
  },
  // Prototype-poisoning keys are refused while parsing, at any depth (examples/shared).
  {
    name: 'with a "__proto__" key',
    path: '/lead',
    contentType: JSON_TYPE,
    body: '{"__proto__":{"email":"a@example.com"}}',
    ...PROTOTYPE_KEY,
  },
  {
    name: 'with a "__proto__" key beside a valid email',
    path: '/lead',
    contentType: JSON_TYPE,
    body: '{"email":"a@example.com","__proto__":{"isAdmin":true}}',
    ...PROTOTYPE_KEY,
  },
  {
    name: 'with "constructor.prototype" in contents',
    path: '/purchase',
    contentType: JSON_TYPE,
    body: JSON.stringify({
      ...ORDER,
      contents: [{ id: 'sku-1', constructor: { prototype: { isAdmin: true } } }],
    }),
    ...PROTOTYPE_KEY,
  },
];

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

    itSendsNothingToTikTok(() => ({ app, mock }));

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

    // The cookie rule, one for every adapter (docs/architecture.md, "Cookies"): a missing _fbp is
    // minted and a new fbclid becomes _fbc on any request; cookies the browser already has are
    // re-set only on page navigations. So curl, which sends no Accept: text/html and no Fetch
    // Metadata, gets the same new cookies a browser does.
    it("GET / without a browser's headers (curl) still sets a new _fbp and _fbc and sends them", async () => {
      const res = await fetch(`${app.url}/?fbclid=IwAR_curl-7`, {
        headers: { 'user-agent': 'curl/8.5.0', accept: '*/*' },
      });
      expect(res.status).toBe(200);
      const cookies = res.headers.getSetCookie();
      const fbp = cookieValue(cookies, '_fbp');
      const fbc = cookieValue(cookies, '_fbc');
      expect(fbp).toMatch(/^fb\.0\.\d{13}\.\d+$/);
      expect(fbc).toMatch(/^fb\.0\.\d{13}\.IwAR_curl-7$/);
      await res.text();
      await app.flush();
      const views = mock.events({ event_name: 'PageView' });
      expect(views).toHaveLength(1);
      expect(views[0]?.event.user_data).toMatchObject({
        fbp,
        fbc,
        client_user_agent: 'curl/8.5.0',
      });
    });

    it('re-sets the cookies a visitor already has on a page navigation, and only then', async () => {
      const fbp = 'fb.0.1700000000000.42';
      const fbc = 'fb.0.1700000000001.IwAR_old';
      const cookie = `_fbp=${fbp}; _fbc=${fbc}`;
      const navigation = await fetch(`${app.url}/`, {
        headers: {
          'user-agent': UA,
          accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8',
          'sec-fetch-dest': 'document',
          'sec-fetch-mode': 'navigate',
          cookie,
        },
      });
      await navigation.text();
      // Renewed for another 90 days, values unchanged.
      const renewed = navigation.headers.getSetCookie().filter((c) => /^_fb[pc]=/.test(c));
      expect(renewed.map((c) => c.split(';')[0]).sort()).toEqual([`_fbc=${fbc}`, `_fbp=${fbp}`]);
      for (const c of renewed) expect(c).toMatch(/; Max-Age=7776000;/);

      const curl = await fetch(`${app.url}/`, {
        headers: { 'user-agent': 'curl/8.5.0', accept: '*/*', cookie },
      });
      await curl.text();
      expect(curl.headers.getSetCookie().filter((c) => /^_fb[pc]=/.test(c))).toEqual([]);

      await app.flush();
      const views = mock.events({ event_name: 'PageView' });
      expect(views.map((v) => v.event.user_data)).toEqual([
        expect.objectContaining({ fbp, fbc }),
        expect.objectContaining({ fbp, fbc }),
      ]);
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
      // One rule in every example (examples/shared): the same order has this ID everywhere.
      expect(a.event_id).toBe('purchase-ORD-1001');
      const b = /** @type {{ event_id: string }} */ (await (await post('/purchase', order)).json());
      const c = /** @type {{ event_id: string }} */ (
        await (await post('/purchase', { ...order, order_id: 'ORD-1002' })).json()
      );
      expect(b.event_id).toBe(a.event_id);
      expect(c.event_id).toBe('purchase-ORD-1002');

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

    it.each(BAD_INPUTS)(
      'POST $path $name → $status with the same body in every example; nothing is sent',
      async ({ path, contentType, body, chunked, status, reply }) => {
        const res = await fetch(
          `${app.url}${path}`,
          /** @type {RequestInit} */ ({
            method: 'POST',
            headers: { 'user-agent': UA, ...(contentType && { 'content-type': contentType }) },
            ...(body !== undefined &&
              (chunked ? { body: new Blob([body]).stream(), duplex: 'half' } : { body })),
          }),
        );
        expect(res.status).toBe(status);
        expect(res.headers.get('content-type')).toMatch(/^application\/json/);
        expect(await res.json()).toEqual(reply);
        await app.flush();
        expect(mock.events()).toHaveLength(0);
      },
    );

    it('POST /lead takes JSON of exactly 100 KB, with charset=utf-8 in any case or quoted, or none', async () => {
      const body = leadBodyOfSize(BODY_LIMIT_BYTES);
      expect(new TextEncoder().encode(body).byteLength).toBe(BODY_LIMIT_BYTES);
      for (const [contentType, chunked] of /** @type {const} */ ([
        ['application/json', false],
        ['application/json', true],
        ['application/json; charset=utf-8', false],
        ['application/json;charset="UTF-8"', false],
      ])) {
        const res = await fetch(
          `${app.url}/lead`,
          /** @type {RequestInit} */ ({
            method: 'POST',
            headers: { 'user-agent': UA, 'content-type': contentType },
            ...(chunked ? { body: new Blob([body]).stream(), duplex: 'half' } : { body }),
          }),
        );
        expect({ contentType, chunked, status: res.status }).toEqual({
          contentType,
          chunked,
          status: 200,
        });
        expect(Object.keys(/** @type {object} */ (await res.json()))).toEqual(['event_id']);
      }
      await app.flush();
      expect(mock.events({ event_name: 'Lead' })).toHaveLength(4);
    });

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

  describeTikTokContract(name, start, { pixelId: PIXEL_ID, accessToken: ACCESS_TOKEN });
}

export { describeGracefulShutdown, SHUTDOWN_STATS_LINE } from './shutdown.js';
export { describeStartRefused, describeStartWithoutEnv } from './start-without-env.js';
export {
  bothPlatformsEnv,
  TIKTOK_ACCESS_TOKEN,
  TIKTOK_PIXEL_CODE,
  TIKTOK_TEST_EVENT_CODE,
} from './tiktok.js';
