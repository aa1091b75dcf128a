/** Checks: the first-party relay `@capi-kit/browser` posts to is served by the core's rules. */
import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KitApp, RelayVariant } from './driver.js';
import { droppedOf, type Kit, KNOWN_FBP, PIXEL_ID, send, UA } from './kit.js';

const FBC = 'fb.0.1700000000001.IwAR_relay';
const CAP = 64 * 1024;
/** A body's size just under the 64 KiB cap. */
const UNDER_CAP = CAP - 400;
const byteLength = (text: string) => new TextEncoder().encode(text).byteLength;

const relayEvent = (event_id: string, extra: Record<string, unknown> = {}) => ({
  event_name: 'AddToCart',
  event_id,
  event_time: Math.floor(Date.now() / 1000),
  event_source_url: 'http://127.0.0.1/product/1',
  custom_data: { value: 9.5, currency: 'EUR', content_ids: ['sku-1'], secret: 'dropped' },
  ...extra,
});

const payload = (...events: unknown[]) => ({ v: 1, pixel_id: PIXEL_ID, events });

/** A one-event relay body of about `bytes` bytes (the filler is an allowed `custom_data` key). */
const bodyOf = (bytes: number) => {
  const empty = JSON.stringify(payload(relayEvent('cap', { custom_data: { content_name: '' } })));
  return empty.replace('"content_name":""', `"content_name":"${'x'.repeat(bytes - empty.length)}"`);
};
/** Under 20 KiB on the wire, ~100 KiB re-serialized: `1e20` is written out in full. */
const expandingBody = () =>
  JSON.stringify(payload(relayEvent('expanding'))).replace(
    '"event_id":"expanding"',
    `"event_id":"expanding","n":[${Array.from({ length: 4000 }, () => '1e20').join(',')}]`,
  );
/** ~90 KiB on the wire, ~30 KiB as JSON: `\u00e9` (6 bytes) is `é` (2 bytes) once parsed. */
const escapedBody = () =>
  JSON.stringify(payload(relayEvent('escaped', { custom_data: { content_name: '' } }))).replace(
    '"content_name":""',
    `"content_name":"${'\\u00e9'.repeat(15_000)}"`,
  );

/** POSTs a relay body the way `@capi-kit/browser`'s beacon does, from a page of the app itself. */
const beacon = (
  app: KitApp,
  body: unknown,
  headers: Record<string, string> = {},
  path = '/capi/events',
) =>
  send(app, path, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'sec-fetch-site': 'same-origin',
      origin: app.url,
      referer: `${app.url}/product/1`,
      cookie: `_fbp=${KNOWN_FBP}; _fbc=${FBC}`,
      'x-forwarded-for': '203.0.113.7',
      ...headers,
    },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });

/** POSTs a relay body chunked (a stream, so no Content-Length) or with its length. */
const relayPost = (app: KitApp, text: string, chunked: boolean) =>
  fetch(`${app.url}/capi/events`, {
    method: 'POST',
    headers: {
      'user-agent': UA,
      'content-type': 'application/json',
      'sec-fetch-site': 'same-origin',
      origin: app.url,
      'x-forwarded-for': '203.0.113.20',
    },
    body: chunked ? new Blob([text]).stream() : text,
    ...(chunked ? { duplex: 'half' } : {}),
  } as RequestInit);

/** Streams 160 KiB without a length with `node:http`; the status and whether the server closes. */
const chunkedFlood = (app: KitApp) =>
  new Promise<{ status: number; connection: string | undefined }>((resolve, reject) => {
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port: new URL(app.url).port,
        method: 'POST',
        path: '/capi/events',
        // text/plain, as a beacon sends it: the app's JSON parser leaves it to the relay.
        headers: { 'content-type': 'text/plain', 'sec-fetch-site': 'same-origin' },
      },
      (res) => {
        res.resume();
        resolve({ status: res.statusCode ?? 0, connection: res.headers.connection });
      },
    );
    req.on('error', reject);
    // Chunked, no Content-Length: the relay has to count while reading.
    for (let i = 0; i < 10; i++) req.write('x'.repeat(16 * 1024));
    req.end();
  });

