import {
  type CapiClient,
  type CapiOptions,
  createCapi,
  getRequestContext,
  mayWriteCookies,
  type ServerEventInput,
} from '@capi-kit/core';
import { TIKTOK_EVENTS_URL, tiktok, tiktokEnvelope } from '@capi-kit/tiktok';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  accounted,
  META_TOKEN,
  type Platform,
  recordingLogger,
  startMeta,
  startTikTok,
  TIKTOK_TOKEN,
  until,
} from './platforms.js';
import { SHA256 } from './vectors.js';

// One track() → Meta and TikTok, over real HTTP on loopback: the payload each platform gets for
// the same Meta-named input, one event_id, outages of one platform that neither delay nor lose
// the other's events, counters that add up per stream, the token kept out of URLs and logs, and
// TikTok's answers driving the core's pause, circuit and bisection.

const PIXEL = '1234567890';
const CODE = 'C4DESTTEST';
const STREAM = `tiktok:${CODE}`;
const META_PATH = `/v26.0/${PIXEL}/events`;

let meta: Platform;
let tt: Platform;
let clients: CapiClient[] = [];

beforeEach(async () => {
  [meta, tt] = await Promise.all([startMeta(), startTikTok()]);
});
afterEach(async () => {
  await Promise.all(clients.map((c) => c.close({ timeoutMs: 200 })));
  clients = [];
  await Promise.all([meta.close(), tt.close()]);
});

const destination = (options: { accessToken?: string } = {}) =>
  tiktok({
    pixelCode: CODE,
    accessToken: options.accessToken ?? TIKTOK_TOKEN,
    apiUrl: `${tt.base}/open_api/v1.3/event/track/`,
  });

const client = (options: Partial<CapiOptions> = {}): CapiClient => {
  const c = createCapi({
    pixelId: PIXEL,
    accessToken: META_TOKEN,
    graphUrl: meta.base,
    destinations: [destination()],
    flushIntervalMs: 5,
    timeoutMs: 500,
    retry: { baseDelayMs: 20, maxDelayMs: 40, throttleBaseDelayMs: 30 },
    logger: false,
    env: false,
    ...options,
  });
  clients.push(c);
  return c;
};

/** What Meta needs of every website event (the adapters add it from the request). */
const web = <T extends ServerEventInput>(input: T): T => ({
  event_source_url: 'https://shop.example/p',
  ...input,
  user_data: { client_user_agent: 'Mozilla/5.0 test', ...input.user_data },
});

const byId = (platform: Platform, id: string) =>
  platform.events().find((event) => event.event_id === id);

describe('the destination contract: one Meta-named input → each platform’s payload', () => {
  const user = {
    em: ' Jane@Example.com',
    ph: '+1 (650) 555-1212',
    external_id: 'User-42',
    client_ip_address: '203.0.113.7',
    client_user_agent: 'Mozilla/5.0 test',
  };
  const rows: {
    name: string;
    input: ServerEventInput;
    meta: Record<string, unknown>;
    tiktok: Record<string, unknown>;
  }[] = [
    {
      name: 'Purchase: hashing (TikTok’s phone keeps the +), contents, value, page',
      input: {
        event_name: 'Purchase',
        action_source: 'website',
        event_source_url: 'https://shop.example/checkout',
        user_data: user,
        custom_data: {
          value: 12.5,
          currency: 'USD',
          order_id: 'o-1',
          contents: [{ id: 'sku-1', quantity: 2, item_price: 6.25 }],
        },
      },
      meta: {
        event_name: 'Purchase',
        user_data: {
          em: [SHA256['jane@example.com']],
          ph: [SHA256['16505551212']],
          external_id: [SHA256['User-42']],
          client_ip_address: '203.0.113.7',
        },
        custom_data: { value: 12.5, currency: 'USD', order_id: 'o-1' },
      },
      tiktok: {
        event: 'Purchase',
        user: {
          email: SHA256['jane@example.com'],
          phone: SHA256['+16505551212'],
          external_id: SHA256['User-42'],
          ip: '203.0.113.7',
          user_agent: 'Mozilla/5.0 test',
        },
        properties: {
          value: 12.5,
          currency: 'USD',
          order_id: 'o-1',
          contents: [{ content_id: 'sku-1', quantity: 2, price: 6.25 }],
        },
        page: { url: 'https://shop.example/checkout' },
      },
    },
    {
      name: 'Lead stays Lead on TikTok (the new name of SubmitForm)',
      input: {
        event_name: 'Lead',
        action_source: 'website',
        user_data: { em: 'jane@example.com' },
      },
      meta: { event_name: 'Lead', user_data: { em: [SHA256['jane@example.com']] } },
      tiktok: { event: 'Lead', user: { email: SHA256['jane@example.com'] } },
    },
    {
      name: 'a custom event passes under its own name; search_string → query',
      input: {
        event_name: 'SpinWheel',
        action_source: 'website',
        user_data: { external_id: 'User-42' },
        custom_data: { search_string: 'red shoes' },
      },
      meta: { event_name: 'SpinWheel', custom_data: { search_string: 'red shoes' } },
      tiktok: { event: 'SpinWheel', properties: { query: 'red shoes' } },
    },
    {
      name: 'Limited Data Use → limited_data_use',
      input: {
        event_name: 'AddToCart',
        action_source: 'website',
        user_data: { em: 'jane@example.com' },
        data_processing_options: ['LDU'],
        data_processing_options_country: 0,
        data_processing_options_state: 0,
      },
      meta: { event_name: 'AddToCart', data_processing_options: ['LDU'] },
      tiktok: { event: 'AddToCart', limited_data_use: true },
    },
  ];

  it.each(rows)('$name', async ({ input, meta: metaWants, tiktok: tiktokWants }) => {
    const capi = client();
    const result = capi.track(web(input));
    expect(result.accepted).toBe(true);
    await capi.flush();
    expect(byId(meta, result.event_id)).toMatchObject({ ...metaWants, event_id: result.event_id });
    expect(byId(tt, result.event_id)).toMatchObject({
      ...tiktokWants,
      event_id: result.event_id,
    });
    // TikTok's request: the pixel code as event_source_id, web events, nothing Meta-only.
    const request = tt.received[0];
    expect(request?.body).toMatchObject({ event_source: 'web', event_source_id: CODE });
    expect(JSON.stringify(byId(tt, result.event_id))).not.toContain(SHA256['16505551212']);
  });
});

