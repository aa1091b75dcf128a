import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createCapiAdapter } from '../../src/adapter/index.js';
import type { NodeRequestLike } from '../../src/context/index.js';
import type { Destination, DestinationBuildContext } from '../../src/delivery/destination.js';
import { type CapiClient, createCapi } from '../../src/delivery/index.js';
import type { CapiOptions, ErrorInfo } from '../../src/delivery/types.js';
import { KNOWN_KEYS } from '../../src/event/custom-data.js';
import { type ServerEventInput, STANDARD_EVENTS } from '../../src/event/index.js';
import {
  type CreateRelayOptions,
  createRelay,
  DEFAULT_RELAY_CUSTOM_DATA_KEYS,
  type RelayInput,
  type RelayRateLimiter,
} from '../../src/relay/index.js';
import { captureLogger, PIXEL, PIXEL_2, scriptedFetch, TOKEN } from '../delivery/helpers.js';

const SITE = 'https://shop.example';
const UA = 'Mozilla/5.0 (X11; Linux x86_64) capi-kit-relay-test/1.0';
const FBP = 'fb.1.1700000000000.123456789';
const FBC = 'fb.1.1700000000001.IwAR_click';
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

interface Harness {
  client: CapiClient;
  relay: ReturnType<typeof createRelay<NodeRequestLike>>;
  errors: ErrorInfo[];
  /** Flushes the client and returns every event Meta got, with the pixel it went to. */
  sent(): Promise<{ pixelId: string; event: Record<string, unknown> }[]>;
  clock: { t: number };
}

const clients: CapiClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close({ timeoutMs: 100 })));
});

function harness(
  relayOptions: Partial<CreateRelayOptions<NodeRequestLike>> = {},
  capiOptions: CapiOptions = {},
): Harness {
  const { fetch, seen } = scriptedFetch();
  const client = createCapi({
    pixelId: PIXEL,
    accessToken: TOKEN,
    fetch,
    env: false,
    flushIntervalMs: 60_000,
    ...capiOptions,
  });
  clients.push(client);
  const errors: ErrorInfo[] = [];
  client.on('error', (e) => errors.push(e));
  const clock = { t: Date.now() };
  const relay = createRelay<NodeRequestLike>({
    client,
    requestContext: { trustProxy: 'loopback' },
    now: () => clock.t,
    ...relayOptions,
  });
  return {
    client,
    relay,
    errors,
    clock,
    async sent() {
      await client.flush();
      return seen.flatMap((r) =>
        r.body.data.map((event) => ({
          pixelId: /\/(\d+)\/events/.exec(r.url)?.[1] ?? '',
          event: event as Record<string, unknown>,
        })),
      );
    },
  };
}

const nowSeconds = () => Math.floor(Date.now() / 1000);

const event = (extra: Record<string, unknown> = {}) => ({
  event_name: 'AddToCart',
  event_id: 'evt-1',
  event_time: nowSeconds(),
  event_source_url: `${SITE}/product/1`,
  custom_data: { value: 19.9, currency: 'EUR', content_ids: ['sku-1'], content_type: 'product' },
  ...extra,
});

const payload = (events: unknown[] = [event()], extra: Record<string, unknown> = {}) => ({
  v: 1,
  pixel_id: PIXEL,
  events,
  ...extra,
});

interface RequestSpec {
  method?: string;
  headers?: Record<string, string>;
  ip?: string;
  host?: string;
  body?: unknown;
}

/** A same-origin beacon from a page of SITE, as Chromium sends it (through a loopback proxy). */
function request(spec: RequestSpec = {}): RelayInput<NodeRequestLike> {
  const headers: Record<string, string> = {
    host: spec.host ?? 'shop.example',
    'content-type': 'application/json',
    'sec-fetch-site': 'same-origin',
    origin: SITE,
    referer: `${SITE}/product/1`,
    'user-agent': UA,
    cookie: `_fbp=${FBP}; _fbc=${FBC}`,
    'x-forwarded-for': spec.ip ?? '203.0.113.7',
    'x-forwarded-proto': 'https',
  };
  for (const [name, value] of Object.entries(spec.headers ?? {})) {
    if (value === '') delete headers[name];
    else headers[name] = value;
  }
  const body = spec.body === undefined ? payload() : spec.body;
  return {
    request: {
      method: spec.method ?? 'POST',
      url: '/capi/events',
      headers,
      remoteAddress: '127.0.0.1',
    },
    body: typeof body === 'string' || body instanceof Uint8Array ? body : JSON.stringify(body),
  };
}

/**
 * A beacon from a page of www.shop.example to a relay on api.shop.example: same-site, and the
 * browser's default referrer policy leaves it an origin-only Referer, so the events' page URLs are
 * all it knows of the visitor's click.
 */
function siteBeacon(events: unknown[], cookie = ''): RelayInput<NodeRequestLike> {
  return request({
    host: 'api.shop.example',
    headers: {
      cookie,
      'sec-fetch-site': 'same-site',
      origin: 'https://www.shop.example',
      referer: 'https://www.shop.example/',
    },
    body: payload(events),
  });
}

/** Another platform (`acme:A1`) that answers success, showing `seen` each event it builds. */
function acmeDestination(
  seen: (input: ServerEventInput, context: DestinationBuildContext) => void,
  needs?: Destination['context'],
): Destination {
  return {
    name: 'acme',
    id: 'A1',
    build: (input, context) => {
      seen(input, context);
      return {
        event: { id: context.eventId },
        issues: [],
        eventName: 'x',
        eventTime: Math.floor(Date.now() / 1000),
      };
    },
    envelope: () => ({ url: 'https://acme.example/collect', prefix: '{"data":[', suffix: ']}' }),
    limits: { maxEvents: 10, maxBytes: 100_000 },
    classify: () => ({ class: 'success' }),
    acknowledgement: () => ({}),
    ...(needs === undefined ? {} : { context: needs }),
  };
}

describe('createRelay: a first-party request', () => {
  it('answers 204 and tracks the event with the browser event_id, enriched from the request', async () => {
    const h = harness();
    const answer = await h.relay.handle(request());
    expect(answer).toEqual({ status: 204, headers: { 'cache-control': 'no-store' }, cookies: [] });
    const [sent, ...rest] = await h.sent();
    expect(rest).toEqual([]);
    expect(sent?.pixelId).toBe(PIXEL);
    expect(sent?.event).toMatchObject({
      event_name: 'AddToCart',
      event_id: 'evt-1',
      action_source: 'website',
      event_source_url: `${SITE}/product/1`,
      user_data: {
        client_ip_address: '203.0.113.7',
        client_user_agent: UA,
        fbp: FBP,
        fbc: FBC,
      },
      custom_data: {
        value: 19.9,
        currency: 'EUR',
        content_ids: ['sku-1'],
        content_type: 'product',
      },
    });
    expect(h.relay.stats()).toMatchObject({
      requests: 1,
      accepted: 1,
      events: { received: 1, tracked: 1 },
    });
  });

  it('counts relayed events apart from server events in the client dedup accounting', async () => {
    const h = harness();
    await h.relay.handle(
      request({ body: payload([event(), event({ event_name: 'PageView', event_id: 'pv-1' })]) }),
    );
    const user_data = { em: 'a@b.co', client_user_agent: UA };
    h.client.track({ event_name: 'Lead', event_source_url: SITE, user_data });
    h.client.track({ event_name: 'Lead', event_id: 'lead-1', event_source_url: SITE, user_data });
    expect(h.client.stats().dedup).toEqual({ server: 2, relay: 2, withEventId: 3 });
    const diagnostics = h.client.diagnostics().pixels[PIXEL];
    expect(diagnostics?.events.PageView?.sources).toEqual({ server: 0, relay: 1 });
  });

  it('tracks events of one request in firing order and never waits for Meta', async () => {
    const h = harness({}, { fetch: () => new Promise(() => {}) });
    const answer = await h.relay.handle(
      request({
        body: payload([
          event({ event_name: 'PageView', event_id: 'a', custom_data: undefined }),
          event({ event_id: 'b' }),
        ]),
      }),
    );
    expect(answer.status).toBe(204);
    expect(h.client.stats().queued).toBe(2);
  });

  it('accepts the Node shape, a Web Request, bytes, text/plain and an already parsed body', async () => {
    const h = harness();
    const bytes = new TextEncoder().encode(JSON.stringify(payload([event({ event_id: 'bytes' })])));
    expect((await h.relay.handle({ ...request(), body: bytes })).status).toBe(204);
    const plain = request({
      headers: { 'content-type': 'text/plain;charset=UTF-8' },
      body: payload([event({ event_id: 'text' })]),
    });
    expect((await h.relay.handle(plain)).status).toBe(204);
    const parsed = request();
    expect(
      (
        await h.relay.handle({
          request: parsed.request,
          parsedBody: payload([event({ event_id: 'parsed' })]),
        })
      ).status,
    ).toBe(204);
    const web = new Request(`${SITE}/capi/events`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'sec-fetch-site': 'same-origin',
        'user-agent': UA,
        cookie: `_fbp=${FBP}`,
      },
      body: JSON.stringify(payload([event({ event_id: 'web' })])),
    });
    const response = await createRelay({ client: h.client }).handleRequest(web, {
      remoteAddress: '198.51.100.4',
    });
    expect(response.status).toBe(204);
    const ids = (await h.sent()).map((s) => s.event.event_id);
    expect(ids).toEqual(['bytes', 'text', 'parsed', 'web']);
    const web4 = (await h.sent()).find((s) => s.event.event_id === 'web');
    expect(web4?.event.user_data).toMatchObject({ client_ip_address: '198.51.100.4', fbp: FBP });
  });

  it('hands the flush to a request-scoped waitUntil (serverless)', async () => {
    const h = harness();
    const kept: Promise<unknown>[] = [];
    await h.relay.handle({ ...request(), waitUntil: (promise) => kept.push(promise) });
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(kept).toHaveLength(1);
    await kept[0];
    expect(h.client.stats().sent).toBe(1);
  });

  it('handleRequest sets the _fbp it minted for a browser that had none', async () => {
    const h = harness();
    const web = new Request(`${SITE}/capi/events`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'sec-fetch-site': 'same-origin',
        'user-agent': UA,
      },
      body: JSON.stringify(payload()),
    });
    const response = await createRelay({ client: h.client }).handleRequest(web);
    expect(response.status).toBe(204);
    const [cookie] = response.headers.getSetCookie();
    expect(cookie).toMatch(/^_fbp=fb\.1\.\d{13}\.\d+; /);
    const [sent] = await h.sent();
    expect(sent?.event.user_data).toMatchObject({ fbp: cookie?.slice(5, cookie.indexOf(';')) });
  });
});

