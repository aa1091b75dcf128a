import { request as httpRequest } from 'node:http';
import { type MockGraph, startMockGraph } from '@capi-kit/testing';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type CapiFastifyOptions, capiPlugin } from '../src/index.js';
import { capiOptions, KNOWN_FBP, listen, MAJORS, PIXEL_ID, type Running, UA } from './fixtures.js';

const FBC = 'fb.0.1700000000001.IwAR_relay';

let mock: MockGraph;
beforeAll(async () => {
  mock = await startMockGraph();
});
beforeEach(() => mock.reset());
afterAll(() => mock.close());

const relayEvent = (event_id: string, extra: Record<string, unknown> = {}) => ({
  event_name: 'AddToCart',
  event_id,
  event_time: Math.floor(Date.now() / 1000),
  event_source_url: 'http://127.0.0.1/product/1',
  custom_data: { value: 9.5, currency: 'EUR', content_ids: ['sku-1'], secret: 'dropped' },
  ...extra,
});

const payload = (...events: unknown[]) => ({ v: 1, pixel_id: PIXEL_ID, events });

/** POSTs a relay body the way `@capi-kit/browser`'s beacon does, from a page of the app itself. */
function beacon(
  running: Running,
  body: unknown,
  headers: Record<string, string> = {},
  path = '/capi/events',
) {
  return running.request(path, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'sec-fetch-site': 'same-origin',
      origin: running.url,
      referer: `${running.url}/product/1`,
      cookie: `_fbp=${KNOWN_FBP}; _fbc=${FBC}`,
      'x-forwarded-for': '203.0.113.7',
      ...headers,
    },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

const CAP = 64 * 1024;
/** A body's size just under the 64 KiB cap. */
const UNDER_CAP = CAP - 400;
const byteLength = (text: string) => new TextEncoder().encode(text).byteLength;

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

/** POSTs a relay body chunked (a stream, so no Content-Length) or with its length. */
function relayPost(running: Running, text: string, chunked: boolean) {
  const body = chunked ? new Blob([text]).stream() : text;
  return running.request('/capi/events', {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'sec-fetch-site': 'same-origin',
      origin: running.url,
      'x-forwarded-for': '203.0.113.20',
    },
    body,
    ...(chunked ? { duplex: 'half' } : {}),
  } as RequestInit & { headers: Record<string, string> });
}

