import { request as httpRequest } from 'node:http';
import { type MockGraph, startMockGraph } from '@capi-kit/testing';
import { Controller, Get, Module } from '@nestjs/common';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CapiModule, type CapiModuleOptions } from '../src/index.js';
import { capiOptions, PIXEL_ID, PLATFORMS, type RunningApp, startApp, UA } from './fixtures.js';

const FBP = 'fb.0.1700000000000.123456789';
const FBC = 'fb.0.1700000000001.IwAR_relay';

let mock: MockGraph;
beforeAll(async () => {
  mock = await startMockGraph();
});
afterAll(() => mock?.close());
beforeEach(() => mock.reset());

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
const beacon = (
  running: RunningApp,
  body: unknown,
  headers: Record<string, string> = {},
  path = '/capi/events',
) =>
  running.request(path, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'sec-fetch-site': 'same-origin',
      origin: running.url,
      cookie: `_fbp=${FBP}; _fbc=${FBC}`,
      'x-forwarded-for': '203.0.113.7',
      ...headers,
    },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });

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
function relayPost(running: RunningApp, text: string, chunked: boolean) {
  const body = chunked ? new Blob([text]).stream() : text;
  return fetch(`${running.url}/capi/events`, {
    method: 'POST',
    headers: {
      'user-agent': UA,
      'content-type': 'application/json',
      'sec-fetch-site': 'same-origin',
      origin: running.url,
      'x-forwarded-for': '203.0.113.20',
    },
    body,
    ...(chunked ? { duplex: 'half' } : {}),
  } as RequestInit);
}

@Controller()
class ShopController {
  @Get('shop')
  shop() {
    return { ok: true };
  }
}

const appModule = (options: CapiModuleOptions) => {
  @Module({ imports: [CapiModule.forRoot(options)], controllers: [ShopController] })
  class AppModule {}
  return AppModule;
};