describe('createRelay: first-party checks', () => {
  it.each([
    ['same-origin', 204],
    ['same-site', 204],
    ['cross-site', 403],
    ['none', 403],
    ['bogus', 403],
  ])('Sec-Fetch-Site: %s → %i', async (site, status) => {
    const h = harness();
    // Fetch Metadata decides even when Origin says otherwise.
    const answer = await h.relay.handle(
      request({ headers: { 'sec-fetch-site': site, origin: 'https://evil.example' } }),
    );
    expect(answer.status).toBe(status);
    if (status === 403) {
      expect(answer.body).toBe('{"error":"cross_site"}');
      expect(await h.sent()).toEqual([]);
    }
  });

  it.each([
    ['https://shop.example', 'shop.example', 204],
    ['https://www.shop.example', 'shop.example', 204],
    ['http://shop.example', 'shop.example', 204],
    ['https://a.example.co.uk', 'b.example.co.uk', 204],
    ['https://evil.example', 'shop.example', 403],
    ['https://shop.example.evil.example', 'shop.example', 403],
    ['https://a.vercel.app', 'b.vercel.app', 403],
    ['http://localhost:3000', '127.0.0.1:3000', 403],
    ['http://127.0.0.1:4000', '127.0.0.1:3000', 204],
    ['null', 'shop.example', 403],
    ['file://', 'shop.example', 403],
  ])('without Fetch Metadata, Origin %s on host %s → %i', async (origin, host, status) => {
    const h = harness();
    const answer = await h.relay.handle(
      request({ host, headers: { 'sec-fetch-site': '', origin, 'x-forwarded-proto': '' } }),
    );
    expect(answer.status).toBe(status);
  });

  it('refuses a request with neither Fetch Metadata nor Origin (not a page)', async () => {
    const h = harness();
    const answer = await h.relay.handle(request({ headers: { 'sec-fetch-site': '', origin: '' } }));
    expect(answer).toMatchObject({ status: 403, body: '{"error":"unknown_origin"}' });
    expect(h.relay.stats().refused.unknown_origin).toBe(1);
  });

  it('compares Origin to X-Forwarded-Host only behind a trusted proxy', async () => {
    const headers = {
      'sec-fetch-site': '',
      origin: 'https://shop.example',
      'x-forwarded-host': 'shop.example',
    };
    const trusted = harness();
    expect((await trusted.relay.handle(request({ host: 'internal:8080', headers }))).status).toBe(
      204,
    );
    const untrusted = harness({ requestContext: {} });
    expect((await untrusted.relay.handle(request({ host: 'internal:8080', headers }))).status).toBe(
      403,
    );
  });

  it("with forwardedHeader 'forwarded', compares Origin to Forwarded host= and not X-Forwarded-Host", async () => {
    const h = harness({ requestContext: { trustProxy: 'loopback', forwardedHeader: 'forwarded' } });
    const origin = { 'sec-fetch-site': '', origin: 'https://shop.example' };
    const viaForwarded = { ...origin, forwarded: 'for=198.51.100.7;host=shop.example' };
    expect(
      (await h.relay.handle(request({ host: 'internal:8080', headers: viaForwarded }))).status,
    ).toBe(204);
    // Its proxies write Forwarded only: an X-Forwarded-Host is the client's own.
    const spoofed = {
      ...origin,
      forwarded: 'for=198.51.100.7',
      'x-forwarded-host': 'shop.example',
    };
    expect(
      (await h.relay.handle(request({ host: 'internal:8080', headers: spoofed }))).status,
    ).toBe(403);
  });

  it('answers 405 with Allow: POST to other methods', async () => {
    const h = harness();
    for (const method of ['GET', 'PUT', 'OPTIONS']) {
      const answer = await h.relay.handle(request({ method }));
      expect(answer.status).toBe(405);
      expect(answer.headers.allow).toBe('POST');
    }
  });

  it('refuses form encodings (415) and accepts no content type', async () => {
    const h = harness();
    for (const type of ['application/x-www-form-urlencoded', 'multipart/form-data; boundary=x']) {
      expect((await h.relay.handle(request({ headers: { 'content-type': type } }))).status).toBe(
        415,
      );
    }
    expect((await h.relay.handle(request({ headers: { 'content-type': '' } }))).status).toBe(204);
  });
});