describe('one event_id for every destination', () => {
  it('generated once, before either builds, and returned', async () => {
    const capi = client();
    const ids = [0, 1, 2].map(
      () => capi.track(web({ event_name: 'Lead', user_data: { em: 'a@b.co' } })).event_id,
    );
    await capi.flush();
    expect(new Set(ids).size).toBe(3);
    for (const id of ids) {
      expect(id).toMatch(/^[0-9a-f-]{36}$/);
      expect(byId(meta, id)).toBeDefined();
      expect(byId(tt, id)).toBeDefined();
    }
  });

  it('the caller’s event_id (string or number) goes to both as given', async () => {
    const capi = client();
    const a = capi.track(
      web({ event_name: 'Lead', event_id: 'order-77', user_data: { em: 'a@b.co' } }),
    );
    const b = capi.track(
      web({
        event_name: 'Lead',
        event_id: 12345 as unknown as string,
        user_data: { em: 'a@b.co' },
      }),
    );
    await capi.flush();
    expect([a.event_id, b.event_id]).toEqual(['order-77', '12345']);
    for (const id of ['order-77', '12345']) {
      expect(byId(meta, id)?.event_id).toBe(id);
      expect(byId(tt, id)?.event_id).toBe(id);
    }
  });
});

const lead = (i: number): ServerEventInput =>
  web({
    event_name: 'Lead',
    event_id: `lead-${i}`,
    action_source: 'website',
    user_data: { em: `user${i}@example.com` },
  });

describe('an outage of one platform neither delays nor loses the other’s events', () => {
  it('TikTok hangs: Meta gets every event at once; TikTok gets them all once it answers again', async () => {
    tt.answer = () => 'hang';
    const capi = client({ timeoutMs: 3000 });
    const started = Date.now();
    for (let i = 0; i < 10; i++) capi.track(lead(i));
    // Meta's answers counted, not only received by the mock (its records come before the client
    // has read the answer).
    await until(() => capi.stats().pixels[PIXEL]?.sent === 10, 2000);
    // Meta did not wait for TikTok's 3 s timeout.
    expect(Date.now() - started).toBeLessThan(2000);
    const during = capi.stats();
    expect(during.pixels[PIXEL]).toMatchObject({ sent: 10, queued: 0, inFlight: 0 });
    expect(during.pixels[STREAM]?.sent).toBe(0);
    expect(accounted(during.pixels[PIXEL])).toBe(10);
    expect(accounted(during.pixels[STREAM])).toBe(10);
    tt.answer = () => ({ status: 200, body: { code: 0, message: 'OK', request_id: 'r' } });
    await capi.drain({ timeoutMs: 8000 });
    const ids = new Set(tt.events().map((e) => e.event_id));
    expect(ids.size).toBe(10);
    const after = capi.stats();
    expect(after.pixels[STREAM]).toMatchObject({ sent: 10, queued: 0, inFlight: 0 });
    expect(accounted(after.pixels[STREAM])).toBe(10);
  });

  it('TikTok answers 503: Meta is not slowed; TikTok’s events wait and arrive', async () => {
    let failing = true;
    tt.answer = (request) =>
      failing
        ? { status: 503, body: { message: 'unavailable' } }
        : {
            status: 200,
            body: { code: 0, message: 'OK', request_id: `r${request.body.data.length}` },
          };
    const capi = client();
    for (let i = 0; i < 8; i++) capi.track(lead(i));
    await until(() => meta.events().length === 8, 1000);
    await until(() => (capi.stats().pixels[STREAM]?.retried ?? 0) > 0, 1000);
    expect(capi.stats().pixels[PIXEL]?.state).toBe('open');
    failing = false;
    await capi.drain({ timeoutMs: 5000 });
    expect(new Set(tt.events().map((e) => e.event_id)).size).toBe(8);
    const stats = capi.stats();
    expect(stats.pixels[STREAM]?.sent).toBe(8);
    expect(accounted(stats.pixels[STREAM])).toBe(8);
    expect(accounted(stats.pixels[PIXEL])).toBe(8);
  });

  it('Meta hangs, then 500s: TikTok gets every event at once', async () => {
    let hang = true;
    meta.answer = () => (hang ? 'hang' : { status: 500, body: { error: { code: 2 } } });
    const capi = client({ timeoutMs: 3000 });
    for (let i = 0; i < 6; i++) capi.track(lead(i));
    // TikTok's answers counted, not only received by the loopback server.
    await until(() => capi.stats().pixels[STREAM]?.sent === 6, 2000);
    expect(capi.stats().pixels[STREAM]).toMatchObject({ sent: 6, queued: 0, inFlight: 0 });
    hang = false;
    expect(accounted(capi.stats().pixels[PIXEL])).toBe(6);
  });
});