describe.each(PLATFORMS)('CapiModule.forRoot({ relay }) on %s', (platform) => {
  let running: RunningApp;
  const identified: unknown[] = [];
  beforeAll(async () => {
    running = await startApp(platform, {
      imports: [
        appModule(
          capiOptions(mock, {
            flushIntervalMs: 20,
            relay: {
              identify: (req) => {
                identified.push(req.headers['x-user']);
                const user = req.headers['x-user'];
                return typeof user === 'string' ? { external_id: user } : undefined;
              },
              rateLimit: { eventsPerMinute: 60, burst: 5 },
            },
          }),
        ),
      ],
    });
  });
  afterAll(() => running?.app.close());

  it('answers a same-origin beacon 204 and forwards it with the same event_id, enriched', async () => {
    const res = await beacon(running, payload(relayEvent('rel-1')), { 'x-user': 'u-1' });
    expect(res.status).toBe(204);
    expect(await res.text()).toBe('');
    const [received] = await mock.waitForEvents(1);
    expect(received?.event).toMatchObject({
      event_name: 'AddToCart',
      event_id: 'rel-1',
      action_source: 'website',
      event_source_url: 'http://127.0.0.1/product/1',
      user_data: {
        client_ip_address: '203.0.113.7',
        client_user_agent: UA,
        fbp: FBP,
        fbc: FBC,
        external_id: [expect.stringMatching(/^[0-9a-f]{64}$/)],
      },
      custom_data: { value: 9.5, currency: 'EUR', content_ids: ['sku-1'] },
    });
    expect(received?.event.custom_data).not.toHaveProperty('secret');
    expect(identified.at(-1)).toBe('u-1');
    expect(running.client.stats().dedup.relay).toBeGreaterThanOrEqual(1);
  });

  it('takes a text/plain beacon too', async () => {
    const res = await beacon(running, payload(relayEvent('rel-text')), {
      'content-type': 'text/plain;charset=UTF-8',
      'x-forwarded-for': '203.0.113.8',
    });
    expect(res.status).toBe(204);
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
    await running.client.flush();
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
    await running.client.flush();
    expect(mock.uniqueEventIds().sort()).toEqual(
      ['flood-0', 'flood-1', 'flood-2', 'flood-3', 'flood-4', 'other-ip'].sort(),
    );
  });

  it('answers 413 to a body over 64 KiB, declared or chunked', async () => {
    const huge = payload(relayEvent('huge', { custom_data: { content_name: 'x'.repeat(70_000) } }));
    const res = await beacon(running, huge, { 'x-forwarded-for': '203.0.113.10' });
    expect(res.status).toBe(413);
    const { port } = new URL(running.url);
    const chunked = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(
        {
          host: '127.0.0.1',
          port,
          method: 'POST',
          path: '/capi/events',
          headers: { 'content-type': 'text/plain', 'sec-fetch-site': 'same-origin' },
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

  it('answers 405 to other methods and leaves the app routes alone', async () => {
    const get = await running.request('/capi/events', {
      headers: { 'sec-fetch-site': 'same-origin' },
    });
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');
    const shop = await running.request('/shop');
    expect(await shop.json()).toEqual({ ok: true });
  });
});

describe.each(PLATFORMS)('CapiModule relay paths on %s', (platform) => {
  it('serves a custom path, and nothing without `relay`', async () => {
    const custom = await startApp(platform, {
      imports: [appModule(capiOptions(mock, { flushIntervalMs: 20, relay: { path: '/t/e' } }))],
    });
    const none = await startApp(platform, {
      imports: [appModule(capiOptions(mock, { flushIntervalMs: 20 }))],
    });
    try {
      expect((await beacon(custom, payload(relayEvent('p1')), {}, '/t/e')).status).toBe(204);
      expect((await beacon(none, payload(relayEvent('p2')))).status).toBe(404);
      const [received] = await mock.waitForEvents(1);
      expect(received?.event.event_id).toBe('p1');
    } finally {
      await custom.app.close();
      await none.app.close();
    }
  });
});

// Nest on Express parses JSON before middleware run (unless `bodyParser: false`) and keeps the raw
// bytes only with `rawBody: true`; on Fastify, middleware run before any parser, on the stream.
describe.each([
  ['express', "Nest's JSON parser", {}, true],
  ['express', 'rawBody: true', { rawBody: true }, false],
  ['express', 'bodyParser: false', { bodyParser: false }, false],
  ['fastify', "Nest's JSON parser", {}, false],
  ['fastify', 'rawBody: true', { rawBody: true }, false],
] as const)('the relay 64 KiB cap on %s with %s', (platform, _label, nestOptions, parsedFirst) => {
  let running: RunningApp;
  beforeAll(async () => {
    running = await startApp(
      platform,
      { imports: [appModule(capiOptions(mock, { relay: { rateLimit: false } }))] },
      false,
      nestOptions,
    );
  });
  afterAll(() => running?.app.close());

  /** Posts `text` chunked (no Content-Length) or with one; the answer and what was tracked. */
  const post = async (text: string, chunked: boolean) => {
    const before = running.client.stats().dedup.relay;
    const res = await relayPost(running, text, chunked);
    await running.client.flush();
    const stats = running.client.stats();
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

  it('escaped unicode over the cap on the wire: refused unless a parser kept only the value', async () => {
    const text = escapedBody();
    expect(byteLength(text)).toBeGreaterThan(88 * 1024);
    const withLength = await post(text, false);
    expect(withLength.res.status).toBe(413);
    const chunked = await post(text, true);
    // Only Nest's Express JSON parser without rawBody leaves nothing but ~30 KiB of JSON.
    expect(chunked.res.status).toBe(parsedFirst ? 204 : 413);
    expect(chunked.tracked).toBe(parsedFirst ? 1 : 0);
    expect(mock.uniqueEventIds()).toEqual(parsedFirst ? ['escaped'] : []);
  });
});