describe('createRelay: caps', () => {
  const big = (bytes: number) =>
    JSON.stringify(payload([event({ custom_data: { content_name: 'x'.repeat(bytes) } })]));

  it('refuses a body over 64 KiB with 413, however it arrives', async () => {
    const h = harness();
    const text = big(64 * 1024);
    expect((await h.relay.handle(request({ body: text }))).status).toBe(413);
    expect(
      (await h.relay.handle(request({ headers: { 'content-length': '70000' }, body: '{}' })))
        .status,
    ).toBe(413);
    expect((await h.relay.handle({ ...request(), bodyTooLarge: true })).status).toBe(413);
    const parsed = request({ headers: { 'content-length': '70000' } });
    expect((await h.relay.handle({ request: parsed.request, parsedBody: payload() })).status).toBe(
      413,
    );
    const stream = new Blob([text]).stream();
    expect((await h.relay.handle({ ...request(), body: stream })).status).toBe(413);
    expect(h.relay.stats().refused.body_too_large).toBe(5);
    expect(await h.sent()).toEqual([]);
  });

  it('accepts a body just under the cap, and honours maxBodyBytes', async () => {
    const h = harness();
    expect((await h.relay.handle(request({ body: big(60 * 1024) }))).status).toBe(204);
    const small = harness({ maxBodyBytes: 1024 });
    expect(small.relay.maxBodyBytes).toBe(1024);
    expect((await small.relay.handle(request({ body: big(2000) }))).status).toBe(413);
  });

  it('measures a body a parser already read as its JSON, chunked or not', async () => {
    const h = harness({ rateLimit: false });
    // No Content-Length (a chunked upload): nothing but the parsed value is left to measure.
    const parsed = (body: string) => ({
      request: request().request,
      parsedBody: JSON.parse(body) as unknown,
    });
    expect((await h.relay.handle(parsed(big(90 * 1024)))).status).toBe(413);
    expect(await h.sent()).toEqual([]);
    const under = big(64 * 1024 - 400);
    expect(new TextEncoder().encode(under).byteLength).toBeLessThanOrEqual(64 * 1024);
    expect((await h.relay.handle(parsed(under))).status).toBe(204);
    expect(await h.sent()).toHaveLength(1);
    expect(h.relay.stats().refused.body_too_large).toBe(1);
  });

  it('refuses a short body that expands when re-serialized, however it arrives', async () => {
    const h = harness({ rateLimit: false });
    // `1e20` is 4 bytes on the wire and 21 as JSON.stringify writes it: 20 KiB become ~100 KiB.
    const numbers = `[${Array.from({ length: 4000 }, () => '1e20').join(',')}]`;
    const wire = JSON.stringify(payload([event()])).replace('"evt-1"', `"evt-1","n":${numbers}`);
    expect(wire.length).toBeLessThan(20 * 1024);
    expect((await h.relay.handle(request({ body: wire }))).status).toBe(413);
    expect(
      (await h.relay.handle({ request: request().request, parsedBody: JSON.parse(wire) })).status,
    ).toBe(413);
    expect(await h.sent()).toEqual([]);
  });

  it('counts escaped unicode as it arrives when it reads the bytes, as JSON when a parser did', async () => {
    const h = harness({ rateLimit: false });
    // `\u00e9` is 6 bytes on the wire and `é` 2 as JSON: ~90 KiB received, ~30 KiB forwarded.
    const wire = big(0).replace(
      '"content_name":""',
      `"content_name":"${'\\u00e9'.repeat(15_000)}"`,
    );
    expect(wire.length).toBeGreaterThan(88 * 1024);
    expect((await h.relay.handle(request({ body: wire }))).status).toBe(413);
    expect(await h.sent()).toEqual([]);
    const answer = await h.relay.handle({
      request: request().request,
      parsedBody: JSON.parse(wire),
    });
    expect(answer.status).toBe(204);
    const [sent] = await h.sent();
    expect(sent?.event.custom_data).toEqual({ content_name: 'é'.repeat(15_000) });
  });

  it('closes the connection of a Node request whose body it stopped reading', async () => {
    const h = harness();
    const chunks = [new TextEncoder().encode(big(70 * 1024))];
    const node = Object.assign(
      (async function* () {
        yield* chunks;
      })(),
      { httpVersionMajor: 1 },
    );
    const answer = await h.relay.handle({ ...request(), body: node });
    expect(answer.status).toBe(413);
    expect(answer.headers.connection).toBe('close');
  });

  it('refuses more than 20 events per request with 413 and tracks none of them', async () => {
    const h = harness({ rateLimit: false });
    const many = (n: number) =>
      payload(Array.from({ length: n }, (_, i) => event({ event_id: `e-${i}` })));
    expect((await h.relay.handle(request({ body: many(21) }))).status).toBe(413);
    expect(await h.sent()).toEqual([]);
    expect((await h.relay.handle(request({ body: many(20) }))).status).toBe(204);
    expect(await h.sent()).toHaveLength(20);
    const five = harness({ maxEvents: 5 });
    expect((await five.relay.handle(request({ body: many(6) }))).status).toBe(413);
  });
});

describe('createRelay: rate limit per client IP', () => {
  const burst = (n: number, prefix: string) =>
    payload(Array.from({ length: n }, (_, i) => event({ event_id: `${prefix}-${i}` })));

  it('limits a flood from one IP with 429 + Retry-After without affecting another IP', async () => {
    const h = harness();
    for (let i = 0; i < 3; i++) {
      expect(
        (await h.relay.handle(request({ ip: '203.0.113.7', body: burst(20, `a${i}`) }))).status,
      ).toBe(204);
    }
    const limited = await h.relay.handle(request({ ip: '203.0.113.7', body: burst(1, 'a4') }));
    expect(limited.status).toBe(429);
    expect(limited.headers['retry-after']).toBe('1');
    expect(
      (await h.relay.handle(request({ ip: '198.51.100.9', body: burst(20, 'b') }))).status,
    ).toBe(204);
    expect(h.relay.stats().refused.rate_limited).toBe(1);
    const sent = await h.sent();
    expect(sent).toHaveLength(80);
    expect(sent.some((s) => s.event.event_id === 'a4-0')).toBe(false);
  });

  it('refills at the configured rate', async () => {
    const h = harness({ rateLimit: { eventsPerMinute: 6, burst: 2 } });
    const ip = '203.0.113.7';
    expect((await h.relay.handle(request({ ip, body: burst(2, 'x') }))).status).toBe(204);
    const limited = await h.relay.handle(request({ ip, body: burst(1, 'y') }));
    expect(limited.status).toBe(429);
    expect(limited.headers['retry-after']).toBe('10');
    h.clock.t += 10_000;
    expect((await h.relay.handle(request({ ip, body: burst(1, 'y') }))).status).toBe(204);
    expect((await h.relay.handle(request({ ip, body: burst(1, 'z') }))).status).toBe(429);
  });

  it('keys IPv6 clients by /64 and requests with no known IP by one shared bucket', async () => {
    const h = harness({ rateLimit: { eventsPerMinute: 1, burst: 1 } });
    const send = async (ip: string | undefined) =>
      (
        await h.relay.handle(
          ip === undefined
            ? { ...request(), request: { ...request().request, remoteAddress: undefined } }
            : request({ ip }),
        )
      ).status;
    expect(await send('2001:db8:1:2::1')).toBe(204);
    expect(await send('2001:db8:1:2:ffff::9')).toBe(429);
    expect(await send('2001:db8:1:3::1')).toBe(204);
    expect(await send(undefined)).toBe(204);
    expect(await send(undefined)).toBe(429);
  });

  it('charges junk requests one token, so a flood of garbage is limited too', async () => {
    const h = harness({ rateLimit: { eventsPerMinute: 2, burst: 2 } });
    expect((await h.relay.handle(request({ body: 'not json' }))).status).toBe(400);
    expect((await h.relay.handle(request({ body: 'not json' }))).status).toBe(400);
    expect((await h.relay.handle(request({ body: 'not json' }))).status).toBe(429);
  });

  it('takes a custom limiter, or none', async () => {
    const calls: [string, number][] = [];
    const limiter: RelayRateLimiter = {
      take: async (key, cost) => {
        calls.push([key, cost]);
        return { allowed: false, retryAfterSeconds: 42 };
      },
    };
    const h = harness({ rateLimit: limiter });
    const answer = await h.relay.handle(request({ body: burst(3, 'c') }));
    expect(answer).toMatchObject({ status: 429, headers: { 'retry-after': '42' } });
    expect(calls).toEqual([['203.0.113.7', 3]]);
    const free = harness({ rateLimit: false });
    for (let i = 0; i < 5; i++) {
      expect((await free.relay.handle(request({ body: burst(20, `f${i}`) }))).status).toBe(204);
    }
  });

  it('lets a request through when a custom limiter fails (its store down), and says so', async () => {
    for (const take of [
      async () => {
        throw new Error('redis down');
      },
      () => {
        throw new Error('redis down');
      },
    ]) {
      const h = harness({ rateLimit: { take } });
      const answer = await h.relay.handle(request({ body: payload([event({ event_id: 'rl' })]) }));
      expect(answer.status).toBe(204);
      expect((await h.sent()).map((s) => s.event.event_id)).toEqual(['rl']);
      // Accounted for: an accepted request whose event was tracked, not a lost one.
      expect(h.relay.stats()).toMatchObject({
        requests: 1,
        accepted: 1,
        events: { received: 1, tracked: 1, dropped: { error: 0 } },
      });
      expect(h.errors.map((e) => [e.source, String(e.error)])).toEqual([
        ['relay rateLimit', 'Error: redis down'],
      ]);
    }
  });

  it('takes rateLimit: null and identify: null (a config file\'s "not set") as unset', async () => {
    // rateLimit: null threw at creation (reading eventsPerMinute of null); identify: null was
    // called on every request and reported as an error each time.
    const h = harness({ rateLimit: null as never, identify: null as never });
    for (let i = 0; i < 3; i++) {
      expect((await h.relay.handle(request({ body: burst(20, `n${i}`) }))).status).toBe(204);
    }
    // The default limiter: 60 events a minute per client IP.
    expect((await h.relay.handle(request({ body: burst(1, 'over') }))).status).toBe(429);
    expect(h.relay.stats().events.tracked).toBe(60);
    expect(h.errors).toEqual([]);
  });

  it('stops waiting for a custom limiter that never answers (a store reconnecting): the request goes on unlimited, said once', async () => {
    const h = harness({ rateLimit: { take: () => new Promise<never>(() => {}) } });
    const answer = await h.relay.handle(request({ body: payload([event({ event_id: 'hung' })]) }));
    expect(answer.status).toBe(204);
    expect((await h.sent()).map((s) => s.event.event_id)).toEqual(['hung']);
    expect(h.relay.stats()).toMatchObject({
      requests: 1,
      accepted: 1,
      events: { received: 1, tracked: 1 },
    });
    expect(h.errors.map((e) => [e.source, e.error.message])).toEqual([
      ['relay rateLimit', 'rateLimit did not answer within 2000 ms; the request went on unlimited'],
    ]);
  });
});