describe('counters add up per stream', () => {
  it('an event one destination rejects is dropped there only, counted under its stream', async () => {
    const capi = client();
    // Meta refuses LDU without its country and state; TikTok has no such fields.
    const metaRejects = capi.track(
      web({ event_name: 'Lead', user_data: { em: 'a@b.co' }, data_processing_options: ['LDU'] }),
    );
    // TikTok takes only website events for now; Meta takes store sales.
    const tiktokRejects = capi.track(
      web({
        event_name: 'Purchase',
        action_source: 'physical_store',
        user_data: { em: 'a@b.co' },
        custom_data: { value: 5, currency: 'EUR' },
      }),
    );
    const both = capi.track(lead(1));
    expect(metaRejects).toMatchObject({ accepted: true });
    expect(metaRejects.destinations?.[PIXEL]).toMatchObject({ accepted: false, reason: 'invalid' });
    expect(metaRejects.destinations?.[PIXEL]?.issues.map((i) => i.code)).toContain(
      'missing_data_processing_options_country',
    );
    expect(metaRejects.destinations?.[STREAM]).toMatchObject({ accepted: true, issues: [] });
    expect(tiktokRejects.destinations?.[STREAM]).toMatchObject({
      accepted: false,
      reason: 'invalid',
    });
    expect(tiktokRejects.destinations?.[STREAM]?.issues[0]?.code).toBe('tiktok_action_source');
    await capi.flush();
    expect(byId(meta, metaRejects.event_id)).toBeUndefined();
    expect(byId(tt, metaRejects.event_id)).toBeDefined();
    expect(byId(meta, tiktokRejects.event_id)).toBeDefined();
    expect(byId(tt, tiktokRejects.event_id)).toBeUndefined();
    expect(byId(meta, both.event_id) && byId(tt, both.event_id)).toBeDefined();
    const stats = capi.stats();
    expect(stats.pixels[PIXEL]).toMatchObject({ sent: 2, dropped: { invalid: 1 } });
    expect(stats.pixels[STREAM]).toMatchObject({ sent: 2, dropped: { invalid: 1 } });
    expect(accounted(stats.pixels[PIXEL])).toBe(3);
    expect(accounted(stats.pixels[STREAM])).toBe(3);
    // Accepted somewhere: not an intake drop.
    expect(stats.dropped.invalid).toBe(2);
  });

  it('an event every destination rejects is one intake drop, as with Meta alone', () => {
    const capi = client();
    const result = capi.track({ event_name: '' as 'Lead', user_data: { em: 'a@b.co' } });
    expect(result).toMatchObject({ accepted: false, reason: 'invalid' });
    const stats = capi.stats();
    expect(stats.dropped.invalid).toBe(1);
    expect(accounted(stats.pixels[PIXEL])).toBe(0);
    expect(accounted(stats.pixels[STREAM])).toBe(0);
  });

  it('close() with TikTok down: every stream’s figures still add up to what was tracked', async () => {
    tt.answer = () => 'hang';
    const capi = client({ timeoutMs: 3000 });
    for (let i = 0; i < 12; i++) capi.track(lead(i));
    await until(() => meta.events().length === 12, 2000);
    await capi.close({ timeoutMs: 300 });
    const stats = capi.stats();
    expect(stats.pixels[PIXEL]?.sent).toBe(12);
    expect(stats.pixels[STREAM]?.dropped.shutdown).toBe(12);
    expect(accounted(stats.pixels[PIXEL])).toBe(12);
    expect(accounted(stats.pixels[STREAM])).toBe(12);
  });

  it('TrackOptions.destinations and pixelIds select streams', async () => {
    const capi = client();
    const onlyTikTok = capi.track(lead(1), { destinations: ['tiktok'] });
    const onlyMeta = capi.track(lead(2), { pixelIds: [PIXEL] });
    await capi.flush();
    expect(Object.keys(onlyTikTok.destinations ?? {})).toEqual([STREAM]);
    expect(byId(meta, 'lead-1')).toBeUndefined();
    expect(byId(tt, 'lead-1')).toBeDefined();
    expect(Object.keys(onlyMeta.destinations ?? {})).toEqual([PIXEL]);
    expect(byId(tt, 'lead-2')).toBeUndefined();
    const stats = capi.stats();
    expect(accounted(stats.pixels[PIXEL])).toBe(1);
    expect(accounted(stats.pixels[STREAM])).toBe(1);
  });
});