describe.each(MAJORS)('$name: relay option', ({ fastify }) => {
  const start = async (relay: CapiFastifyOptions['relay']) => {
    const app: FastifyInstance = fastify();
    await app.register(capiPlugin, capiOptions(mock, { relay, flushIntervalMs: 20 }));
    // The app's own JSON route keeps Fastify's JSON parser: the relay's parser is scoped.
    app.post<{ Body: { n: number } }>('/capi/other', async (request) => ({ n: request.body.n }));
    const running = await listen(app);
    return { app, running };
  };

  let app: FastifyInstance;
  let running: Running;
  const identified: unknown[] = [];
  beforeAll(async () => {
    ({ app, running } = await start({
      identify: async (request) => {
        identified.push(request.headers['x-user']);
        return request.headers['x-user'] === undefined
          ? undefined
          : { external_id: String(request.headers['x-user']) };
      },
      rateLimit: { eventsPerMinute: 60, burst: 5 },
    }));
  });
  afterAll(() => app.close());

  it('answers a same-origin beacon 204 and forwards it with the same event_id, enriched', async () => {
    const res = await beacon(running, payload(relayEvent('rel-1')), { 'x-user': 'u-1' });
    expect(res.status).toBe(204);
    expect(await res.text()).toBe('');
    const [received] = await mock.waitForEvents(1);
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
    expect(app.capiClient.stats().dedup.relay).toBeGreaterThanOrEqual(1);
  });

  it('takes text/plain and no content type, refuses form encodings with 415', async () => {
    const plain = await beacon(running, payload(relayEvent('rel-text')), {
      'content-type': 'text/plain;charset=UTF-8',
      'x-forwarded-for': '203.0.113.8',
    });
    expect(plain.status).toBe(204);
    const form = await beacon(running, 'a=b', {
      'content-type': 'application/x-www-form-urlencoded',
      'x-forwarded-for': '203.0.113.8',
    });
    expect(form.status).toBe(415);
    const [received] = await mock.waitForEvents(1);
    expect(received?.event.event_id).toBe('rel-text');
  });

  it('refuses a cross-site POST with 403 and forwards nothing', async () => {
    const res = await beacon(running, payload(relayEvent('evil')), {
      'sec-fetch-site': 'cross-site',
      origin: 'https://evil.example',
      'x-forwarded-for': '203.0.113.9',
    });
    expect(res.status).toBe(403);
    expect(await res.json()).toEqual({ error: 'cross_site' });
    await app.capiClient.flush();
    expect(mock.events()).toEqual([]);
  });

  it('limits a flood from one IP with 429 + Retry-After, and not another IP', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++) {
      const res = await beacon(running, payload(relayEvent(`flood-${i}`)), {
        'x-forwarded-for': '198.51.100.1',
      });
      statuses.push(res.status);
      if (res.status === 429) expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
    }
    expect(statuses).toEqual([204, 204, 204, 204, 204, 429, 429]);
    const other = await beacon(running, payload(relayEvent('other-ip')), {
      'x-forwarded-for': '198.51.100.2',
    });
    expect(other.status).toBe(204);
    await app.capiClient.flush();
    expect(mock.uniqueEventIds().sort()).toEqual(
      ['flood-0', 'flood-1', 'flood-2', 'flood-3', 'flood-4', 'other-ip'].sort(),
    );
  });

  it('answers 413 to a body over 64 KiB, declared or chunked', async () => {
    const huge = payload(relayEvent('huge', { custom_data: { content_name: 'x'.repeat(70_000) } }));
    const res = await beacon(running, huge, { 'x-forwarded-for': '203.0.113.10' });
    expect(res.status).toBe(413);
    expect(await res.json()).toEqual({ error: 'body_too_large' });
    const { port } = new URL(running.url);
    const chunked = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(
        {
          host: '127.0.0.1',
          port,
          method: 'POST',
          path: '/capi/events',
          headers: { 'content-type': 'application/json', 'sec-fetch-site': 'same-origin' },
        },
        (response) => {
          response.resume();
          resolve(response.statusCode ?? 0);
        },
      );
      req.on('error', reject);
      for (let i = 0; i < 10; i++) req.write('x'.repeat(16 * 1024));
      req.end();
    });
    expect(chunked).toBe(413);
  });

  describe.each([
    ["with Fastify's JSON parser", false],
    ["after the app's own JSON parser (1 MiB limit)", true],
  ])('the 64 KiB cap %s', (_label, ownParser) => {
    let capped: FastifyInstance;
    let cappedRunning: Running;
    beforeAll(async () => {
      capped = fastify();
      if (ownParser) {
        // Registered before the plugin, with a limit far above the relay's: the relay route
        // still reads with its own parser and cap.
        capped.addContentTypeParser(
          'application/json',
          { parseAs: 'string', bodyLimit: 1024 * 1024 },
          (_request, body, done) => done(null, JSON.parse(String(body))),
        );
      }
      await capped.register(capiPlugin, capiOptions(mock, { relay: { rateLimit: false } }));
      cappedRunning = await listen(capped);
    });
    afterAll(() => capped.close());

    /** Posts `text` chunked (no Content-Length) or with one; the answer and what was tracked. */
    const post = async (text: string, chunked: boolean) => {
      const before = capped.capiClient.stats().dedup.relay;
      const res = await relayPost(cappedRunning, text, chunked);
      await capped.capiClient.flush();
      const stats = capped.capiClient.stats();
      // Every event the relay handed over was delivered: none queued, dropped or dead-lettered.
      expect(stats.sent).toBe(stats.dedup.relay);
      expect(stats.queued + stats.inFlight + stats.deadLettered).toBe(0);
      expect(Object.values(stats.dropped).reduce((a, b) => a + b, 0)).toBe(0);
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
      expect(mock.events()).toEqual([]);
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
      expect(mock.uniqueEventIds()).toEqual(['cap']);
    });

    it('refuses a short body that re-serializes over the cap (1e20 → 21 bytes)', async () => {
      const text = expandingBody();
      expect(byteLength(text)).toBeLessThan(20 * 1024);
      const { res, tracked } = await post(text, true);
      expect(res.status).toBe(413);
      expect(tracked).toBe(0);
      expect(mock.events()).toEqual([]);
    });

    it('refuses escaped unicode over the cap on the wire, chunked or not: the relay reads the bytes', async () => {
      const text = escapedBody();
      expect(byteLength(text)).toBeGreaterThan(88 * 1024);
      for (const chunked of [false, true]) {
        const { res, tracked } = await post(text, chunked);
        expect(res.status).toBe(413);
        expect(tracked).toBe(0);
      }
      expect(mock.events()).toEqual([]);
    });
  });

  it("answers 405 to other methods and leaves the app's parsers alone", async () => {
    const get = await running.request('/capi/events', {
      headers: { 'sec-fetch-site': 'same-origin' },
    });
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');
    const other = await running.request('/capi/other', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"n":3}',
    });
    expect(await other.json()).toEqual({ n: 3 });
  });

  it('registers the relay on a custom path, and no route without `relay`', async () => {
    const custom = await start({ path: '/t/e' });
    const none = await start(undefined);
    try {
      expect((await beacon(custom.running, payload(relayEvent('p1')), {}, '/t/e')).status).toBe(
        204,
      );
      expect((await beacon(none.running, payload(relayEvent('p2')))).status).toBe(404);
      const [received] = await mock.waitForEvents(1);
      expect(received?.event.event_id).toBe('p1');
    } finally {
      await custom.app.close();
      await none.app.close();
    }
  });
});