describe('createRelay: what is forwarded', () => {
  it('forwards the standard events and PageView by default, and drops other names (counted)', async () => {
    const h = harness();
    const answer = await h.relay.handle(
      request({
        body: payload([
          event({ event_name: 'PageView', event_id: 'pv', custom_data: undefined }),
          event({ event_name: 'WatchedDemo', event_id: 'custom' }),
          event({ event_name: 'purchase', event_id: 'wrong-case' }),
        ]),
      }),
    );
    expect(answer.status).toBe(204);
    expect((await h.sent()).map((s) => s.event.event_id)).toEqual(['pv']);
    expect(h.relay.stats().events.dropped.not_allowed).toBe(2);
  });

  it('forwards listed custom events (list or predicate)', async () => {
    const list = harness({ allowEvents: [...STANDARD_EVENTS, 'WatchedDemo'] });
    await list.relay.handle(request({ body: payload([event({ event_name: 'WatchedDemo' })]) }));
    expect((await list.sent()).map((s) => s.event.event_name)).toEqual(['WatchedDemo']);
    const predicate = harness({ allowEvents: (name) => name.startsWith('Demo') });
    await predicate.relay.handle(
      request({
        body: payload([
          event({ event_name: 'DemoClick', event_id: '1' }),
          event({ event_name: 'Lead', event_id: '2' }),
        ]),
      }),
    );
    expect((await predicate.sent()).map((s) => s.event.event_name)).toEqual(['DemoClick']);
  });

  it("forwards by default every custom_data key the build knows as Meta's, but search_string", () => {
    // Two lists: a key Meta documents later, added to the build's, must be added here too (or
    // left out with a reason, as search_string: free text a visitor types).
    expect([...DEFAULT_RELAY_CUSTOM_DATA_KEYS]).toEqual(
      KNOWN_KEYS.filter((key) => key !== 'search_string'),
    );
  });

  it("keeps only Meta's custom_data keys (minus search_string) unless told otherwise", async () => {
    const h = harness();
    await h.relay.handle(
      request({
        body: payload([
          event({
            event_name: 'Search',
            custom_data: {
              value: 1,
              currency: 'USD',
              search_string: 'jane@example.com',
              email: 'jane@example.com',
              plan: 'pro',
            },
          }),
        ]),
      }),
    );
    expect((await h.sent())[0]?.event.custom_data).toEqual({ value: 1, currency: 'USD' });
    expect(h.relay.stats().customDataKeysDropped).toBe(3);

    const custom = harness({ allowCustomData: ['search_string', 'plan'] });
    await custom.relay.handle(
      request({
        body: payload([
          event({
            event_name: 'Search',
            custom_data: { value: 1, search_string: 'shoes', plan: 'pro' },
          }),
        ]),
      }),
    );
    expect((await custom.sent())[0]?.event.custom_data).toEqual({
      search_string: 'shoes',
      plan: 'pro',
    });
  });

  it("reads a page's numbers written as text (a data layer's '19.90') as numbers, as the Pixel does", async () => {
    const h = harness();
    await h.relay.handle(
      request({
        body: payload([
          event({
            custom_data: {
              value: ' 19.90 ',
              currency: 'EUR',
              num_items: '2',
              contents: [{ id: 'sku-1', quantity: '2', item_price: '9.95' }],
            },
          }),
          event({ event_id: 'exp', custom_data: { value: '1e3', currency: 'EUR' } }),
        ]),
      }),
    );
    const sent = await h.sent();
    expect(sent).toHaveLength(1);
    expect(sent[0]?.event.custom_data).toMatchObject({
      value: 19.9,
      num_items: 2,
      contents: [{ id: 'sku-1', quantity: 2, item_price: 9.95 }],
    });
    // Only a plain decimal: an exponent is not a price a data layer writes, and is refused by the
    // core as before, counted and named.
    expect(h.relay.stats().events.dropped.not_accepted).toBe(1);
  });

  it("keeps a page's '__proto__' custom_data key as data, never as the kept object's prototype", async () => {
    // Listing '__proto__' is a mistake, but a page must not then choose the event's custom data:
    // assigned, the key set the kept object's prototype and its keys read as the page's.
    const h = harness({ allowCustomData: ['currency', '__proto__'] });
    const body = JSON.stringify(payload([event({ custom_data: { currency: 'EUR' } })])).replace(
      '"custom_data":{',
      '"custom_data":{"__proto__":{"value":999,"order_id":"forged"},',
    );
    expect(body).toContain('"__proto__"');
    await h.relay.handle(request({ body }));
    const custom = (await h.sent())[0]?.event.custom_data as Record<string, unknown> | undefined;
    expect(custom?.currency).toBe('EUR');
    expect(custom?.value).toBeUndefined();
    expect(custom?.order_id).toBeUndefined();
    expect(h.relay.stats().customDataKeysDropped).toBe(1);
  });

  it('ignores user_data from the page unless allowUserData, and never takes IP, UA or cookies from it', async () => {
    const withPii = event({
      user_data: {
        em: 'jane@example.com',
        client_ip_address: '10.6.6.6',
        client_user_agent: 'forged',
        fbp: 'fb.1.1.forged',
      },
    });
    const h = harness();
    await h.relay.handle(request({ body: payload([withPii]) }));
    const [ignored] = await h.sent();
    expect(ignored?.event.user_data).not.toHaveProperty('em');
    expect(ignored?.event.user_data).toMatchObject({ client_ip_address: '203.0.113.7', fbp: FBP });
    expect(h.relay.stats().userDataIgnored).toBe(1);

    const allowed = harness({ allowUserData: true });
    await allowed.relay.handle(request({ body: payload([withPii]) }));
    const [kept] = await allowed.sent();
    expect(kept?.event.user_data).toMatchObject({
      em: [sha256('jane@example.com')],
      client_ip_address: '203.0.113.7',
      client_user_agent: UA,
      fbp: FBP,
    });
  });

  it('takes at most 10 values a user_data key from the page, counts the rest and tracks the event', async () => {
    const log = captureLogger();
    const h = harness({ allowUserData: true }, { logger: log.logger, development: true });
    // 40 phone numbers and 15 emails where a page sends one or two. The emails past the cap would
    // each be reported if they were read (not an email, not a string).
    const phones = Array.from(
      { length: 40 },
      (_, i) => `+1 650 555 01${String(i).padStart(2, '0')}`,
    );
    const emails = Array.from({ length: 15 }, (_, i) =>
      i < 10 ? `buyer${i}@example.com` : i % 2 ? 'no-at-sign' : { n: i },
    );
    const answer = await h.relay.handle(
      request({
        body: payload([event({ user_data: { ph: phones, em: emails, fn: ['Jane', 'J'] } })]),
      }),
    );
    expect(answer.status).toBe(204);
    const [sent, ...rest] = await h.sent();
    expect(rest).toEqual([]);
    const userData = sent?.event.user_data as Record<string, unknown>;
    expect(userData.ph).toEqual(
      Array.from({ length: 10 }, (_, i) => sha256(`165055501${String(i).padStart(2, '0')}`)),
    );
    expect(userData.em).toEqual(
      Array.from({ length: 10 }, (_, i) => sha256(`buyer${i}@example.com`)),
    );
    expect(userData.fn).toEqual([sha256('jane'), sha256('j')]);
    const stats = h.relay.stats();
    expect(stats.userDataValuesDropped).toBe(30 + 5);
    expect(stats.events).toMatchObject({ received: 1, tracked: 1 });
    // Nothing past the cap was normalized: no invalid_phone, invalid_email or invalid_type line.
    expect(log.text()).not.toMatch(/invalid_email|invalid_type/);
    expect(log.text()).not.toContain('no-at-sign');
    expect(h.errors).toEqual([]);
  });

  it("adds the signed-in user from identify (awaited), over the page's user_data", async () => {
    const seen: unknown[] = [];
    const h = harness({
      allowUserData: true,
      identify: async (req) => {
        seen.push(req);
        await new Promise((resolve) => setTimeout(resolve, 5));
        return { em: 'user@example.com', external_id: 'u-42' };
      },
    });
    const input = request({
      body: payload([event({ user_data: { em: 'page@example.com', fn: 'Jane' } })]),
    });
    await h.relay.handle(input);
    expect(seen).toEqual([input.request]);
    const [sent] = await h.sent();
    expect(sent?.event.user_data).toMatchObject({
      em: [sha256('user@example.com')],
      fn: [sha256('jane')],
      external_id: [sha256('u-42')],
    });
  });

  it('gives identify the framework request (appRequest), and survives one that throws', async () => {
    const app = { user: { email: 'a@b.co' } };
    const got: unknown[] = [];
    const h = harness({
      identify: (req) => {
        got.push(req);
        throw new Error('session store down');
      },
    });
    const answer = await h.relay.handle({ ...request(), appRequest: app as never });
    expect(answer.status).toBe(204);
    expect(got).toEqual([app]);
    expect(await h.sent()).toHaveLength(1);
    expect(h.errors.map((e) => [e.kind, e.source])).toEqual([['callback', 'relay identify']]);
  });

  it('stops waiting for an identify that never answers at identifyTimeoutMs: the events go without the user, said once per request', async () => {
    const h = harness({
      identifyTimeoutMs: 50,
      identify: () => new Promise<never>(() => {}),
    });
    const answers = await Promise.all(
      [1, 2].map((i) =>
        h.relay.handle(request({ body: payload([event({ event_id: `late-${i}` })]) })),
      ),
    );
    expect(answers.map((a) => a.status)).toEqual([204, 204]);
    const sent = await h.sent();
    expect(sent.map((s) => s.event.event_id).sort()).toEqual(['late-1', 'late-2']);
    expect(h.errors.map((e) => [e.source, e.error.message])).toEqual([
      [
        'relay identify',
        expect.stringContaining('did not answer within identifyTimeoutMs (50 ms)'),
      ],
      [
        'relay identify',
        expect.stringContaining('did not answer within identifyTimeoutMs (50 ms)'),
      ],
    ]);
  });

  it('sends each event only to the pixel that fired it, and refuses unknown pixels', async () => {
    const h = harness(
      {},
      {
        pixelId: undefined,
        pixels: [
          { pixelId: PIXEL, accessToken: TOKEN },
          { pixelId: PIXEL_2, accessToken: TOKEN },
        ],
      },
    );
    await h.relay.handle(request({ body: payload([event({ event_id: 'one' })]) }));
    await h.relay.handle(
      request({ body: payload([event({ event_id: 'two' })], { pixel_id: PIXEL_2 }) }),
    );
    const unknown = await h.relay.handle(
      request({ body: payload([event({ event_id: 'x' })], { pixel_id: '999' }) }),
    );
    expect(unknown).toMatchObject({ status: 403, body: '{"error":"unknown_pixel"}' });
    const sent = await h.sent();
    expect(sent.map((s) => [s.pixelId, s.event.event_id])).toEqual([
      [PIXEL, 'one'],
      [PIXEL_2, 'two'],
    ]);

    const only = harness({ pixelIds: ['555'] });
    expect((await only.relay.handle(request())).status).toBe(403);
  });

  it('tells the app through its logger what it refused and what to check, once per reason, then a count', async () => {
    const log = captureLogger();
    const h = harness({}, { logger: log.logger, development: false });
    const wrongPixel = () =>
      h.relay.handle(request({ body: payload([event({ event_id: 'x' })], { pixel_id: '999' }) }));
    expect((await wrongPixel()).status).toBe(403);
    expect((await wrongPixel()).status).toBe(403);
    expect((await h.relay.handle(request({ body: '{"v":1' }))).status).toBe(400);
    const warned = log.lines.filter((l) => l.level === 'warn').map((l) => l.msg);
    // In production too: the browser never reads the answer, so nothing else would say it.
    expect(warned).toEqual([
      "capi-kit: the relay refused a request with 403 (unknown_pixel): its pixel_id is not one this client sends to: give the browser module the pixel ID the server uses (or add it to the client's pixels)",
      'capi-kit: the relay refused a request with 400 (invalid_payload): its body is not a relay payload (or was cut off); nothing of it was tracked',
    ]);
    // The repeat is counted, and told when the client closes (or after a minute).
    await h.client.close({ timeoutMs: 100 });
    expect(log.lines.map((l) => l.msg)).toContain(
      'capi-kit: the relay refused a request (unknown_pixel) once more, for the same reason (reported above)',
    );
    expect(h.relay.stats().refused).toMatchObject({ unknown_pixel: 2, invalid_payload: 1 });
  });

  it('tells the app through its logger of an event it dropped, once per reason, then a count', async () => {
    const log = captureLogger();
    const h = harness({}, { logger: log.logger, development: true });
    const send = (events: unknown[]) => h.relay.handle(request({ body: payload(events) }));
    // A custom event the page tracks with no allowEvents listing it: its relayed copy was lost
    // with nothing said anywhere (the Pixel copy still arrived, so only stats() showed it).
    expect((await send([event({ event_name: 'WatchedDemo', event_id: 'a' })])).status).toBe(204);
    await send([event({ event_name: 'SawPricing', event_id: 'b' })]);
    await send([event({ event_id: 'x'.repeat(300) })]);
    const warned = log.lines.filter((l) => l.level === 'warn').map((l) => l.msg);
    expect(warned).toEqual([
      "capi-kit: the relay dropped an event (WatchedDemo): its event_name is not in the relay's allowEvents (default: the standard events and PageView); list the page's custom events there, e.g. allowEvents: [...STANDARD_EVENTS, 'WatchedDemo']",
      'capi-kit: the relay dropped an event (AddToCart): it is not a relay event: event_name (at most 100 characters) or event_id (at most 256) missing, empty or too long, or custom_data not an object',
    ]);
    await h.client.close({ timeoutMs: 100 });
    expect(log.lines.map((l) => l.msg)).toContain(
      'capi-kit: the relay dropped an event (not_allowed) once more, for the same reason (reported above)',
    );
    expect(h.relay.stats().events.dropped).toMatchObject({ not_allowed: 2, malformed: 1 });

    // In production, a name left out of allowEvents may be the app's choice: only the loss is said.
    const prodLog = captureLogger();
    const prod = harness({}, { logger: prodLog.logger, development: false });
    await prod.relay.handle(
      request({
        body: payload([
          event({ event_name: 'WatchedDemo', event_id: 'a' }),
          event({ event_id: 'x'.repeat(300) }),
        ]),
      }),
    );
    expect(prodLog.lines.filter((l) => l.level === 'warn').map((l) => l.msg)).toEqual([
      'capi-kit: the relay dropped an event (AddToCart): it is not a relay event: event_name (at most 100 characters) or event_id (at most 256) missing, empty or too long, or custom_data not an object',
    ]);
  });

  it('addresses Meta pixels only, and forwards to every other destination with the same event_id', async () => {
    const built: string[] = [];
    const other = acmeDestination((_input, context) => built.push(context.eventId));
    const h = harness({}, { destinations: [other] });
    const refused = await h.relay.handle(
      request({ body: payload([event({ event_id: 'x' })], { pixel_id: 'acme:A1' }) }),
    );
    expect(refused).toMatchObject({ status: 403, body: '{"error":"unknown_pixel"}' });
    expect(
      (await h.relay.handle(request({ body: payload([event({ event_id: 'same-id' })]) }))).status,
    ).toBe(204);
    const meta = await h.sent();
    const stats = h.client.stats().pixels;
    // The pixel that fired it, and the other platform (whose own pixel fired its copy with the id).
    expect(stats[PIXEL]).toMatchObject({ sent: 1, queued: 0 });
    expect(stats['acme:A1']).toMatchObject({ sent: 1, queued: 0 });
    expect(meta.map((m) => [m.pixelId, m.event.event_id ?? m.event.id])).toEqual([
      [PIXEL, 'same-id'],
      ['', 'same-id'],
    ]);
    expect(built).toEqual(['same-id']);
  });

  it('reads the relayed request for the client’s destinations, whatever requestContext it was given', async () => {
    // Adapters hand the relay their own options: with a shared client those have no destinations,
    // and the relayed copies went out without the request's captures (TikTok's _ttp and ttclid).
    const captured: unknown[] = [];
    const other = acmeDestination((_input, context) => captured.push(context.captured), {
      cookies: ['_acme'],
    });
    const h = harness({}, { destinations: [other] });
    const cookie = `_fbp=${FBP}; _acme=browser-7`;
    const answer = await h.relay.handle(request({ headers: { cookie } }));
    expect(answer.status).toBe(204);
    expect(captured).toEqual([{ _acme: 'browser-7' }]);
  });

  it("takes a destination's click ID (TikTok's ttclid) from a same-site page when the request has none or another click's", async () => {
    // A relay on another origin of the site gets an origin-only Referer, and a page the app did
    // not serve set no ttclid cookie: the click ID was only in the event's page URL, and was lost.
    const captured: Record<string, unknown> = {};
    const other = acmeDestination(
      (input, context) => {
        captured[String(input.event_id)] = context.captured?.ttclid;
      },
      { persist: [{ param: 'ttclid', cookie: 'ttclid', maxAgeSeconds: 86_400 }] },
    );
    const h = harness({}, { destinations: [other] });
    const landing = 'https://www.shop.example/landing?ttclid=E.C.P.page';
    const first = await h.relay.handle(
      siteBeacon([
        event({ event_id: 'landing', event_source_url: landing }),
        event({ event_id: 'plain', event_source_url: 'https://www.shop.example/cart' }),
        event({ event_id: 'other', event_source_url: 'https://evil.example/?ttclid=E.C.P.evil' }),
      ]),
    );
    const second = await h.relay.handle(
      siteBeacon(
        [
          event({ event_id: 'sameClick', event_source_url: 'https://www.shop.example/' }),
          event({ event_id: 'newClick', event_source_url: landing }),
        ],
        'ttclid=E.C.P.cookie',
      ),
    );
    expect(captured).toEqual({
      landing: 'E.C.P.page',
      plain: undefined,
      other: undefined,
      sameClick: 'E.C.P.cookie',
      newClick: 'E.C.P.page',
    });
    // Kept in the destination's cookie, as `_fbc` is, for the visitor's next events; once.
    const cookie =
      'ttclid=E.C.P.page; Max-Age=86400; Domain=shop.example; Path=/; Secure; SameSite=Lax';
    const ttclidCookies = (cookies: string[]) => cookies.filter((c) => c.startsWith('ttclid='));
    expect(ttclidCookies(first.cookies)).toEqual([cookie]);
    expect(ttclidCookies(second.cookies)).toEqual([cookie]);
    const held = await h.relay.handle(
      siteBeacon([event({ event_id: 'held', event_source_url: landing })], 'ttclid=E.C.P.page'),
    );
    expect(ttclidCookies(held.cookies)).toEqual([]);
  });

  it('uses server time for a browser clock in the future or more than 5 minutes behind', async () => {
    const h = harness();
    const now = Math.floor(h.clock.t / 1000);
    await h.relay.handle(
      request({
        body: payload([
          event({ event_id: 'ok', event_time: now - 60 }),
          event({ event_id: 'future', event_time: now + 30 }),
          event({ event_id: 'late', event_time: now - 301 }),
          event({ event_id: 'week-old', event_time: now - 8 * 86_400 }),
          event({ event_id: 'ms', event_time: h.clock.t }),
          event({ event_id: 'nan', event_time: 'soon' }),
        ]),
      }),
    );
    const times = Object.fromEntries(
      (await h.sent()).map((s) => [s.event.event_id, s.event.event_time]),
    );
    expect(times).toEqual({
      ok: now - 60,
      future: now,
      late: now,
      'week-old': now,
      ms: now,
      nan: now,
    });
    expect(h.relay.stats().events.timeCorrected).toBe(5);
  });

  it('takes the default clock skew for a maxClockSkewSeconds that is no number (NaN)', async () => {
    // `Number(process.env.RELAY_SKEW)` with the variable unset.
    const h = harness({ maxClockSkewSeconds: Number.NaN });
    const now = Math.floor(h.clock.t / 1000);
    await h.relay.handle(
      request({
        body: payload([
          event({ event_id: 'ok', event_time: now - 60 }),
          event({ event_id: 'late', event_time: now - 3600 }),
          event({ event_id: 'week-old', event_time: now - 8 * 86_400 }),
        ]),
      }),
    );
    const times = Object.fromEntries(
      (await h.sent()).map((s) => [s.event.event_id, s.event.event_time]),
    );
    expect(times).toEqual({ ok: now - 60, late: now, 'week-old': now });
    expect(h.relay.stats().events).toMatchObject({ tracked: 3, timeCorrected: 2 });
  });

  it('keeps event_source_url only when same-site with the request, else uses the Referer', async () => {
    const h = harness();
    await h.relay.handle(
      request({
        body: payload([
          event({ event_id: 'same', event_source_url: 'https://www.shop.example/a?x=1' }),
          event({ event_id: 'other', event_source_url: 'https://evil.example/a' }),
          event({ event_id: 'junk', event_source_url: 'javascript:alert(1)' }),
          event({ event_id: 'ref', referrer_url: 'https://www.google.com/' }),
        ]),
      }),
    );
    const urls = Object.fromEntries(
      (await h.sent()).map((s) => [
        s.event.event_id,
        [s.event.event_source_url, s.event.referrer_url],
      ]),
    );
    expect(urls).toEqual({
      same: ['https://www.shop.example/a?x=1', undefined],
      other: [`${SITE}/product/1`, undefined],
      junk: [`${SITE}/product/1`, undefined],
      ref: [`${SITE}/product/1`, 'https://www.google.com/'],
    });
  });

  it('builds fbc from the fbclid of a same-site page when the request has none or another click (a relay on another origin of the site gets an origin-only Referer)', async () => {
    const h = harness();
    const at = nowSeconds() - 2;
    const landing = 'https://www.shop.example/landing?fbclid=IwAR_fromPage';
    const first = await h.relay.handle(
      siteBeacon([
        event({
          event_name: 'PageView',
          event_id: 'landing',
          event_time: at,
          event_source_url: landing,
        }),
        event({ event_id: 'bad', event_source_url: 'https://www.shop.example/?fbclid=a.b' }),
        event({ event_id: 'other', event_source_url: 'https://evil.example/?fbclid=IwAR_evil' }),
        // The same click a second later: the fbc the cookie keeps, not another.
        event({ event_id: 'again', event_time: at + 1, event_source_url: landing }),
      ]),
    );
    const second = await h.relay.handle(
      siteBeacon(
        [
          event({ event_id: 'sameClick', event_source_url: `${SITE}/?fbclid=IwAR_click` }),
          event({ event_id: 'newClick', event_time: at, event_source_url: landing }),
        ],
        `_fbc=${FBC}`,
      ),
    );
    const fbc = Object.fromEntries(
      (await h.sent()).map((s) => [s.event.event_id, (s.event.user_data as { fbc?: string }).fbc]),
    );
    // [FBC]: the subdomain index of the cookie's domain (shop.example: 1), and the time the
    // fbclid was seen (the event's).
    const built = `fb.1.${at * 1000}.IwAR_fromPage`;
    expect(fbc).toEqual({
      landing: built,
      bad: undefined,
      other: undefined,
      again: built,
      sameClick: FBC,
      newClick: built,
    });
    // Kept as `_fbc` for the visitor's next events, on the registrable domain, for 90 days.
    const cookie = `_fbc=${built}; Max-Age=7776000; Domain=shop.example; Path=/; Secure; SameSite=Lax`;
    const fbcCookies = (cookies: string[]) => cookies.filter((c) => c.startsWith('_fbc='));
    expect(fbcCookies(first.cookies)).toEqual([cookie]);
    expect(fbcCookies(second.cookies)).toEqual([cookie]);
  });

  it('keeps the click of a page URL over 4,096 characters: fbclid and ttclid read from the whole URL, the page sent without its query', async () => {
    // A landing URL with many tracking parameters passes 4,096 characters; its click ID was lost
    // with the URL (the request's origin-only Referer stood in), and the event went unattributed.
    const captured: Record<string, unknown> = {};
    const other = acmeDestination(
      (input, context) => {
        captured[String(input.event_id)] = context.captured?.ttclid;
      },
      { persist: [{ param: 'ttclid', cookie: 'ttclid', maxAgeSeconds: 86_400 }] },
    );
    const h = harness({ maxBodyBytes: 256 * 1024 }, { destinations: [other] });
    const at = nowSeconds() - 2;
    const long = (size: number) =>
      `https://www.shop.example/landing?utm_content=${'x'.repeat(size)}&fbclid=IwAR_fromPage&ttclid=E.C.P.page`;
    const answer = await h.relay.handle(
      siteBeacon(
        [
          event({ event_id: 'long', event_time: at, event_source_url: long(5000) }),
          // Longer than any server takes a request line (Node: 16 KiB for the whole head): not a
          // page the site served, and not read.
          event({ event_id: 'huge', event_time: at, event_source_url: long(20_000) }),
        ],
        `_fbp=${FBP}`,
      ),
    );
    const sent = Object.fromEntries(
      (await h.sent())
        .filter((s) => s.pixelId === PIXEL)
        .map((s) => [
          s.event.event_id,
          [s.event.event_source_url, (s.event.user_data as { fbc?: string }).fbc],
        ]),
    );
    expect(sent).toEqual({
      long: ['https://www.shop.example/landing', `fb.1.${at * 1000}.IwAR_fromPage`],
      huge: ['https://www.shop.example/', undefined],
    });
    expect(captured).toEqual({ long: 'E.C.P.page', huge: undefined });
    expect(answer.cookies).toEqual([
      `_fbc=fb.1.${at * 1000}.IwAR_fromPage; Max-Age=7776000; Domain=shop.example; Path=/; Secure; SameSite=Lax`,
      'ttclid=E.C.P.page; Max-Age=86400; Domain=shop.example; Path=/; Secure; SameSite=Lax',
    ]);
  });

  it("keeps a page's click as `_fbc` once: not rewritten while the cookie holds it, and never against the site's rules", async () => {
    const at = nowSeconds() - 2;
    const landing = `${SITE}/landing?fbclid=IwAR_fromPage`;
    const beacon = (cookie: string, event_id = 'evt-1') =>
      request({
        headers: { cookie, referer: `${SITE}/` },
        body: payload([event({ event_id, event_time: at, event_source_url: landing })]),
      });
    const stored = 'fb.1.1700000000000.IwAR_fromPage';
    const h = harness();
    // The cookie holds this click already: its creation time stays.
    const kept = await h.relay.handle(beacon(`_fbp=${FBP}; _fbc=${stored}`));
    expect(kept.cookies).toEqual([]);
    // An adapter's context (its cookies already written): the page's `_fbc` is still the answer's.
    const adapterContext = {
      user_data: { fbp: FBP, client_user_agent: UA },
      cookiesToSet: [],
      consent: 'granted' as const,
      isNavigation: false,
    };
    const given = await h.relay.handle({
      ...beacon(`_fbp=${FBP}`, 'evt-2'),
      context: adapterContext,
    });
    expect(given.cookies).toEqual([
      `_fbc=fb.1.${at * 1000}.IwAR_fromPage; Max-Age=7776000; Domain=shop.example; Path=/; Secure; SameSite=Lax`,
    ]);
    const fbcs = (await h.sent()).map((s) => (s.event.user_data as { fbc?: string }).fbc);
    expect(fbcs).toEqual([stored, `fb.1.${at * 1000}.IwAR_fromPage`]);

    // No cookies (`cookies: false`, consent denied): fbc for the event only, index 1 [FBC].
    const off = harness({ requestContext: { trustProxy: 'loopback', cookies: false } });
    expect((await off.relay.handle(beacon(`_fbp=${FBP}`))).cookies).toEqual([]);
    const [sent] = await off.sent();
    expect((sent?.event.user_data as { fbc?: string } | undefined)?.fbc).toBe(
      `fb.1.${at * 1000}.IwAR_fromPage`,
    );
    const denied = harness({ requestContext: { trustProxy: 'loopback', consent: () => 'denied' } });
    expect((await denied.relay.handle(beacon(`_fbp=${FBP}`))).cookies).toEqual([]);
  });

  it("never forwards a user name or password in the page's URLs or the Referer", async () => {
    const log = captureLogger();
    const h = harness({}, { logger: log.logger, development: true });
    await h.relay.handle(
      request({
        body: payload([
          event({
            event_id: 'page',
            event_source_url: 'https://shopper:s3cret-pw@shop.example/checkout',
            referrer_url: 'https://admin:hunter2@ads.example/c?id=1',
          }),
          // Another site's URL: the request's Referer stands in, and it carries them too.
          event({ event_id: 'referer', event_source_url: 'https://evil.example/a' }),
        ]),
        headers: { referer: 'https://shopper:s3cret-pw@shop.example/product/1' },
      }),
    );
    const sent = await h.sent();
    expect(
      sent.map((s) => [s.event.event_id, s.event.event_source_url, s.event.referrer_url]),
    ).toEqual([
      ['page', `${SITE}/checkout`, 'https://ads.example/c?id=1'],
      ['referer', `${SITE}/product/1`, undefined],
    ]);
    expect(h.relay.stats().events).toMatchObject({ received: 2, tracked: 2 });
    // Reported by field and rule (development feedback, warn), never with the text removed.
    const warnings = log.lines.filter((l) => l.level === 'warn').map((l) => l.msg);
    expect(warnings.join('\n')).toMatch(/event_source_url: .*\(url_credentials_removed\)/);
    expect(warnings.join('\n')).toMatch(/referrer_url: .*\(url_credentials_removed\)/);
    const everything = JSON.stringify({ sent, logs: log.lines });
    for (const secret of ['shopper', 's3cret-pw', 'admin', 'hunter2']) {
      expect(everything).not.toContain(secret);
    }
  });
});