describe('the token', () => {
  it('travels only in TikTok’s Access-Token header: never in a URL or a body', async () => {
    const capi = client();
    capi.track(lead(1));
    await capi.flush();
    const request = tt.received[0];
    expect(request?.headers['access-token']).toBe(TIKTOK_TOKEN);
    expect(request?.url).toBe('/open_api/v1.3/event/track/');
    expect(JSON.stringify(request?.body)).not.toContain(TIKTOK_TOKEN);
    expect(meta.received[0]?.url).toBe(META_PATH);
    expect(JSON.stringify(meta.received[0]?.headers)).not.toContain(TIKTOK_TOKEN);
    expect(JSON.stringify(meta.received[0]?.body)).not.toContain(TIKTOK_TOKEN);
  });

  // A code TikTok's table does not name is retried as transient (classify.ts): a code that meant
  // "this request is wrong" read like an outage, without a word, until the events ran out of attempts.
  it('says once per unknown TikTok code, at warn, that it is retried as transient', async () => {
    const codes = [41234, 41234, 41999, 50000];
    let n = 0;
    tt.answer = () => {
      const code = codes[n++];
      return {
        status: 200,
        body:
          code === undefined
            ? { code: 0, message: 'OK', request_id: `tt-ok-${n}` }
            : { code, message: 'Something new', request_id: `tt-${n}` },
      };
    };
    const warns: string[] = [];
    const quiet = () => {};
    const capi = client({
      logger: {
        debug: quiet,
        info: quiet,
        warn: (obj, msg) => warns.push(`${msg} ${JSON.stringify(obj)}`),
        error: quiet,
      },
      retry: { baseDelayMs: 5, maxDelayMs: 10, maxAttempts: 10 },
    });
    capi.track(lead(1));
    await until(() => tt.events().length === 1, 3000);
    const unknown = warns.filter((line) => line.includes('does not know'));
    expect(unknown).toHaveLength(2);
    expect(unknown[0]).toContain('TikTok answered code 41234');
    expect(unknown[1]).toContain('TikTok answered code 41999');
    for (const line of unknown) {
      expect(line).toContain('retried as transient');
      expect(line).not.toContain('Something new'); // TikTok's message may echo what it was sent
    }
    // 5xxxx are TikTok's internal errors: transient by what they are, nothing to tell.
    expect(warns.some((line) => line.includes('code 50000,'))).toBe(false);
  });

  it('a wrong token opens TikTok’s circuit alone; no log line or error shows the token', async () => {
    // TikTok (or a proxy) echoing the token back is the worst case: it must still be redacted.
    tt.answer = (request) => ({
      status: 200,
      body: {
        code: 40105,
        message: `Access token ${String(request.headers['access-token'])} is invalid`,
        request_id: 'tt-auth',
      },
    });
    const logger = recordingLogger();
    const capi = client({ logger });
    const errors: string[] = [];
    capi.on('error', (info) => errors.push(`${info.error.message} ${JSON.stringify(info)}`));
    capi.on('retry', (info) => errors.push(JSON.stringify(info)));
    for (let i = 0; i < 3; i++) capi.track(lead(i));
    await until(() => capi.stats().pixels[STREAM]?.state === 'circuit_open', 2000);
    await until(() => meta.events().length === 3, 1000);
    expect(capi.stats().pixels[PIXEL]?.state).toBe('open');
    expect(errors.some((e) => e.includes('TikTok code 40105'))).toBe(true);
    expect(logger.lines.some((l) => l.includes('TikTok refused the credentials'))).toBe(true);
    for (const text of [...logger.lines, ...errors]) expect(text).not.toContain(TIKTOK_TOKEN);
    for (const text of [...logger.lines, ...errors]) expect(text).not.toContain(META_TOKEN);
    expect(accounted(capi.stats().pixels[STREAM])).toBe(3);
  });

  it('a gateway’s JSON 401 page ({ code: 401 }) opens the circuit and keeps the events', async () => {
    // Read as TikTok's envelope, code 401 was `transient`: retried until dead-lettered.
    tt.answer = () => ({ status: 401, body: { code: 401, message: 'Unauthorized' } });
    const capi = client({
      retry: { baseDelayMs: 5, maxDelayMs: 10, throttleBaseDelayMs: 30, maxAttempts: 2 },
    });
    for (let i = 0; i < 3; i++) capi.track(lead(i));
    await until(() => capi.stats().pixels[STREAM]?.state === 'circuit_open', 2000);
    const stats = capi.stats().pixels[STREAM];
    expect(stats).toMatchObject({ deadLettered: 0, queued: 3 });
    expect(accounted(stats)).toBe(3);
  });
});