/** The value of header `name` of an app's request object (a Node header record or `Headers`). */
function headerOf(request: unknown, name: string): string | undefined {
  const headers = (request as { headers?: unknown }).headers;
  const value =
    headers instanceof Headers ? headers.get(name) : (headers as Record<string, unknown>)?.[name];
  return typeof value === 'string' ? value : undefined;
}

export function describeRelay(kit: Kit): void {
  const { relayVariants } = kit.driver;
  if (relayVariants === false) return;
  const variants: readonly RelayVariant[] = relayVariants ?? [
    { name: 'default', parsesJsonFirst: false },
  ];

  describe.each(variants)('the relay: $name', (variant) => {
    let app: KitApp;
    const identified: (string | undefined)[] = [];
    beforeAll(async () => {
      const identify = (request: unknown) => {
        const user = headerOf(request, 'x-user');
        identified.push(user);
        return user === undefined ? undefined : { external_id: user };
      };
      const relay = { identify, rateLimit: { eventsPerMinute: 60, burst: 5 } };
      app = await kit.start({ relay, flushIntervalMs: 20 }, variant.name);
    });
    afterAll(() => app?.close());

    it('answers a same-origin beacon 204 and forwards it with the same event_id, enriched', async () => {
      const res = await beacon(app, payload(relayEvent('rel-1')), { 'x-user': 'u-1' });
      expect(res.status).toBe(204);
      expect(await res.text()).toBe('');
      const [received] = await kit.mock.waitForEvents(1);
      expect(received?.pixelId).toBe(PIXEL_ID);
      expect(received?.event).toMatchObject({
        event_name: 'AddToCart',
        event_id: 'rel-1',
        action_source: 'website',
        event_source_url: 'http://127.0.0.1/product/1',
        user_data: {
          client_ip_address: '203.0.113.7',
          client_user_agent: UA,
          fbp: KNOWN_FBP,
          fbc: FBC,
          external_id: [expect.stringMatching(/^[0-9a-f]{64}$/)],
        },
        custom_data: { value: 9.5, currency: 'EUR', content_ids: ['sku-1'] },
      });
      expect(received?.event.custom_data).not.toHaveProperty('secret');
      expect(identified.at(-1)).toBe('u-1');
      expect(app.client.stats().dedup.relay).toBeGreaterThanOrEqual(1);
    });

    it("sets the `_fbc` the relay answers for a page's click, once", async () => {
      // The page's `?fbclid=` reaches the relay in the event only: an origin-only Referer (a relay
      // on another origin of the site, or the page's Referrer-Policy), and no `_fbc` yet.
      const landing = relayEvent('rel-click', {
        event_source_url: 'http://127.0.0.1/landing?fbclid=IwAR_kitPage',
      });
      const headers = {
        referer: `${app.url}/`,
        cookie: `_fbp=${KNOWN_FBP}`,
        'x-forwarded-for': '203.0.113.11',
      };
      const res = await beacon(app, payload(landing), headers);
      expect(res.status).toBe(204);
      const fbcCookies = (answer: Response) =>
        answer.headers.getSetCookie().filter((cookie) => cookie.startsWith('_fbc='));
      const [cookie, ...more] = fbcCookies(res);
      expect(more).toEqual([]);
      // A host-only cookie on an IP host, subdomain index 0, for 90 days.
      expect(cookie).toMatch(
        /^_fbc=fb\.0\.\d{13}\.IwAR_kitPage; Max-Age=7776000; Path=\/; SameSite=Lax$/,
      );
      const value = cookie?.split(';', 1)[0]?.slice('_fbc='.length);
      const [received] = await kit.mock.waitForEvents(1);
      expect(received?.event.user_data).toMatchObject({ fbc: value });
      // Once the browser holds it, it is kept as it is: not rewritten with a new time.
      const again = await beacon(app, payload({ ...landing, event_id: 'rel-click-2' }), {
        ...headers,
        cookie: `_fbp=${KNOWN_FBP}; _fbc=${value}`,
      });
      expect(again.status).toBe(204);
      expect(fbcCookies(again)).toEqual([]);
      await app.client.flush();
      expect(kit.mock.events().map((sent) => sent.event.user_data)).toEqual([
        expect.objectContaining({ fbc: value }),
        expect.objectContaining({ fbc: value }),
      ]);
    });

    it('takes a text/plain beacon, refuses form encodings with 415', async () => {
      const plain = await beacon(app, payload(relayEvent('rel-text')), {
        'content-type': 'text/plain;charset=UTF-8',
        'x-forwarded-for': '203.0.113.8',
      });
      expect(plain.status).toBe(204);
      const form = await beacon(app, 'a=b', {
        'content-type': 'application/x-www-form-urlencoded',
        'x-forwarded-for': '203.0.113.8',
      });
      expect(form.status).toBe(415);
      const [received] = await kit.mock.waitForEvents(1);
      expect(received?.event.event_id).toBe('rel-text');
    });

    it('refuses a cross-site POST with 403 and forwards nothing', async () => {
      const res = await beacon(app, payload(relayEvent('evil')), {
        'sec-fetch-site': 'cross-site',
        origin: 'https://evil.example',
        'x-forwarded-for': '203.0.113.9',
      });
      expect(res.status).toBe(403);
      expect(await res.json()).toEqual({ error: 'cross_site' });
      await app.client.flush();
      expect(kit.mock.events()).toEqual([]);
    });

    it('limits a flood from one IP with 429 + Retry-After, and not another IP', async () => {
      const statuses: number[] = [];
      for (let i = 0; i < 7; i++) {
        const res = await beacon(app, payload(relayEvent(`flood-${i}`)), {
          'x-forwarded-for': '198.51.100.1',
        });
        statuses.push(res.status);
        if (res.status === 429) expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
      }
      expect(statuses).toEqual([204, 204, 204, 204, 204, 429, 429]);
      const other = await beacon(app, payload(relayEvent('other-ip')), {
        'x-forwarded-for': '198.51.100.2',
      });
      expect(other.status).toBe(204);
      await app.client.flush();
      expect(kit.mock.uniqueEventIds().sort()).toEqual(
        ['flood-0', 'flood-1', 'flood-2', 'flood-3', 'flood-4', 'other-ip'].sort(),
      );
    });

    it('answers 413 to a body over 64 KiB, declared or chunked (closing that connection)', async () => {
      const huge = payload(
        relayEvent('huge', { custom_data: { content_name: 'x'.repeat(70_000) } }),
      );
      const declared = await beacon(app, huge, { 'x-forwarded-for': '203.0.113.10' });
      expect(declared.status).toBe(413);
      expect(await declared.json()).toEqual({ error: 'body_too_large' });
      const chunked = await chunkedFlood(app);
      expect(chunked.status).toBe(413);
      if (kit.driver.relayKeepsOversizedConnections !== true)
        expect(chunked.connection).toBe('close');
    });

    it("answers 405 to other methods and leaves the app's routes and parsers alone", async () => {
      if (kit.driver.relayAnswersOtherMethods !== false) {
        const get = await send(app, '/capi/events', {
          headers: { 'sec-fetch-site': 'same-origin' },
        });
        expect(get.status).toBe(405);
        expect(get.headers.get('allow')).toBe('POST');
      }
      const other = await send(app, '/capi/other', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"n":3}',
      });
      expect(await other.json()).toEqual({ n: 3 });
    });
  });

  describe.each(variants)('the relay 64 KiB cap: $name', (variant) => {
    let app: KitApp;
    beforeAll(async () => {
      app = await kit.start({ relay: { rateLimit: false } }, variant.name);
    });
    afterAll(() => app?.close());

    /** Posts `text` chunked (no Content-Length) or with one; the answer and what was tracked. */
    const post = async (text: string, chunked: boolean) => {
      const before = app.client.stats().dedup.relay;
      const res = await relayPost(app, text, chunked);
      await app.client.flush();
      const stats = app.client.stats();
      // Every event the relay handed over was delivered: none queued, dropped or dead-lettered.
      expect(stats.sent).toBe(stats.dedup.relay);
      expect(stats.queued + stats.inFlight + stats.deadLettered).toBe(0);
      expect(droppedOf(app.client)).toBe(0);
      return { res, tracked: stats.dedup.relay - before };
    };

    it.each([
      ['chunked', true],
      ['with Content-Length', false],
    ])('refuses a 90 KiB body sent %s: 413, nothing tracked or sent', async (_how, chunked) => {
      const { res, tracked } = await post(bodyOf(90 * 1024), chunked);
      expect(res.status).toBe(413);
      expect(await res.json()).toEqual({ error: 'body_too_large' });
      expect(tracked).toBe(0);
      expect(kit.mock.events()).toEqual([]);
    });

    it.each([
      ['chunked', true],
      ['with Content-Length', false],
    ])('accepts a body just under the cap sent %s', async (_how, chunked) => {
      const text = bodyOf(UNDER_CAP);
      expect(byteLength(text)).toBeLessThanOrEqual(CAP);
      const { res, tracked } = await post(text, chunked);
      expect(res.status).toBe(204);
      expect(tracked).toBe(1);
      expect(kit.mock.uniqueEventIds()).toEqual(['cap']);
    });

    it('refuses a short body that re-serializes over the cap (1e20 → 21 bytes)', async () => {
      const text = expandingBody();
      expect(byteLength(text)).toBeLessThan(20 * 1024);
      for (const chunked of [true, false]) {
        const { res, tracked } = await post(text, chunked);
        expect(res.status).toBe(413);
        expect(tracked).toBe(0);
      }
      expect(kit.mock.events()).toEqual([]);
    });

    it('escaped unicode over the cap on the wire: refused where the relay reads the bytes, measured as JSON where a parser kept only the value', async () => {
      const text = escapedBody();
      expect(byteLength(text)).toBeGreaterThan(88 * 1024);
      const withLength = await post(text, false);
      expect(withLength.res.status).toBe(413);
      const chunked = await post(text, true);
      // A JSON parser in front that kept no bytes leaves ~30 KiB of JSON, under the cap.
      expect(chunked.res.status).toBe(variant.parsesJsonFirst ? 204 : 413);
      expect(chunked.tracked).toBe(variant.parsesJsonFirst ? 1 : 0);
      expect(kit.mock.uniqueEventIds()).toEqual(variant.parsesJsonFirst ? ['escaped'] : []);
    });
  });

  describe('the relay path', () => {
    it('serves the relay on a custom path, and not at all without `relay`', async () => {
      const custom = await kit.start({ relay: { path: '/t/e' }, flushIntervalMs: 20 });
      const none = await kit.start({ flushIntervalMs: 20 });
      try {
        expect((await beacon(custom, payload(relayEvent('p1')), {}, '/t/e')).status).toBe(204);
        expect((await beacon(none, payload(relayEvent('p2')))).status).toBe(404);
        const [received] = await kit.mock.waitForEvents(1);
        expect(received?.event.event_id).toBe('p1');
      } finally {
        await custom.close();
        await none.close();
      }
    });

    it('answers a beacon while every Graph request hangs: the relay never waits for Meta', async () => {
      kit.mock.outage('hang');
      const app = await kit.start({ relay: true, timeoutMs: 60_000 });
      try {
        // Meta would answer in 60 s at the earliest: an answer at all shows nobody waited.
        const res = await beacon(app, payload(relayEvent('fast')));
        expect(res.status).toBe(204);
        expect(app.client.stats().inFlight + app.client.stats().queued).toBe(1);
      } finally {
        kit.mock.recover();
        const closing = app.client.close({ timeoutMs: 100 });
        await app.close();
        await closing;
      }
    });
  });
}