describe('track({ pixelIds })', () => {
  it('sends only to the listed pixels, and drops an event none of whose pixels is configured', async () => {
    const h = harness(
      {},
      {
        pixelId: undefined,
        pixels: [
          { pixelId: PIXEL, accessToken: TOKEN },
          { pixelId: PIXEL_2, accessToken: TOKEN },
        ],
      },
    );
    const input = {
      event_name: 'Lead',
      event_id: 'only-2',
      action_source: 'system_generated',
      user_data: { em: 'a@b.co' },
    } as const;
    expect(h.client.track(input, { pixelIds: [PIXEL_2] }).accepted).toBe(true);
    const none = h.client.track({ ...input, event_id: 'none' }, { pixelIds: ['999'] });
    expect(none).toMatchObject({ accepted: false, reason: 'invalid' });
    expect(none.issues.map((i) => i.code)).toEqual(['unknown_pixel']);
    expect((await h.sent()).map((s) => [s.pixelId, s.event.event_id])).toEqual([
      [PIXEL_2, 'only-2'],
    ]);
  });
});

describe('createRelay: bad input', () => {
  it.each([
    ['not JSON', 400, 'nope', 'invalid_payload'],
    ['not an object', 400, '[1]', 'invalid_payload'],
    ['no events', 400, JSON.stringify(payload([])), 'invalid_payload'],
    [
      'events not a list',
      400,
      JSON.stringify({ v: 1, pixel_id: PIXEL, events: {} }),
      'invalid_payload',
    ],
    ['another version', 400, JSON.stringify(payload(undefined, { v: 2 })), 'unsupported_version'],
    ['no pixel', 403, JSON.stringify(payload(undefined, { pixel_id: 123 })), 'unknown_pixel'],
  ])('%s → %s', async (_name, status, body, reason) => {
    const h = harness();
    const answer = await h.relay.handle(request({ body }));
    expect(answer).toMatchObject({ status, body: JSON.stringify({ error: reason }) });
    expect(await h.sent()).toEqual([]);
  });

  it('drops malformed events, keeps the good ones and still answers 204', async () => {
    const h = harness();
    const answer = await h.relay.handle(
      request({
        body: payload([
          null,
          'x',
          event({ event_id: '' }),
          event({ event_id: 7 }),
          event({ event_name: undefined }),
          event({ event_id: 'x'.repeat(300) }),
          event({ custom_data: [1] }),
          event({ event_id: 'good' }),
          // Invalid for Meta (a Purchase needs a currency): track() refuses it, counted.
          event({ event_name: 'Purchase', event_id: 'p', custom_data: { value: 1 } }),
        ]),
      }),
    );
    expect(answer.status).toBe(204);
    expect((await h.sent()).map((s) => s.event.event_id)).toEqual(['good']);
    expect(h.relay.stats().events).toMatchObject({
      received: 9,
      tracked: 1,
      dropped: { malformed: 7, not_allowed: 0, not_accepted: 1, error: 0 },
    });
  });

  it('answers 204, never 500, when a strict client throws', async () => {
    const h = harness({}, { strict: true });
    const answer = await h.relay.handle(
      request({ body: payload([event({ event_name: 'Purchase', custom_data: { value: 1 } })]) }),
    );
    expect(answer.status).toBe(204);
    expect(h.relay.stats().events.dropped.error).toBe(1);
  });

  it('lets consent drop the event (the request context decides)', async () => {
    const h = harness({ requestContext: { consent: () => 'denied' } });
    expect((await h.relay.handle(request())).status).toBe(204);
    expect(await h.sent()).toEqual([]);
    expect(h.relay.stats().events.dropped.not_accepted).toBe(1);
    expect(h.client.stats().dropped.consent).toBe(1);
  });

  it('uses the context the adapter computed instead of computing one', async () => {
    const h = harness();
    await h.relay.handle({
      ...request(),
      context: {
        user_data: { client_ip_address: '192.0.2.1', client_user_agent: 'adapter' },
        cookiesToSet: [],
        consent: 'granted',
        isNavigation: false,
        event_source_url: `${SITE}/from-adapter`,
      },
    });
    const [sent] = await h.sent();
    expect(sent?.event.user_data).toEqual({
      client_ip_address: '192.0.2.1',
      client_user_agent: 'adapter',
    });
  });
});