describe('TikTok’s answers drive the shared engine', () => {
  it('40100 (rate limit) pauses TikTok’s stream only, spends no attempt, then delivers', async () => {
    let throttled = 2;
    tt.answer = () =>
      throttled-- > 0
        ? { status: 200, body: { code: 40100, message: 'Too many requests', request_id: 't' } }
        : { status: 200, body: { code: 0, message: 'OK', request_id: 'ok' } };
    const capi = client();
    const retries: string[] = [];
    capi.on('retry', (info) => retries.push(`${info.pixelId} ${info.reason}`));
    for (let i = 0; i < 4; i++) capi.track(lead(i));
    await until(() => retries.length > 0, 1000);
    expect(retries[0]).toBe(`${STREAM} throttled`);
    await capi.drain({ timeoutMs: 3000 });
    const stats = capi.stats();
    expect(stats.pixels[STREAM]).toMatchObject({ sent: 4, deadLettered: 0 });
    expect(stats.pixels[PIXEL]).toMatchObject({ sent: 4, retried: 0 });
  });

  it('40002 (an invalid event) splits the batch: the good events arrive, the bad one is dead-lettered', async () => {
    tt.answer = (request) =>
      request.body.data.some(
        (e) => (e.properties as { order_id?: string } | undefined)?.order_id === 'bad',
      )
        ? { status: 200, body: { code: 40002, message: 'Invalid parameter', request_id: 'x' } }
        : { status: 200, body: { code: 0, message: 'OK', request_id: 'ok' } };
    const capi = client({ flushIntervalMs: 50 });
    const dead: string[] = [];
    capi.on('deadLetter', (info) => {
      if (info.pixelId === STREAM) dead.push(...info.events.map((e) => e.eventId));
    });
    for (let i = 0; i < 8; i++) {
      capi.track(
        web({
          event_name: 'Purchase',
          event_id: `p-${i}`,
          user_data: { em: 'a@b.co' },
          custom_data: { value: 1, currency: 'USD', order_id: i === 5 ? 'bad' : `o-${i}` },
        }),
      );
    }
    await capi.drain({ timeoutMs: 3000 });
    expect(tt.received.length).toBeGreaterThan(1);
    expect(
      tt
        .events()
        .map((e) => e.event_id)
        .sort(),
    ).toEqual(['p-0', 'p-1', 'p-2', 'p-3', 'p-4', 'p-6', 'p-7'].sort());
    expect(dead).toEqual(['p-5']);
    const stats = capi.stats();
    expect(stats.pixels[STREAM]).toMatchObject({ sent: 7, deadLettered: 1 });
    expect(stats.pixels[PIXEL]).toMatchObject({ sent: 8, deadLettered: 0 });
    expect(accounted(stats.pixels[STREAM])).toBe(8);
  });

  it.each([40050, 40300, 41000])(
    'an unknown code (%i) is not split and dead-lettered: retried with backoff, the events arrive once it passes',
    async (code) => {
      // Read as `invalid`, an unknown 400xx split the batch and dead-lettered every event at once,
      // though a code TikTok's table does not name may well pass on its own.
      let failing = 2;
      tt.answer = () =>
        failing-- > 0
          ? { status: 200, body: { code, message: 'Something new', request_id: 'u' } }
          : { status: 200, body: { code: 0, message: 'OK', request_id: 'ok' } };
      const capi = client();
      const reasons: string[] = [];
      capi.on('retry', (info) => {
        if (info.pixelId === STREAM) reasons.push(info.reason);
      });
      for (let i = 0; i < 4; i++) capi.track(lead(i));
      await capi.drain({ timeoutMs: 3000 });
      const stats = capi.stats().pixels[STREAM];
      expect(stats).toMatchObject({ sent: 4, deadLettered: 0 });
      expect(reasons.length).toBeGreaterThan(0);
      expect(new Set(reasons)).toEqual(new Set(['transient']));
      expect(accounted(stats)).toBe(4);
    },
  );

  it.each([40150, 40199])(
    'an unknown code (%i) that never passes is given up after retry.maxAttempts, not held behind an open circuit',
    async (code) => {
      // Read as `auth` (every 401xx), the stream stopped and probed for good, keeping the events
      // until the queue filled and new ones were dropped.
      tt.answer = () => ({
        status: 200,
        body: { code, message: 'Something new', request_id: 'u' },
      });
      const capi = client({
        retry: { baseDelayMs: 5, maxDelayMs: 10, throttleBaseDelayMs: 30, maxAttempts: 2 },
      });
      for (let i = 0; i < 3; i++) capi.track(lead(i));
      await until(() => capi.stats().pixels[STREAM]?.deadLettered === 3, 2000);
      const stats = capi.stats().pixels[STREAM];
      expect(stats?.state).not.toBe('circuit_open');
      expect(stats).toMatchObject({ sent: 0, queued: 0, deadLettered: 3 });
      expect(accounted(stats)).toBe(3);
      expect(capi.stats().pixels[PIXEL]).toMatchObject({ sent: 3 });
    },
  );

  it('the sent hook carries TikTok’s request_id', async () => {
    const capi = client();
    const sent: unknown[] = [];
    capi.on('sent', (info) => {
      if (info.pixelId === STREAM) sent.push(info);
    });
    capi.track(lead(1));
    await capi.flush();
    expect(sent).toEqual([
      expect.objectContaining({ pixelId: STREAM, count: 1, traceId: 'tt-req-1' }),
    ]);
  });
});