describe('createRelay: list options given as a string', () => {
  it('refuses allowEvents, allowCustomData and pixelIds given as one string, naming the fix', () => {
    // new Set('Lead') was the set of its letters: every event refused as not allowed, and
    // pixelIds: process.env.META_PIXEL_ID refused every request as another pixel's (403).
    expect(() => harness({ allowEvents: 'Lead' as never })).toThrow(
      "createRelay: allowEvents must be a list ([...STANDARD_EVENTS, 'WatchedDemo'], or a function of the event name), got a string: wrap it in [ ]",
    );
    expect(() => harness({ allowCustomData: 'value' as never })).toThrow(
      "createRelay: allowCustomData must be a list (['value', 'currency']), got a string: wrap it in [ ]",
    );
    expect(() => harness({ pixelIds: PIXEL as never })).toThrow(
      "createRelay: pixelIds must be a list (['1234567890']), got a string: wrap it in [ ]",
    );
    expect(() => harness({ pixelIds: 1234567890 as never })).toThrow(
      /pixelIds must be a list .*, got number$/,
    );
  });

  it('still takes lists, a function for allowEvents, and no value at all', async () => {
    const lists = harness({ allowEvents: ['Lead'], allowCustomData: ['value'], pixelIds: [PIXEL] });
    const lead = event({ event_name: 'Lead', custom_data: { value: 5, currency: 'EUR' } });
    expect((await lists.relay.handle(request({ body: payload([lead]) }))).status).toBe(204);
    expect((await lists.sent()).map(({ event: e }) => [e.event_name, e.custom_data])).toEqual([
      ['Lead', { value: 5 }],
    ]);
    expect(() => harness({ allowEvents: (name) => name === 'Lead' })).not.toThrow();
    expect(() => harness({ allowEvents: undefined, pixelIds: undefined })).not.toThrow();
  });
});

describe('createRelay: a body the client stops sending', () => {
  const bytes = (text: string) => new TextEncoder().encode(text);
  /** The default beacon with `body` as the runtime hands it over (a stream, bytes). */
  const withBody = (body: RelayInput<NodeRequestLike>['body']): RelayInput<NodeRequestLike> => ({
    ...request(),
    body,
  });

  it('is a refused request, not an app error or a dropped event', async () => {
    const h = harness();
    const half = bytes(JSON.stringify(payload())).slice(0, 20);
    // A Node request whose client went away mid-body: its iterator rejects ('aborted').
    const node = Object.assign(
      (async function* () {
        yield half;
        throw Object.assign(new Error('aborted'), { code: 'ECONNRESET' });
      })(),
      { httpVersionMajor: 1 },
    );
    // A Web request body whose connection broke.
    const web = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(half);
        controller.error(new TypeError('network error'));
      },
    });
    for (const stream of [node, web]) {
      const answer = await h.relay.handle(withBody(stream));
      expect(answer.status).toBe(400);
    }
    const stats = h.relay.stats();
    expect(stats.refused.invalid_payload).toBe(2);
    // No event was received, so none can have been dropped: received = tracked + dropped holds.
    expect(stats.events).toMatchObject({ received: 0, tracked: 0 });
    expect(stats.events.dropped).toEqual({
      malformed: 0,
      not_allowed: 0,
      not_accepted: 0,
      error: 0,
    });
    // A visitor closing a tab mid-beacon is not the app's error (nor a line in its error log).
    expect(h.errors).toEqual([]);
    // The same request read whole still goes through.
    expect((await h.relay.handle(withBody(bytes(JSON.stringify(payload()))))).status).toBe(204);
  });

  it('gets 408 when it stalls past bodyTimeoutMs, and the stream is cancelled', async () => {
    const h = harness({ bodyTimeoutMs: 50 });
    let cancelled = false;
    // Half a body, then nothing: the connection stays open and silent.
    const stalled = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(bytes(JSON.stringify(payload())).slice(0, 20));
      },
      cancel() {
        cancelled = true;
      },
    });
    const response = await h.relay.handleRequest(
      new Request('https://shop.example/capi/events', {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'sec-fetch-site': 'same-origin',
          'user-agent': UA,
        },
        body: stalled,
        duplex: 'half',
      } as RequestInit),
    );
    expect(response.status).toBe(408);
    expect(await response.json()).toEqual({ error: 'body_timeout' });
    expect(cancelled).toBe(true);
    const stats = h.relay.stats();
    expect(stats).toMatchObject({ requests: 1, accepted: 0, refused: { body_timeout: 1 } });
    expect(stats.events).toMatchObject({ received: 0, tracked: 0 });
    expect(Object.values(stats.events.dropped)).toEqual([0, 0, 0, 0]);
    expect(h.errors).toEqual([]);
  });

  it('clears its deadline timer whichever way the read ends: whole, too large, cut off', async () => {
    const DEADLINE = 4321;
    const set = vi.spyOn(globalThis, 'setTimeout');
    const clear = vi.spyOn(globalThis, 'clearTimeout');
    try {
      const h = harness({ bodyTimeoutMs: DEADLINE, maxBodyBytes: 1024 });
      const whole = bytes(JSON.stringify(payload()));
      const streamOf = (chunks: Uint8Array[], end: 'close' | 'error') =>
        new ReadableStream<Uint8Array>({
          start(controller) {
            for (const chunk of chunks) controller.enqueue(chunk);
            if (end === 'close') controller.close();
            else controller.error(new TypeError('network error'));
          },
        });
      const answers = [
        await h.relay.handle(withBody(streamOf([whole], 'close'))),
        await h.relay.handle(withBody(streamOf([new Uint8Array(2048)], 'close'))),
        await h.relay.handle(withBody(streamOf([whole.slice(0, 20)], 'error'))),
      ];
      expect(answers.map((a) => a.status)).toEqual([204, 413, 400]);
      const timers = set.mock.calls
        .map((call, i) => [call[1], set.mock.results[i]?.value] as const)
        .filter(([ms]) => ms === DEADLINE)
        .map(([, timer]) => timer);
      expect(timers).toHaveLength(3);
      const cleared = new Set(clear.mock.calls.map((call) => call[0]));
      expect(timers.filter((timer) => !cleared.has(timer))).toEqual([]);
    } finally {
      set.mockRestore();
      clear.mockRestore();
    }
  });

  it("a Web stream the app already read is still reported as the app's mistake", async () => {
    const h = harness();
    const stream = new Response(JSON.stringify(payload())).body as ReadableStream<Uint8Array>;
    stream.getReader(); // a middleware took the body first
    await h.relay.handle(withBody(stream));
    expect(h.errors.map((e) => e.kind)).toEqual(['callback']);
    expect(String((h.errors[0] as { error?: unknown }).error)).toContain('already read');
    expect(h.relay.stats().refused.invalid_payload).toBe(0);
    // A failed request, not an event: none was read (it read as one dropped event, and the
    // request as neither accepted nor refused).
    expect(h.relay.stats()).toMatchObject({
      requests: 1,
      accepted: 0,
      failed: 1,
      events: { received: 0, dropped: { error: 0 } },
    });
  });
});