describe('request context: ttclid kept in a first-party cookie, _ttp read', () => {
  const navigation = (url: string, cookie?: string) =>
    new Request(url, {
      headers: {
        'sec-fetch-dest': 'document',
        'user-agent': 'Mozilla/5.0 test',
        ...(cookie === undefined ? {} : { cookie }),
      },
    });

  it('a landing URL with ?ttclid= sets the cookie for 90 days and the click reaches TikTok', async () => {
    const dest = destination();
    const context = getRequestContext(
      navigation('https://www.shop.example/landing?ttclid=E.C.P.abc123', '_ttp=2F7h37Yk'),
      { destinations: [dest] },
    );
    const cookie = context.cookiesToSet.find((c) => c.name === 'ttclid');
    expect(cookie?.header).toBe(
      'ttclid=E.C.P.abc123; Max-Age=7776000; Domain=shop.example; Path=/; Secure; SameSite=Lax',
    );
    expect(context.destinations).toEqual({ tiktok: { ttclid: 'E.C.P.abc123', _ttp: '2F7h37Yk' } });
    const capi = createCapi({
      pixelId: PIXEL,
      accessToken: META_TOKEN,
      graphUrl: meta.base,
      destinations: [dest],
      flushIntervalMs: 5,
      logger: false,
      env: false,
    });
    clients.push(capi);
    const { event_id } = capi.track({ event_name: 'ViewContent' }, { context });
    await capi.flush();
    expect(byId(tt, event_id)).toMatchObject({
      user: { ttclid: 'E.C.P.abc123', ttp: '2F7h37Yk', user_agent: 'Mozilla/5.0 test' },
      page: { url: 'https://www.shop.example/landing?ttclid=E.C.P.abc123' },
    });
    // Meta's event is what it always was: TikTok's click ID is not a Meta field.
    expect(JSON.stringify(byId(meta, event_id)?.user_data)).not.toContain('abc123');
  });

  it('a later fetch reads the click from the cookie and sets nothing', () => {
    const dest = destination();
    const request = new Request('https://www.shop.example/api/cart', {
      method: 'POST',
      headers: {
        cookie: '_fbp=fb.1.1700000000000.123; ttclid=E.C.P.abc123; _ttp=2F7h37Yk',
        referer: 'https://www.shop.example/product',
      },
    });
    expect(mayWriteCookies(request, { destinations: [dest] })).toBe(false);
    const context = getRequestContext(request, { destinations: [dest] });
    expect(context.cookiesToSet).toEqual([]);
    expect(context.destinations?.tiktok).toEqual({ ttclid: 'E.C.P.abc123', _ttp: '2F7h37Yk' });
  });

  it('a fetch from a page whose URL has a new ttclid may write, and does', () => {
    const dest = destination();
    const request = new Request('https://www.shop.example/api/cart', {
      method: 'POST',
      headers: {
        cookie: '_fbp=fb.1.1700000000000.123; ttclid=old',
        referer: 'https://www.shop.example/product?ttclid=new-click',
      },
    });
    expect(mayWriteCookies(request, {})).toBe(false);
    expect(mayWriteCookies(request, { destinations: [dest] })).toBe(true);
    const context = getRequestContext(request, { destinations: [dest] });
    expect(context.cookiesToSet.map((c) => `${c.name}=${c.value}`)).toEqual(['ttclid=new-click']);
    expect(context.destinations?.tiktok?.ttclid).toBe('new-click');
  });

  it('consent denied, or cookies: false, writes no ttclid cookie', () => {
    const dest = destination();
    const url = 'https://www.shop.example/?ttclid=E.C.P.abc';
    const denied = getRequestContext(navigation(url), {
      destinations: [dest],
      consent: () => 'denied',
    });
    const off = getRequestContext(navigation(url), { destinations: [dest], cookies: false });
    for (const context of [denied, off]) {
      expect(context.cookiesToSet.some((c) => c.name === 'ttclid')).toBe(false);
    }
  });

  it('a value unfit for a cookie is neither kept nor captured', () => {
    const dest = destination();
    const context = getRequestContext(
      navigation('https://www.shop.example/?ttclid=a%3Bb%20c', '_ttp="x,y"'),
      { destinations: [dest] },
    );
    expect(context.cookiesToSet.some((c) => c.name === 'ttclid')).toBe(false);
    expect(context.destinations?.tiktok).toEqual({});
  });

  it('an empty or malformed duplicate cookie sent first does not hide the valid one (as for _fbp/_fbc)', async () => {
    // An older host-only cookie, or one a script blanked, comes first in the Cookie header: the
    // click and the TikTok Pixel's ID were lost, and the ttclid cookie was not renewed.
    const dest = destination();
    const context = getRequestContext(
      navigation(
        'https://www.shop.example/product',
        'ttclid=; _ttp="x,y"; ttclid=E.C.P.abc123; _ttp=2F7h37Yk',
      ),
      { destinations: [dest] },
    );
    expect(context.destinations?.tiktok).toEqual({ ttclid: 'E.C.P.abc123', _ttp: '2F7h37Yk' });
    expect(context.cookiesToSet.find((c) => c.name === 'ttclid')?.value).toBe('E.C.P.abc123');
    const capi = client();
    const { event_id } = capi.track({ event_name: 'ViewContent' }, { context });
    await capi.flush();
    expect(byId(tt, event_id)).toMatchObject({ user: { ttclid: 'E.C.P.abc123', ttp: '2F7h37Yk' } });
  });

  it('without destinations the context is what it always was', () => {
    const request = navigation('https://www.shop.example/?ttclid=E.C.P.abc', '_ttp=2F7h37Yk');
    const context = getRequestContext(request, {});
    expect(context.destinations).toBeUndefined();
    expect(context.cookiesToSet.map((c) => c.name)).toEqual(['_fbp']);
  });
});