describe('createRelay: user_data from the page (allowUserData)', () => {
  it('takes 10 values of a long list, whatever the body cap allows', async () => {
    // 60 000 IDs in a 660 KB body (maxBodyBytes raised): the event goes with the first 10, where
    // all of them used to be normalized and hashed, and the event then dropped as too large.
    const h = harness({ allowUserData: true, maxBodyBytes: 1024 * 1024, rateLimit: false });
    const ids = Array.from({ length: 60_000 }, (_, i) => `u${i}`);
    const wire = JSON.stringify(
      payload([event({ event_id: 'long', user_data: { external_id: ids } })]),
    );
    expect(wire.length).toBeLessThan(1024 * 1024);
    expect((await h.relay.handle(request({ body: wire }))).status).toBe(204);
    expect(h.relay.stats()).toMatchObject({
      events: { received: 1, tracked: 1 },
      userDataValuesDropped: 60_000 - 10,
    });
    // Repeats still go once, in first-seen order, a raw value and its hash as one.
    const again = payload([
      event({ user_data: { external_id: ['b', 'a', 'b', sha256('a'), 'c'] } }),
    ]);
    expect((await h.relay.handle(request({ body: again }))).status).toBe(204);
    const sent = await h.sent();
    expect(sent.map((s) => s.event.user_data)).toEqual([
      expect.objectContaining({ external_id: ids.slice(0, 10).map(sha256) }),
      expect.objectContaining({ external_id: ['b', 'a', 'c'].map(sha256) }),
    ]);
  });
});

describe('createRelay behind a proxy it does not trust', () => {
  it('says so once per client, for the relay and the adapter that share it', async () => {
    const log = captureLogger();
    const h = harness({ requestContext: {} }, { logger: log.logger });
    expect((await h.relay.handle(request())).status).toBe(204);
    expect((await h.relay.handle(request())).status).toBe(204);
    const adapter = createCapiAdapter({ client: h.client });
    adapter.contextOf(request().request);
    const told = log.lines.filter((l) => l.msg.includes('trustProxy does not reach'));
    expect(told).toHaveLength(1);
    expect(told[0]?.level).toBe('warn');
    // What it warns about: the proxy's address went out for the visitor's.
    const [sent] = await h.sent();
    expect(sent?.event.user_data).toMatchObject({ client_ip_address: '127.0.0.1' });
  });
});