describe('configuration', () => {
  it('TikTok alone: no Meta credentials, no Meta stream', async () => {
    const capi = createCapi({
      destinations: [destination()],
      flushIntervalMs: 5,
      logger: false,
      env: false,
    });
    clients.push(capi);
    const result = capi.track(lead(1));
    await capi.flush();
    expect(result.accepted).toBe(true);
    expect(Object.keys(capi.stats().pixels)).toEqual([STREAM]);
    expect(byId(tt, 'lead-1')).toBeDefined();
    expect(meta.received).toEqual([]);
  });

  it('half a Meta configuration is still an error; the same stream twice too', () => {
    expect(() =>
      createCapi({ pixelId: PIXEL, destinations: [destination()], env: false, logger: false }),
    ).toThrow(/needs a pixelId and an accessToken/);
    expect(() =>
      createCapi({
        pixelId: PIXEL,
        accessToken: META_TOKEN,
        destinations: [destination(), destination()],
        env: false,
        logger: false,
      }),
    ).toThrow(`destination ${STREAM} is listed twice`);
    expect(() => tiktok({ pixelCode: CODE, accessToken: ' ' })).toThrow(/accessToken/);
  });

  it('apiUrl: an empty one (TIKTOK_EVENTS_URL= in a .env file) is the default; a bad one is named apiUrl', () => {
    // The README passes apiUrl: process.env.TIKTOK_EVENTS_URL. Empty, it threw "TikTok url must
    // be an absolute URL", naming an option tiktok() does not have.
    expect(tiktok({ pixelCode: CODE, accessToken: TIKTOK_TOKEN, apiUrl: '' }).envelope().url).toBe(
      TIKTOK_EVENTS_URL,
    );
    expect(tiktok({ pixelCode: CODE, accessToken: TIKTOK_TOKEN, apiUrl: ' ' }).envelope().url).toBe(
      TIKTOK_EVENTS_URL,
    );
    expect(() =>
      tiktok({ pixelCode: CODE, accessToken: TIKTOK_TOKEN, apiUrl: 'business-api.tiktok.com' }),
    ).toThrow(/^TikTok apiUrl must be an absolute URL$/);
    expect(() =>
      tiktok({ pixelCode: CODE, accessToken: TIKTOK_TOKEN, apiUrl: 'ftp://mock.example/' }),
    ).toThrow(/^TikTok apiUrl must be http\(s\)$/);
    expect(() =>
      tiktok({ pixelCode: CODE, accessToken: TIKTOK_TOKEN, apiUrl: 8080 as never }),
    ).toThrow(/^TikTok apiUrl must be an absolute URL$/);
    expect(() =>
      tiktokEnvelope({ pixelCode: CODE, accessToken: TIKTOK_TOKEN, url: 'nope' }),
    ).toThrow(/^TikTok url must be an absolute URL$/);
  });

  it("refuses url, tiktokRequest's name for the endpoint, rather than send to TikTok itself", () => {
    // Ignored before: the events meant for the mock or a proxy went to business-api.tiktok.com.
    const options = { pixelCode: CODE, accessToken: TIKTOK_TOKEN, url: 'http://127.0.0.1:4000/x' };
    expect(() => tiktok(options as never)).toThrow(
      "tiktok(options): the endpoint option is apiUrl (url is tiktokRequest's and tiktokEnvelope's): write apiUrl",
    );
    expect(tiktok({ ...options, apiUrl: 'http://127.0.0.1:4000/y' } as never).envelope().url).toBe(
      'http://127.0.0.1:4000/y',
    );
  });

  it('eventNames: null is no overrides; a value that is not an object is refused at configuration', async () => {
    // `null` from a JSON config made every build throw: each event dropped for TikTok as `error`.
    const withNull = tiktok({
      pixelCode: CODE,
      accessToken: TIKTOK_TOKEN,
      apiUrl: `${tt.base}/open_api/v1.3/event/track/`,
      eventNames: null as never,
    });
    const capi = client({ destinations: [withNull] });
    const result = capi.track(lead(1));
    expect(result.destinations?.[STREAM]).toEqual({ accepted: true, issues: [] });
    await capi.flush();
    expect(byId(tt, 'lead-1')?.event).toBe('Lead');
    for (const eventNames of ['Purchase', ['CompletePayment'], 1]) {
      expect(() =>
        tiktok({ pixelCode: CODE, accessToken: TIKTOK_TOKEN, eventNames: eventNames as never }),
      ).toThrow(/eventNames must be an object/);
    }
  });

  it('eventNames given as a Map (or another non-plain object) is refused, not ignored', () => {
    // Its entries are no own properties: the check found none to refuse, the build none to use,
    // and every Purchase went to TikTok as Purchase while its Pixel fired CompletePayment.
    const map = new Map([['Purchase', 'CompletePayment']]);
    expect(() =>
      tiktok({ pixelCode: CODE, accessToken: TIKTOK_TOKEN, eventNames: map as never }),
    ).toThrow(
      "tiktok(options): eventNames must be a plain object such as { Purchase: 'CompletePayment' }, got a Map",
    );
    expect(() =>
      tiktok({ pixelCode: CODE, accessToken: TIKTOK_TOKEN, eventNames: new Date() as never }),
    ).toThrow(/eventNames must be a plain object .*, got a Date$/);
    // A null-prototype object (Object.create(null), a parsed config) is a plain one.
    const bare = Object.assign(Object.create(null), { Purchase: 'CompletePayment' });
    expect(() =>
      tiktok({ pixelCode: CODE, accessToken: TIKTOK_TOKEN, eventNames: bare }),
    ).not.toThrow();
  });

  it('an option that throws when read is a TypeError naming it at creation; eventNames is read once, never per event', async () => {
    // A getter (a secrets vault, a lazy config) threw its own error out of tiktok(), naming
    // nothing; and an eventNames entry that read well at configuration but threw later made every
    // build throw, each such event lost for TikTok as a build error.
    const hostile = { accessToken: TIKTOK_TOKEN } as { pixelCode: string; accessToken: string };
    Object.defineProperty(hostile, 'pixelCode', {
      enumerable: true,
      get() {
        throw new Error('vault unavailable');
      },
    });
    expect(() => tiktok(hostile)).toThrow(
      new TypeError(
        'tiktok(options): options.pixelCode could not be read (its getter threw Error)',
      ),
    );
    const throwing = {
      get Purchase(): never {
        throw new Error('names unavailable');
      },
    };
    expect(() =>
      tiktok({ pixelCode: CODE, accessToken: TIKTOK_TOKEN, eventNames: throwing }),
    ).toThrow(
      new TypeError(
        'tiktok(options): options.eventNames.Purchase could not be read (its getter threw Error)',
      ),
    );
    let reads = 0;
    const later = {
      get Lead(): string {
        reads += 1;
        if (reads > 1) throw new Error('names unavailable');
        return 'SubmitForm';
      },
    };
    const capi = client({
      destinations: [
        tiktok({
          pixelCode: CODE,
          accessToken: TIKTOK_TOKEN,
          apiUrl: `${tt.base}/open_api/v1.3/event/track/`,
          eventNames: later,
        }),
      ],
    });
    expect(capi.track(lead(1)).destinations?.[STREAM]).toEqual({ accepted: true, issues: [] });
    expect(capi.track(lead(2)).destinations?.[STREAM]).toEqual({ accepted: true, issues: [] });
    await capi.flush();
    expect(byId(tt, 'lead-1')?.event).toBe('SubmitForm');
    expect(byId(tt, 'lead-2')?.event).toBe('SubmitForm');
  });

  it('an eventNames value that is blank, padded or not a string is refused at configuration, naming the key', () => {
    // A blank name went out as the event name: TikTok refuses the whole batch, and bisection
    // dead-lettered every Purchase on its own.
    for (const value of [' ', ' CompletePayment', 1, null]) {
      expect(() =>
        tiktok({
          pixelCode: CODE,
          accessToken: TIKTOK_TOKEN,
          eventNames: { Purchase: value } as never,
        }),
      ).toThrow(/eventNames\.Purchase must be a TikTok event name/);
    }
    // '' keeps the table's name; a name is taken as it is.
    expect(() =>
      tiktok({
        pixelCode: CODE,
        accessToken: TIKTOK_TOKEN,
        eventNames: { Lead: '', Purchase: 'CompletePayment' },
      }),
    ).not.toThrow();
  });
});
