import { createHmac } from 'node:crypto';
import { describe, expect, it, vi } from 'vitest';
import { getRequestContext, type RequestContext } from '../../src/context/index.js';
import { createCapi } from '../../src/delivery/client.js';
import { EVENT_WINDOW_MS } from '../../src/delivery/expiry.js';
import { memoryOutbox } from '../../src/delivery/outbox/memory.js';
import type { ClaimOptions, Outbox, OutboxRecord } from '../../src/delivery/outbox/types.js';
import type { CapiOptions, FetchLike, TrackOptions } from '../../src/delivery/types.js';
import { CapiValidationError } from '../../src/event/issues.js';
import {
  captureLogger,
  FakeClock,
  graphError,
  hang,
  ok,
  PIXEL,
  PIXEL_2,
  purchase,
  type SeenRequest,
  scriptedFetch,
  settle,
  setupClient,
  TOKEN,
  TOKEN_2,
} from './helpers.js';

const setup = setupClient;

describe('createCapi: batching and the request', () => {
  it('reuses a settled body buffer, never one a request in flight may still read', async () => {
    const bodies: string[] = [];
    const buffers = new Set<ArrayBufferLike>();
    // Reads the body only after a delay, as a wrapper that awaits something first would.
    const fetch: FetchLike = async (_url, init) => {
      const bytes = init.body as Uint8Array;
      await new Promise((resolve) => setTimeout(resolve, 2));
      buffers.add(bytes.buffer);
      const text = new TextDecoder().decode(bytes);
      bodies.push(text);
      return Response.json({ events_received: JSON.parse(text).data.length });
    };
    const client = createCapi({
      pixelId: PIXEL,
      accessToken: TOKEN,
      fetch,
      env: false,
      maxBatchEvents: 3,
      maxConcurrency: 2,
    });
    const now = Date.now();
    for (let round = 0; round < 4; round++) {
      for (let i = 0; i < 7; i++) client.track(purchase(round * 7 + i, now));
      await client.flush();
    }
    await client.close();
    const ids = bodies.flatMap((text) =>
      JSON.parse(text).data.map((event: { event_id: string }) => event.event_id),
    );
    expect(ids.sort()).toEqual(Array.from({ length: 28 }, (_, i) => `evt-${i}`).sort());
    expect(bodies.length).toBe(12);
    expect(buffers.size).toBeLessThan(bodies.length); // reused…
    expect(buffers.size).toBeGreaterThan(1); // …but never while its request was in flight
  });

  it('never reuses the body of a request it abandoned: a fetch that ignores the abort may still send it', async () => {
    // A wrapper that ignores its signal (an old polyfill, a queue in front of the socket): the
    // engine gives up at its timeout, but the wrapper still holds the body and sends it later.
    const held: Uint8Array[] = [];
    const fetch: FetchLike = (_url, init) => {
      held.push(init.body as Uint8Array);
      if (held.length === 1) return new Promise<Response>(() => {});
      const text = new TextDecoder().decode(init.body as Uint8Array);
      return Promise.resolve(Response.json({ events_received: JSON.parse(text).data.length }));
    };
    const { client, clock, track } = setup(undefined, { fetch, timeoutMs: 1000 });
    track(1);
    track(2);
    void client.flush();
    await clock.advance(1000);
    // The retry (one probe event) is built after the first request was given up.
    for (let i = 0; i < 5 && held.length < 2; i++) await clock.advance(1000);
    expect(held.length).toBeGreaterThanOrEqual(2);
    const first = JSON.parse(new TextDecoder().decode(held[0]));
    expect(first.data.map((e: { event_id: string }) => e.event_id)).toEqual(['evt-1', 'evt-2']);
    await client.close({ timeoutMs: 0 });
  });

  it('sends one JSON POST per ≤1000 events with the token in the body, never in the URL', async () => {
    const { client, seen, track, eventIds } = setup(undefined, { testEventCode: 'TEST123' });
    for (let i = 0; i < 2500; i++) expect(track(i).accepted).toBe(true);
    await client.flush();
    expect(seen.map((r) => r.body.data.length)).toEqual([1000, 1000, 500]);
    const [first] = seen;
    expect(first?.url).toBe(`https://graph.facebook.com/v26.0/${PIXEL}/events`);
    expect(first?.headers['content-type']).toBe('application/json');
    expect(first?.headers.authorization).toBeUndefined();
    expect(first?.body).toMatchObject({
      access_token: TOKEN,
      partner_agent: 'capi-kit',
      test_event_code: 'TEST123',
    });
    expect(first?.body.appsecret_proof).toBeUndefined();
    expect(new Set(eventIds()).size).toBe(2500);
    expect(client.stats()).toMatchObject({ sent: 2500, queued: 0, inFlight: 0 });
  });

  it('waits flushIntervalMs for a partial batch, and sends a full batch at once', async () => {
    const { client, clock, seen, track } = setup(undefined, {
      maxBatchEvents: 10,
      flushIntervalMs: 1000,
    });
    track(1);
    track(2);
    await settle();
    expect(seen).toHaveLength(0);
    await clock.advance(999);
    expect(seen).toHaveLength(0);
    await clock.advance(1);
    await client.flush();
    expect(seen.map((r) => r.body.data.length)).toEqual([2]);
    for (let i = 0; i < 10; i++) track(100 + i);
    await settle();
    expect(seen.map((r) => r.body.data.length)).toEqual([2, 10]);
  });

  it('caps a request by maxBatchBytes', async () => {
    const { client, seen, track } = setup(undefined, { maxBatchBytes: 4000 });
    for (let i = 0; i < 20; i++) track(i);
    await client.flush();
    expect(seen.length).toBeGreaterThan(1);
    for (const r of seen)
      expect(new TextEncoder().encode(r.rawBody).length).toBeLessThanOrEqual(4000);
    expect(client.stats().sent).toBe(20);
  });

  it('adds appsecret_proof = HMAC-SHA256(appSecret, token)', async () => {
    const { client, seen, track } = setup(undefined, { appSecret: 'app-secret-value' });
    track(1);
    await client.flush();
    expect(seen[0]?.body.appsecret_proof).toBe(
      createHmac('sha256', 'app-secret-value').update(TOKEN).digest('hex'),
    );
  });

  it('serializes once: a retried body carries the same bytes, event_id and event_time', async () => {
    const { client, clock, seen, track } = setup((req, i) =>
      i === 0 ? graphError(500, 2) : ok(req),
    );
    const result = track(1, { event_id: undefined });
    expect(result.event_id).toMatch(/^[0-9a-f-]{36}$/);
    await client.flush();
    await clock.advance(60_000);
    await client.flush();
    expect(seen).toHaveLength(2);
    expect(seen[1]?.rawBody).toBe(seen[0]?.rawBody);
    expect(seen[0]?.body.data[0]?.event_id).toBe(result.event_id);
  });

  it('reads META_* from env once, at creation', async () => {
    const clock = new FakeClock();
    const { fetch, seen } = scriptedFetch();
    const env: Record<string, string | undefined> = {
      META_PIXEL_ID: PIXEL,
      META_ACCESS_TOKEN: TOKEN,
      META_TEST_EVENT_CODE: 'ENVCODE',
      META_GRAPH_URL: 'http://graph.local/',
      META_API_VERSION: 'v25.0',
    };
    const client = createCapi({ fetch, clock, env });
    env.META_PIXEL_ID = '999';
    client.track(purchase(1, clock.now()));
    await client.flush();
    expect(seen[0]?.url).toBe(`http://graph.local/v25.0/${PIXEL}/events`);
    expect(seen[0]?.body.test_event_code).toBe('ENVCODE');
  });

  it('throws at creation without credentials, without echoing any value', () => {
    expect(() => createCapi({ env: false })).toThrow(/pixelId and an accessToken/);
    expect(() => createCapi({ env: false, pixelId: PIXEL })).toThrow(TypeError);
    let message = '';
    try {
      createCapi({ env: false, pixelId: 'abc', accessToken: TOKEN });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/numeric/);
    expect(message).not.toContain(TOKEN);
    // Swapped (META_PIXEL_ID holding the token): the message must not print the token either.
    for (const options of [
      { env: false as const, pixelId: 'EAAB-secret-token', accessToken: PIXEL },
      { env: { META_PIXEL_ID: 'EAAB-secret-token', META_ACCESS_TOKEN: PIXEL } },
    ]) {
      let swapped = '';
      try {
        createCapi(options);
      } catch (error) {
        swapped = (error as Error).message;
      }
      expect(swapped).toMatch(/numeric .*swapped/);
      expect(swapped).not.toContain('secret');
    }
    expect(() =>
      createCapi({ env: false, pixelId: PIXEL, accessToken: TOKEN, maxBatchEvents: 1001 }),
    ).toThrow(RangeError);
  });

  it('throws at creation on a pixel id or token that is not a string, naming it, without its value', () => {
    // A number (a pixel id from JSON) was taken for none: the environment's id won silently.
    const env = { META_PIXEL_ID: '999', META_ACCESS_TOKEN: TOKEN };
    const numeric = { env, pixelId: Number(PIXEL) } as unknown as CapiOptions;
    expect(() => createCapi(numeric)).toThrow(
      "createCapi: pixelId must be a string; got number (quote it: '1234567890'",
    );
    const inList = { env: false, pixels: [{ pixelId: PIXEL, accessToken: 42 }] };
    let message = '';
    try {
      createCapi(inList as unknown as CapiOptions);
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toBe('createCapi: pixels[0].accessToken must be a string; got number');
  });

  it('says once at creation which option names are near misses of its own (trustproxy), never a value, and leaves other keys alone', async () => {
    const log = captureLogger();
    const client = createCapi({
      pixelId: PIXEL,
      accessToken: TOKEN,
      env: false,
      logger: log.logger,
      fetch: scriptedFetch().fetch,
      // Spread from a config file: two misspellings, and the app's own keys.
      ...({
        trustproxy: 'loopback',
        flushIntervalMS: 5,
        accesToken: 'EAAsecret',
        appName: 'shop',
      } as object),
    });
    await client.close();
    const told = log.lines.filter((line) => line.msg.includes('does not read'));
    expect(told).toHaveLength(1);
    expect(told[0]?.level).toBe('warn');
    expect(told[0]?.msg).toContain("'trustproxy' (did you mean 'trustProxy'?)");
    expect(told[0]?.msg).toContain("'flushIntervalMS' (did you mean 'flushIntervalMs'?)");
    expect(told[0]?.msg).toContain("'accesToken' (did you mean 'accessToken'?)");
    expect(told[0]?.msg).not.toMatch(/appName|EAAsecret|loopback/);
    // Correct names only: nothing said.
    const quiet = captureLogger();
    await createCapi({
      pixelId: PIXEL,
      accessToken: TOKEN,
      env: false,
      logger: quiet.logger,
      trustProxy: 'loopback',
    } as CapiOptions).close();
    expect(quiet.lines.filter((line) => line.msg.includes('does not read'))).toEqual([]);
  });

  it('throws at creation on an app secret given as the access token, naming the options, without either value', () => {
    // Both come from the app's settings page: the secret (32 hex digits) pasted as the token was
    // sent as it was, Meta answered 190 on the first batch and every event waited behind the auth
    // circuit, the log saying only that the credentials were refused.
    const SECRET = '0123456789abcdef0123456789ABCDEF';
    const refusal = (options: CapiOptions) => {
      try {
        void createCapi({ env: false, ...options }).close();
      } catch (error) {
        return (error as Error).message;
      }
      return undefined;
    };
    const asToken = refusal({ pixelId: PIXEL, accessToken: SECRET });
    expect(asToken).toBe(
      'createCapi: pixel #0: accessToken is shaped like an app secret (32 hexadecimal characters), not an access token: pass the Conversions API access token (generated in Events Manager › Settings, it starts with EAA); an app secret goes in appSecret',
    );
    const fromEnv = refusal({ env: { META_PIXEL_ID: PIXEL, META_ACCESS_TOKEN: SECRET } });
    expect(fromEnv).toMatch(/accessToken is shaped like an app secret/);
    const same = refusal({ pixelId: PIXEL, accessToken: TOKEN, appSecret: TOKEN });
    expect(same).toBe(
      'createCapi: pixel #0: accessToken and appSecret are the same value: appSecret is the app secret from the app dashboard (App settings › Basic), not the access token',
    );
    for (const message of [asToken, fromEnv, same]) {
      expect(message).not.toContain(SECRET);
      expect(message).not.toContain(TOKEN);
    }
    // A real token with the app's secret beside it is what appSecret is for.
    expect(refusal({ pixelId: PIXEL, accessToken: TOKEN, appSecret: SECRET })).toBeUndefined();
  });

  it('throws at creation on a retry that is not an object and a logger that is not one (or false)', () => {
    const make = (extra: Record<string, unknown>) => () =>
      createCapi({ env: false, pixelId: PIXEL, accessToken: TOKEN, ...extra } as CapiOptions);
    // Meant as maxAttempts: read as no settings at all.
    expect(make({ retry: 3 })).toThrow(
      'createCapi: retry must be an object of settings, e.g. { maxAttempts: 3 }, got number',
    );
    // pino's level name: every log call failed, so nothing was ever said.
    expect(make({ logger: 'silent' })).toThrow(
      'createCapi: logger must be an object with debug, info, warn and error (console, a pino logger) or false for none, got the string "silent"',
    );
    expect(make({ logger: true })).toThrow('createCapi: logger must be an object');
    for (const ok of [{ retry: { maxAttempts: 3 } }, { logger: false }, { logger: console }]) {
      void make(ok)().close();
    }
  });

  it('throws at creation on a development, strict, closeOnExit or flushOnEnd that is not a boolean', () => {
    // 'false' from an environment variable was truthy: development notes printed in production.
    const make = (extra: Record<string, unknown>) => () =>
      createCapi({ env: false, pixelId: PIXEL, accessToken: TOKEN, ...extra } as CapiOptions);
    expect(make({ development: 'false' })).toThrow(
      'createCapi: development must be true or false, got the string "false"',
    );
    expect(make({ closeOnExit: 0 })).toThrow(
      'createCapi: closeOnExit must be true or false (or { timeoutMs }), got number',
    );
    expect(make({ strict: 'true' })).toThrow('createCapi: strict must be true or false');
    expect(make({ flushOnEnd: 'yes' })).toThrow('createCapi: flushOnEnd must be true or false');
    for (const ok of [
      { development: false },
      { strict: true, closeOnExit: false },
      // closeOnExit's deadline form.
      { closeOnExit: { timeoutMs: 500 } },
      {},
    ]) {
      const client = make(ok)();
      void client.close();
    }
  });

  it('throws at creation on pixels that is not an array, naming its shape', () => {
    // It failed with "(intermediate value)….map is not a function".
    const make = (pixels: unknown) => () =>
      createCapi({ env: false, pixels } as unknown as CapiOptions);
    expect(make(PIXEL)).toThrow(
      'createCapi: pixels must be an array of { pixelId, accessToken }, got a string (for one pixel, use pixelId and accessToken)',
    );
    expect(make({ pixelId: PIXEL, accessToken: TOKEN })).toThrow(
      'createCapi: pixels must be an array of { pixelId, accessToken }, got object',
    );
    expect(make([{ pixelId: PIXEL, accessToken: TOKEN }])).not.toThrow();
  });

  it('throws at creation on defaultCountry or dateOrder beside the options, naming buildOptions', () => {
    // The development log says "Set user_data.country, or the defaultCountry option": given to
    // createCapi (or an adapter) beside its options, it was ignored without a word.
    const options = { env: false, pixelId: PIXEL, accessToken: TOKEN, defaultCountry: 'US' };
    expect(() => createCapi(options as CapiOptions)).toThrow(
      "createCapi: defaultCountry is an option of each event's build: write buildOptions: { defaultCountry: … }",
    );
    const order = { env: false, pixelId: PIXEL, accessToken: TOKEN, dateOrder: 'dmy' };
    expect(() => createCapi(order as CapiOptions)).toThrow('write buildOptions: { dateOrder: … }');
    const client = createCapi({
      env: false,
      pixelId: PIXEL,
      accessToken: TOKEN,
      buildOptions: { defaultCountry: 'US' },
    });
    void client.close();
  });

  it("throws at creation on an option spelled as Meta's wire name, naming ours", () => {
    // Ignored from JavaScript before: test_event_code sent test traffic as live conversions.
    const options = { env: false, pixelId: PIXEL, accessToken: TOKEN, test_event_code: 'TEST1' };
    expect(() => createCapi(options as CapiOptions)).toThrow(
      'createCapi: options are camelCase: test_event_code is not an option, write testEventCode',
    );
    const inList = { env: false, pixels: [{ pixel_id: PIXEL, accessToken: TOKEN }] };
    expect(() => createCapi(inList as unknown as CapiOptions)).toThrow(
      'pixel_id is not an option, write pixelId',
    );
  });

  it('names a number option given as a string, and never says a refused Infinity was allowed', () => {
    const make = (extra: Record<string, unknown>) => () =>
      createCapi({ env: false, pixelId: PIXEL, accessToken: TOKEN, ...extra } as CapiOptions);
    // From an environment variable: the message read "got 5000", which looks like what it wants.
    expect(make({ timeoutMs: '5000' })).toThrow(
      'createCapi: timeoutMs must be a number > 0 and finite, got the string "5000" (convert it with Number())',
    );
    expect(make({ flushIntervalMs: '250' })).toThrow(
      'createCapi: flushIntervalMs must be a number ≥ 0 and finite, got the string "250" (convert it with Number())',
    );
    // It said "must be a number in (0, Infinity], got Infinity".
    expect(make({ timeoutMs: Number.POSITIVE_INFINITY })).toThrow(
      'createCapi: timeoutMs must be a number > 0 and finite, got Infinity',
    );
    expect(make({ maxBatchEvents: 5000 })).toThrow(
      'createCapi: maxBatchEvents must be a number in (0, 1000], got 5000',
    );
  });

  it('throws at creation on an apiVersion Graph does not spell so, suggesting the right one', () => {
    const make =
      (apiVersion: unknown, env: Record<string, string> | false = false) =>
      () =>
        createCapi({ env, pixelId: PIXEL, accessToken: TOKEN, apiVersion } as CapiOptions);
    // `26` or `v26` built /26/{pixel}/events: Graph's error 2500 on every delivery, retried as
    // transient until the event ran out of attempts, the option never named.
    expect(make('26')).toThrow(/apiVersion "26" is not a Graph API version.*did you mean v26\.0\?/);
    expect(make('v26')).toThrow(/did you mean v26\.0\?/);
    expect(make('latest')).toThrow(/apiVersion "latest" is not a Graph API version.*'v26\.0'/);
    expect(make(26)).toThrow(/apiVersion must be a string such as 'v26\.0'; got number/);
    expect(make(undefined, { META_API_VERSION: '25' })).toThrow(
      /META_API_VERSION "25" is not a Graph API version.*did you mean v25\.0\?/,
    );
    // Not quoted when it is not plain: it may be a secret pasted in the wrong place.
    expect(make('EAAB secret/token=1')).toThrow(/apiVersion is not a Graph API version/);
    expect(make('v25.0')).not.toThrow();
    expect(make(' v24.0 ')).not.toThrow();
    expect(make(undefined, { META_API_VERSION: 'v23.0' })).not.toThrow();
    expect(make(undefined)).not.toThrow();
  });

  it('throws at creation on a graphUrl no request could be sent to, without echoing it', () => {
    const make =
      (graphUrl: string, env: Record<string, string> | false = false) =>
      () =>
        createCapi({ env, pixelId: PIXEL, accessToken: TOKEN, graphUrl });
    // The usual slip: the host without its scheme. Every delivery failed until the event ran out of attempts.
    expect(make('graph.facebook.com')).toThrow(
      /graphUrl \(or META_GRAPH_URL\) is not an absolute URL/,
    );
    expect(make('ftp://graph.example')).toThrow(/must be http\(s\)/);
    expect(make('https://graph.example/?access_token=secret0')).toThrow(/query or fragment/);
    let message = '';
    try {
      make('https://proxy-user:s3cret@graph.example')();
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/must not carry a user name or password/);
    expect(message).not.toMatch(/s3cret|proxy-user/);
    expect(() =>
      createCapi({
        env: { META_GRAPH_URL: 'graph.example' },
        pixelId: PIXEL,
        accessToken: TOKEN,
      }),
    ).toThrow(/META_GRAPH_URL/);
    // A base URL with a path and trailing slashes is one.
    expect(make('http://127.0.0.1:4000/mock/')).not.toThrow();
  });

  it('throws at creation on an outbox that is not one: the factory itself, a missing method', () => {
    const make = (outbox: unknown) => () =>
      createCapi({ env: false, pixelId: PIXEL, accessToken: TOKEN, outbox: outbox as Outbox });
    // The usual slip: `outbox: sqliteOutbox` for `outbox: sqliteOutbox({ path })`.
    expect(make(memoryOutbox)).toThrow(/outbox is a function, not an outbox: call the factory/);
    expect(make(null)).toThrow(/outbox must be an object, got null/);
    const { stats: _stats, ...noStats } = memoryOutbox();
    expect(make({ ...noStats, durable: true })).toThrow(/outbox\.stats must be a function/);
    expect(make({ ...memoryOutbox(), flush: true })).toThrow(
      /outbox\.flush must be a function when given/,
    );
    // A whole one, and one built as a class instance (methods on the prototype), are taken.
    class Boxed {
      readonly durable = false;
      readonly #memory = memoryOutbox();
      append(records: readonly OutboxRecord[]) {
        return this.#memory.append(records);
      }
      claim(limit: number, leaseMs: number, options?: ClaimOptions) {
        return this.#memory.claim(limit, leaseMs, options);
      }
      ack(ids: readonly string[]) {
        return this.#memory.ack(ids);
      }
      nack(ids: readonly string[], retryAt: number, error?: string) {
        return this.#memory.nack(ids, retryAt, error);
      }
      release(ids: readonly string[], retryAt: number) {
        return this.#memory.release(ids, retryAt);
      }
      deadLetter(ids: readonly string[], error: string) {
        return this.#memory.deadLetter(ids, error);
      }
      stats() {
        return this.#memory.stats();
      }
    }
    for (const outbox of [memoryOutbox(), new Boxed()]) {
      void (make(outbox)() as ReturnType<typeof createCapi>).close({ timeoutMs: 0 });
    }
  });

  it('takes every shape a whole outbox comes in: callable, a Proxy, methods up a prototype chain, durable as a getter', async () => {
    const make = (outbox: unknown) =>
      createCapi({
        env: false,
        pixelId: PIXEL,
        accessToken: TOKEN,
        fetch: scriptedFetch(ok).fetch,
        outbox: outbox as Outbox,
      });
    const inner = memoryOutbox();
    const outboxes: unknown[] = [
      // A function carrying every method is an outbox, not a factory.
      Object.assign(() => undefined, memoryOutbox()),
      new Proxy(memoryOutbox(), {}),
      Object.create(Object.create(memoryOutbox())),
      Object.defineProperty({ ...inner }, 'durable', { get: () => false, enumerable: true }),
    ];
    for (const outbox of outboxes) {
      const client = make(outbox);
      expect(client.track(purchase(1, Date.now())).accepted).toBe(true);
      await client.close({ timeoutMs: 0 });
    }
  });
});

describe('createCapi: track()', () => {
  it('rejects an invalid event through the result and the hooks, without throwing', () => {
    const { client, hooks } = setup();
    const result = client.track({ event_name: 'Purchase', action_source: 'website' } as never);
    expect(result.accepted).toBe(false);
    expect(result.reason).toBe('invalid');
    expect(result.issues.some((i) => i.severity === 'error')).toBe(true);
    expect(hooks.error[0]?.kind).toBe('validation');
    expect(hooks.dropped[0]).toMatchObject({ reason: 'invalid', count: 1 });
    expect(client.stats().dropped.invalid).toBe(1);
  });

  it('throws CapiValidationError in strict mode', () => {
    const { client } = setup(undefined, { strict: true });
    expect(() =>
      client.track({ event_name: 'Purchase', action_source: 'website' } as never),
    ).toThrow(CapiValidationError);
    expect(client.stats().dropped.invalid).toBe(1);
  });

  it('never throws on garbage input', () => {
    const { client } = setup();
    for (const input of [undefined, null, 42, 'x', [], { event_name: {} }]) {
      expect(() => client.track(input as never)).not.toThrow();
      expect(client.track(input as never).accepted).toBe(false);
    }
  });

  it('merges the request context; consent "denied" drops the event', async () => {
    const { client, clock, seen } = setup();
    const context: RequestContext = {
      user_data: {
        client_ip_address: '198.51.100.9',
        client_user_agent: 'Ctx UA',
        fbp: 'fb.1.1700000000000.42',
      },
      event_source_url: 'https://ctx.example.com/p',
      cookiesToSet: [],
      consent: 'granted',
      isNavigation: true,
    };
    const input = purchase(1, clock.now());
    const {
      client_ip_address: _ip,
      client_user_agent: _ua,
      fbp: _fbp,
      ...userData
    } = input.user_data;
    const { event_source_url: _url, ...rest } = input;
    expect(client.track({ ...rest, user_data: userData }, { context }).accepted).toBe(true);
    const denied = client.track(purchase(2, clock.now()), {
      context: { ...context, consent: 'denied' },
    });
    expect(denied).toMatchObject({ accepted: false, reason: 'consent', event_id: 'evt-2' });
    await client.flush();
    expect(seen).toHaveLength(1);
    expect(seen[0]?.body.data).toHaveLength(1);
    expect(seen[0]?.body.data[0]).toMatchObject({
      event_id: 'evt-1',
      event_source_url: 'https://ctx.example.com/p',
      user_data: { client_ip_address: '198.51.100.9', client_user_agent: 'Ctx UA' },
    });
    expect(client.stats().dropped.consent).toBe(1);
  });

  it('an event refused without an id of its own still returns one, the id its drop reports', async () => {
    const { client, clock, seen } = setup();
    const dropped: string[] = [];
    client.on('dropped', (info) => {
      for (const event of info.events) dropped.push(event.eventId);
    });
    const { event_id: _id, ...noId } = purchase(1, clock.now());
    const context: RequestContext = {
      user_data: {},
      cookiesToSet: [],
      consent: 'denied',
      isNavigation: true,
    };
    const results = [
      // Refused by validation (no event_source_url for a website event) ...
      client.track({ ...noId, event_source_url: undefined }),
      // ... by consent, and, below, after close().
      client.track(noId, { context }),
    ];
    await client.close();
    results.push(client.track(noId));
    expect(results.map((r) => r.reason)).toEqual(['invalid', 'consent', 'closed']);
    const ids = results.map((r) => r.event_id);
    // The page hands this id to the browser Pixel (`if (result.event_id) fbq(…)`): an empty one
    // skipped the browser copy; a fresh one keeps it its own event, counted once.
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-/);
    expect(new Set(ids).size).toBe(3);
    expect(dropped).toEqual(ids);
    expect(seen).toHaveLength(0);
  });

  it('drops events past the 7-day window before sending (reason expired)', async () => {
    const sentAt: number[] = [];
    let now = () => 0;
    const { client, clock, track, hooks } = setup(
      () => {
        sentAt.push(now());
        return graphError(500, 2);
      },
      { retry: { baseDelayMs: 1000, maxDelayMs: 3_600_000, maxAttempts: 1000 } },
    );
    now = clock.now;
    const trackedAt = clock.now();
    track(1);
    await client.flush();
    expect(sentAt).toHaveLength(1);
    // Backoff is capped at an hour: the event is retried for a week, then dropped, never sent late.
    for (let i = 0; i < 40; i++) await clock.advance(6 * 3600 * 1000);
    await client.flush();
    const stats = client.stats();
    expect(stats.dropped.expired).toBe(1);
    expect(stats.queued).toBe(0);
    expect(hooks.dropped.at(-1)).toMatchObject({ reason: 'expired', count: 1 });
    expect(sentAt.length).toBeGreaterThan(100);
    const lastAge = Math.max(...sentAt) - trackedAt;
    expect(lastAge).toBeGreaterThan(6.9 * 86_400_000);
    expect(lastAge).toBeLessThan(7 * 86_400_000);
  });

  it("the warning for events dropped as too old names the platform's window, not 7 days for a store event of 63 days", async () => {
    const { client, clock, log } = setup(() => graphError(500, 2), {
      retry: { baseDelayMs: 1000, maxDelayMs: 3_600_000, maxAttempts: 10_000 },
    });
    const day = 86_400_000;
    client.track(purchase(1, clock.now() - 61 * day, { action_source: 'physical_store' }));
    await client.flush();
    for (let i = 0; i < 10; i++) await clock.advance(6 * 3600 * 1000);
    await client.flush();
    expect(client.stats().dropped.expired).toBe(1);
    const warned = log.lines.filter((l) => l.level === 'warn' && /past/.test(l.msg));
    expect(warned.map((l) => l.msg)).toEqual([
      "capi-kit: dropped events past Meta's upload window (7 days; 62 for physical_store)",
    ]);
  });

  it('a timeoutMs past the 60 s margin checks the age that far ahead: no request can land after the window', async () => {
    // 90 s left in the window: outside the 60 s margin, but a request may take 120 s.
    const long = setup(undefined, { timeoutMs: 120_000 });
    long.client.track(purchase(1, long.clock.now() - EVENT_WINDOW_MS + 90_000));
    await long.client.flush();
    expect(long.seen).toHaveLength(0);
    expect(long.client.stats()).toMatchObject({ sent: 0, queued: 0, dropped: { expired: 1 } });
    await long.client.close();
    // The default timeout: the margin covers the request, and the event is sent.
    const short = setup();
    short.client.track(purchase(1, short.clock.now() - EVENT_WINDOW_MS + 90_000));
    await short.client.flush();
    expect(short.seen).toHaveLength(1);
    expect(short.client.stats()).toMatchObject({ sent: 1, dropped: { expired: 0 } });
    await short.client.close();
  });

  it('after close(): not accepted, reason closed', async () => {
    const { client, track } = setup();
    await client.close();
    expect(track(1)).toMatchObject({ accepted: false, reason: 'closed', event_id: 'evt-1' });
    expect(client.stats().dropped.closed).toBe(1);
  });
});

describe('createCapi: retry policy', () => {
  it('after a transient failure one batch probes at a time, then concurrency comes back', async () => {
    let inFlight = 0;
    let peak = 0;
    const peaks: number[] = [];
    const pending: (() => void)[] = [];
    let failing = true;
    const { client, clock, track } = setup(
      async (req) => {
        inFlight++;
        peak = Math.max(peak, inFlight);
        await new Promise<void>((resolve) => pending.push(resolve));
        inFlight--;
        return failing ? graphError(503, 2) : ok(req);
      },
      // Answers come when the test releases them, never by the request timeout.
      { maxBatchEvents: 1, maxConcurrency: 4, timeoutMs: 600_000 },
    );
    const answerAll = async () => {
      while (pending.length > 0) {
        for (const resolve of pending.splice(0)) resolve();
        await settle();
      }
    };
    for (let i = 1; i <= 8; i++) track(i);
    await settle();
    peaks.push(peak); // healthy: four requests at once
    await answerAll(); // all four fail
    for (let step = 0; step < 3; step++) {
      peak = 0;
      await clock.advance(60_000); // past any backoff
      await settle();
      peaks.push(peak);
      await answerAll();
    }
    failing = false;
    peak = 0;
    await clock.advance(60_000);
    await settle();
    peaks.push(peak); // the probe that succeeds
    peak = 0;
    for (const resolve of pending.splice(0)) resolve();
    await settle();
    peaks.push(peak); // after its success: four at once again
    await answerAll();
    await client.flush();
    expect(peaks).toEqual([4, 1, 1, 1, 1, 4]);
    expect(client.stats()).toMatchObject({ sent: 8, queued: 0 });
  });

  it('transient 5xx: backs off with full jitter on the whole pixel, then delivers', async () => {
    const { client, clock, seen, hooks, track } = setup((req, i) =>
      i < 2 ? graphError(500, 1) : ok(req),
    );
    track(1);
    await client.flush();
    expect(seen).toHaveLength(1);
    // random() = 0.5 → first delay 0.5 × 1000 ms.
    expect(hooks.retry[0]).toMatchObject({
      reason: 'transient',
      delayMs: 500,
      status: 500,
      count: 1,
    });
    expect(client.stats().pixels[PIXEL]?.state).toBe('paused');
    track(2); // joins the queue but the pixel is paused
    await client.flush();
    expect(seen).toHaveLength(1);
    await clock.advance(499);
    expect(seen).toHaveLength(1);
    await clock.advance(1);
    await client.flush();
    expect(seen).toHaveLength(2);
    expect(hooks.retry[1]).toMatchObject({ delayMs: 1000 }); // 0.5 × 2000
    await clock.advance(1000);
    await client.flush();
    // While failing, the probe carries one event; once it succeeds the rest follow in full batches.
    expect(seen.map((r) => r.body.data.map((e) => e.event_id))).toEqual([
      ['evt-1'],
      ['evt-1'],
      ['evt-1'],
      ['evt-2'],
    ]);
    expect(client.stats()).toMatchObject({ sent: 2, retried: 2, queued: 0 }); // per event per retry
  });

  it('during an outage only the probe spends attempts: the queued batch survives', async () => {
    // Five failed requests, then recovery. With maxAttempts 3, re-sending the whole batch would
    // dead-letter all ten at the third request; with one-event probes two events run out (each
    // probe event after two probes), and the other eight arrive.
    const { client, clock, seen, track } = setup(
      (req, i) => (i < 5 ? graphError(503, 2) : ok(req)),
      {
        retry: { baseDelayMs: 1000, maxDelayMs: 1000, maxAttempts: 3 },
      },
    );
    for (let i = 1; i <= 10; i++) track(i);
    await client.flush();
    for (let step = 0; step < 6; step++) {
      await clock.advance(1000);
      await client.flush();
    }
    expect(seen.map((r) => r.body.data.length)).toEqual([10, 1, 1, 1, 1, 1, 7]);
    expect(client.stats()).toMatchObject({ sent: 8, deadLettered: 2, queued: 0 });
  });

  it('honours Retry-After on a 503', async () => {
    const { client, clock, seen, track } = setup((req, i) =>
      i === 0 ? new Response('down', { status: 503, headers: { 'retry-after': '7' } }) : ok(req),
    );
    track(1);
    await client.flush();
    await clock.advance(6999);
    expect(seen).toHaveLength(1);
    await clock.advance(1);
    await client.flush();
    expect(seen).toHaveLength(2);
  });

  it('network errors and timeouts are transient', async () => {
    const { client, clock, seen, hooks, track } = setup(
      (req, i) => {
        if (i === 0) throw new TypeError('fetch failed');
        if (i === 1) return hang(req);
        return ok(req);
      },
      { timeoutMs: 1500 },
    );
    track(1);
    await client.flush();
    expect(hooks.retry[0]).toMatchObject({
      status: 0,
      error: 'network error: TypeError: fetch failed',
    });
    await clock.advance(500);
    await settle();
    expect(seen).toHaveLength(2);
    await clock.advance(1500);
    await client.flush();
    expect(hooks.retry[1]).toMatchObject({ status: 0, error: 'timed out after 1500 ms' });
    await clock.advance(60_000);
    await client.flush();
    expect(client.stats().sent).toBe(1);
  });

  it('dead-letters after maxAttempts', async () => {
    const onUndeliverable = vi.fn();
    const { client, clock, seen, hooks, track } = setup(() => graphError(500, 2), {
      retry: { maxAttempts: 3 },
      onUndeliverable,
    });
    track(1);
    for (let i = 0; i < 5; i++) {
      await client.flush();
      await clock.advance(60_000);
    }
    expect(seen).toHaveLength(3);
    expect(hooks.deadLetter).toHaveLength(1);
    expect(hooks.deadLetter[0]).toMatchObject({
      reason: 'max_attempts',
      count: 1,
      events: [{ eventId: 'evt-1' }],
    });
    expect(onUndeliverable).toHaveBeenCalledWith(
      [expect.objectContaining({ eventId: 'evt-1' })],
      'max_attempts',
    );
    expect(client.stats()).toMatchObject({ deadLettered: 1, queued: 0 });
  });

  it('throttling (code 4 answered with 400) pauses the pixel for Retry-After and spends no attempt', async () => {
    const { client, clock, seen, hooks, track } = setup(
      (req, i) =>
        i < 3 ? graphError(400, 4, { is_transient: true }, { 'retry-after': '2' }) : ok(req),
      { retry: { maxAttempts: 1 } },
    );
    track(1);
    await client.flush();
    expect(hooks.retry[0]).toMatchObject({ reason: 'throttled', delayMs: 2000 });
    expect(client.stats().pixels[PIXEL]).toMatchObject({
      state: 'paused',
      pausedUntil: clock.now() + 2000,
    });
    for (let i = 0; i < 3; i++) {
      const before = seen.length;
      await clock.advance(1999);
      expect(seen).toHaveLength(before);
      await clock.advance(1);
      await client.flush();
      expect(seen).toHaveLength(before + 1);
    }
    // maxAttempts 1, yet three throttles did not dead-letter it.
    expect(client.stats()).toMatchObject({ sent: 1, deadLettered: 0 });
  });

  it('throttling without a hint doubles the pause (equal jitter) and caps Retry-After', async () => {
    const { client, clock, hooks, track } = setup(
      (req, i) =>
        i === 0
          ? graphError(400, 613)
          : i === 1
            ? graphError(400, 17)
            : i === 2
              ? new Response('', { status: 429, headers: { 'retry-after': '3600' } })
              : ok(req),
      { retry: { throttleBaseDelayMs: 1000, maxRetryAfterMs: 300_000 } },
    );
    track(1);
    await client.flush();
    await clock.advance(750);
    await client.flush();
    await clock.advance(1500);
    await client.flush();
    expect(hooks.retry.map((r) => r.delayMs)).toEqual([750, 1500, 300_000]);
    await clock.advance(300_000);
    await client.flush();
    expect(client.stats().sent).toBe(1);
  });

  it.each([
    [
      '429, Retry-After: 0',
      () => new Response('', { status: 429, headers: { 'retry-after': '0' } }),
    ],
    // The server's clock behind ours: its date has already passed when the answer is read.
    [
      '613, Retry-After a past date',
      () => graphError(400, 613, {}, { 'retry-after': 'Sat, 12 Sep 2026 09:59:00 GMT' }),
    ],
    [
      '503, Retry-After: 0',
      () => new Response('', { status: 503, headers: { 'retry-after': '0' } }),
    ],
    // Below the header's unit (whole seconds): a millisecond taken literally is a burst too.
    [
      '429, Retry-After: 0.001',
      () => new Response('', { status: 429, headers: { 'retry-after': '0.001' } }),
    ],
    [
      '503, Retry-After: 0.05',
      () => new Response('', { status: 503, headers: { 'retry-after': '0.05' } }),
    ],
  ])(
    '%s asks for no wait: the backoff still applies, no burst, nothing dead-lettered',
    async (_, answer) => {
      const { client, clock, seen, track } = setup(answer);
      // A backlog of full batches: each answer would otherwise start the next request at once.
      for (let i = 0; i < 3000; i++) track(i);
      // In steps, so a retry timer set by an answer comes due within the second.
      for (let step = 0; step < 100; step++) await clock.advance(10);
      // The first requests, then paused by the throttle step (5 s) or the backoff (0.5 s, then 1 s).
      expect(seen.length).toBeLessThanOrEqual(8);
      expect(client.stats()).toMatchObject({ deadLettered: 0, queued: 3000 });
      await client.close({ timeoutMs: 0 });
    },
  );

  it('events out of attempts are dead-lettered, not also reported as retried', async () => {
    // A throttle past freeThrottles spends an attempt: with none left the event is dead-lettered.
    const throttled = setup(() => graphError(400, 613), {
      retry: { maxAttempts: 1, freeThrottles: 0 },
    });
    throttled.track(1);
    await throttled.client.flush();
    expect(throttled.hooks.deadLetter.map((d) => d.count)).toEqual([1]);
    expect(throttled.hooks.retry).toEqual([]);
    expect(throttled.client.stats()).toMatchObject({ retried: 0, deadLettered: 1, queued: 0 });
    await throttled.client.close({ timeoutMs: 0 });

    // A batch of an event with an attempt left and one without: one of each.
    const mixed = setup(() => graphError(400, 613), {
      retry: { maxAttempts: 2, freeThrottles: 0 },
    });
    mixed.track(1);
    await mixed.client.flush();
    mixed.track(2);
    // Past the first throttle pause (3.75 s), not the second.
    await mixed.clock.advance(4000);
    await mixed.client.flush();
    expect(mixed.eventIds()).toEqual(['evt-1', 'evt-1', 'evt-2']);
    expect(mixed.hooks.deadLetter.map((d) => d.events.map((e) => e.eventId))).toEqual([['evt-1']]);
    expect(mixed.hooks.retry.map((r) => r.count)).toEqual([1, 1]);
    expect(mixed.client.stats()).toMatchObject({ retried: 2, deadLettered: 1, queued: 1 });
    await mixed.client.close({ timeoutMs: 0 });
  });

  it('a refusal of the request waiting will not fix (2635, a 404 page) is told once, in Meta’s words', async () => {
    const deprecated =
      '(#2635) You are calling a deprecated version of the Ads API. Please update to the latest version.';
    const { client, clock, seen, hooks, log, track } = setup((req, i) => {
      if (i < 3) return graphError(400, 2635, { message: deprecated, is_transient: false });
      if (i < 5) return new Response('<html>Not Found</html>', { status: 404 });
      if (i < 6) return graphError(503, 2);
      return ok(req);
    });
    track(1);
    track(2);
    for (let i = 0; i < 7; i++) {
      await client.flush();
      await clock.advance(60_000);
    }
    await client.flush();
    expect(client.stats()).toMatchObject({ sent: 2, deadLettered: 0, queued: 0 });
    const told = log.lines.filter((l) => l.level === 'error');
    // One line per kind of refusal, at the first one; none for the 503, an outage.
    expect(told).toHaveLength(2);
    expect(told[0]?.obj).toMatchObject({ pixelId: PIXEL, status: 400, code: 2635 });
    expect(told[0]?.msg).toContain(`HTTP 400 code 2635: ${deprecated}`);
    expect(told[0]?.msg).toContain('check the API version, the endpoint URL and the pixel id');
    expect(told[1]?.msg).toContain(
      `HTTP 404 from https://graph.facebook.com/v26.0/${PIXEL}/events`,
    );
    expect(hooks.warn.map((w) => w.message)).toEqual(told.map((l) => l.msg));
    // Retried as before: each failure is a retry, the request never bisected.
    expect(hooks.retry.map((r) => r.status)).toEqual([400, 400, 400, 404, 404, 503]);
    expect(seen.map((r) => r.body.data.length)).toEqual([2, 1, 1, 1, 1, 1, 1, 1]);
    expect(log.text()).not.toContain(TOKEN);
    await client.close();
  });

  it('auth (190): one request, no retry, circuit open, loud error; resume() sends again', async () => {
    let allow = false;
    const { client, clock, seen, hooks, log, track } = setup((req) =>
      allow
        ? ok(req)
        : graphError(400, 190, { message: 'Error validating access token: Session has expired' }),
    );
    track(1);
    track(2);
    await client.flush();
    expect(seen).toHaveLength(1);
    expect(hooks.error).toHaveLength(1);
    expect(hooks.error[0]).toMatchObject({ kind: 'auth', pixelId: PIXEL });
    expect(hooks.error[0]?.error.message).toContain('Session has expired');
    expect(log.lines.filter((l) => l.level === 'error')).toHaveLength(1);
    expect(hooks.retry).toHaveLength(0);
    for (let i = 0; i < 10; i++) {
      track(10 + i);
      await clock.advance(30_000);
      await client.flush();
    }
    expect(seen).toHaveLength(1);
    expect(client.stats()).toMatchObject({ queued: 12, sent: 0 });
    expect(client.stats().pixels[PIXEL]?.state).toBe('circuit_open');
    allow = true;
    client.resume(PIXEL);
    await settle();
    await client.flush();
    expect(client.stats()).toMatchObject({ queued: 0, sent: 12 });
  });

  it('resume() reads the pixel id as createCapi does (spaces, a number) and names an id it does not have', async () => {
    let allow = false;
    const { client, seen, log, track } = setup((req) =>
      allow ? ok(req) : graphError(400, 190, { message: 'Session has expired' }),
    );
    track(1);
    await client.flush();
    expect(client.stats().pixels[PIXEL]?.state).toBe('circuit_open');
    allow = true;
    // A typo or another client's pixel: nothing to resume, and the app is told so.
    client.resume('999000111');
    await settle();
    expect(client.stats().pixels[PIXEL]?.state).toBe('circuit_open');
    const told = log.lines.filter((l) => l.msg.startsWith('capi-kit: resume('));
    expect(told).toHaveLength(1);
    expect(told[0]?.level).toBe('warn');
    expect(told[0]?.msg).toContain(`resume('999000111'): this client has no pixel 999000111`);
    expect(told[0]?.msg).toContain(`its pixels: ${PIXEL}`);
    // Not an id at all (a token passed by mistake): its length, never the value.
    client.resume('EAAsecretvalue');
    expect(log.text()).not.toContain('EAAsecretvalue');
    expect(log.lines.at(-1)?.msg).toContain('not a pixel id (14 characters)');
    // The id as read from an environment variable with its newline, or as a number.
    client.resume(` ${PIXEL}\n`);
    await settle();
    await client.flush();
    expect(client.stats()).toMatchObject({ queued: 0, sent: 1 });
    expect(seen.length).toBeGreaterThan(1);
    client.resume(Number(PIXEL) as unknown as string);
    expect(log.lines.filter((l) => l.msg.startsWith('capi-kit: resume('))).toHaveLength(2);
    await client.close();
  });

  it('auth: after authProbeIntervalMs one probe batch is tried', async () => {
    let allow = false;
    const { client, clock, seen, hooks, track } = setup(
      (req) => (allow ? ok(req) : graphError(403, 200)),
      { maxBatchEvents: 2, retry: { authProbeIntervalMs: 60_000 } },
    );
    for (let i = 0; i < 6; i++) track(i);
    await client.flush();
    expect(seen.length).toBeGreaterThanOrEqual(1);
    const afterOpen = seen.length;
    await clock.advance(59_999);
    expect(seen).toHaveLength(afterOpen);
    await clock.advance(1);
    await settle();
    expect(seen).toHaveLength(afterOpen + 1); // exactly one probe while half-open
    await clock.advance(60_000);
    allow = true;
    await clock.advance(60_000);
    await client.flush();
    expect(client.stats()).toMatchObject({ sent: 6, queued: 0 });
    expect(hooks.error).toHaveLength(1);
  });

  it('auth: a probe whose event Meta rejects (code 100) closes the circuit; full concurrency again', async () => {
    let refuse = true;
    const held: (() => void)[] = [];
    const { client, clock, seen, hooks, log, track } = setup(
      (req) => {
        if (refuse) return graphError(400, 190);
        if (req.body.data.some((e) => e.event_id === 'evt-0')) {
          return graphError(400, 100, {
            error_subcode: 2804019,
            message: "The parameter $['data'][0]['event_time'] is required.",
          });
        }
        return new Promise<Response>((resolve) => held.push(() => resolve(ok(req))));
      },
      { maxBatchEvents: 1, maxConcurrency: 4, retry: { authProbeIntervalMs: 60_000 } },
    );
    track(0);
    await client.flush();
    expect(client.stats().pixels[PIXEL]?.state).toBe('circuit_open');
    refuse = false; // the token is fixed; the one event waiting is bad
    await clock.advance(60_000);
    await settle();
    expect(seen).toHaveLength(2);
    expect(hooks.deadLetter.map((d) => d.reason)).toEqual(['rejected']);
    // The endpoint answered and read the payload: the credentials work.
    expect(client.stats().pixels[PIXEL]?.state).toBe('open');
    expect(log.lines.some((l) => l.level === 'info' && /circuit closed/.test(l.msg))).toBe(true);
    // So the next events go out at full concurrency, not one half-open probe at a time.
    for (let i = 1; i <= 8; i++) track(i);
    const flushed = client.flush();
    await settle();
    expect(seen).toHaveLength(2 + 4);
    while (held.length > 0) {
      for (const release of held.splice(0)) release();
      await settle();
    }
    await flushed;
    expect(client.stats()).toMatchObject({ sent: 8, deadLettered: 1, queued: 0, inFlight: 0 });
    await client.close();
  });
});

describe('createCapi: bisection of rejected batches', () => {
  const rejecting =
    (bad: Set<string>) =>
    (req: SeenRequest): Response => {
      const index = req.body.data.findIndex((e) => bad.has(e.event_id));
      return index === -1
        ? ok(req)
        : graphError(400, 100, {
            error_subcode: 2804019,
            message: `The parameter $['data'][${index}]['custom_data'] is invalid`,
          });
    };

  it.each([0, 1, 499, 500, 777, 998, 999])(
    'one bad event at %i of 1000 costs ≤ ⌈log2 1000⌉+1 = 11 extra requests; the other 999 arrive',
    async (position) => {
      const bad = new Set([`evt-${position}`]);
      const onUndeliverable = vi.fn();
      const { client, seen, hooks, track, eventIds } = setup(rejecting(bad), { onUndeliverable });
      for (let i = 0; i < 1000; i++) track(i);
      await client.flush();
      expect(seen.length - 1).toBeLessThanOrEqual(11);
      const delivered = eventIds(seen.filter((r) => !r.body.data.some((e) => bad.has(e.event_id))));
      expect(new Set(delivered).size).toBe(999);
      expect(delivered).toHaveLength(999); // exactly once
      expect(hooks.deadLetter).toHaveLength(1);
      expect(hooks.deadLetter[0]).toMatchObject({
        reason: 'rejected',
        count: 1,
        events: [{ eventId: `evt-${position}` }],
      });
      expect(hooks.deadLetter[0]?.error.graphError).toMatchObject({ code: 100, subcode: 2804019 });
      expect(onUndeliverable).toHaveBeenCalledWith(
        [expect.objectContaining({ eventId: `evt-${position}` })],
        'rejected',
      );
      expect(client.stats()).toMatchObject({ sent: 999, deadLettered: 1, queued: 0, inFlight: 0 });
    },
  );

  it('a one-off 100 that does not reproduce blames no event', async () => {
    const { client, seen, hooks, track } = setup((req, i) =>
      i === 0 ? graphError(400, 100) : ok(req),
    );
    for (let i = 0; i < 1000; i++) track(i);
    await client.flush();
    expect(hooks.deadLetter).toHaveLength(0);
    expect(seen.length - 1).toBeLessThanOrEqual(11);
    expect(client.stats()).toMatchObject({ sent: 1000, deadLettered: 0, queued: 0 });
  });

  it('isolates several bad events', async () => {
    const bad = new Set(['evt-3', 'evt-4', 'evt-600', 'evt-999']);
    const { client, hooks, track } = setup(rejecting(bad));
    for (let i = 0; i < 1000; i++) track(i);
    await client.flush();
    expect(hooks.deadLetter.flatMap((d) => d.events.map((e) => e.eventId)).sort()).toEqual(
      [...bad].sort(),
    );
    expect(client.stats()).toMatchObject({ sent: 996, deadLettered: 4, queued: 0 });
  });

  it('a 413 splits without blaming any event', async () => {
    const { client, seen, hooks, track } = setup((req) =>
      req.body.data.length > 100 ? new Response('', { status: 413 }) : ok(req),
    );
    for (let i = 0; i < 1000; i++) track(i);
    await client.flush();
    expect(hooks.deadLetter).toHaveLength(0);
    expect(client.stats()).toMatchObject({ sent: 1000, deadLettered: 0 });
    expect(seen.every((r) => r.body.data.length <= 1000)).toBe(true);
  });

  it('a throttle during bisection hands every unresolved event back', async () => {
    const bad = new Set(['evt-10']);
    let throttled = false;
    const { client, clock, track } = setup((req, i) => {
      if (i === 2 && !throttled) {
        throttled = true;
        return graphError(400, 4, {}, { 'retry-after': '1' });
      }
      return rejecting(bad)(req);
    });
    for (let i = 0; i < 100; i++) track(i);
    await client.flush();
    expect(client.stats().queued).toBeGreaterThan(0);
    await clock.advance(1000);
    await client.flush();
    expect(client.stats()).toMatchObject({ sent: 99, deadLettered: 1, queued: 0 });
  });
});

describe('createCapi: bounded queue', () => {
  it('drops the oldest on overflow and the counters match exactly', async () => {
    const onUndeliverable = vi.fn();
    const { client, seen, hooks, track, eventIds } = setup(undefined, {
      maxQueuedEvents: 100,
      flushIntervalMs: 60_000,
      onUndeliverable,
    });
    for (let i = 0; i < 150; i++) track(i);
    const stats = client.stats();
    expect(stats.dropped.overflow).toBe(50);
    expect(stats.queued).toBe(100);
    expect(
      hooks.dropped.filter((d) => d.reason === 'overflow').reduce((n, d) => n + d.count, 0),
    ).toBe(50);
    expect(onUndeliverable.mock.calls.flatMap((c) => c[0]).map((r) => r.eventId)).toEqual(
      Array.from({ length: 50 }, (_, i) => `evt-${i}`),
    );
    await client.flush();
    expect(eventIds(seen)).toEqual(Array.from({ length: 100 }, (_, i) => `evt-${50 + i}`));
    expect(client.stats()).toMatchObject({ sent: 100, queued: 0 });
  });

  it('bounds bytes too', () => {
    const { client, track } = setup(undefined, { maxQueuedBytes: 5000, flushIntervalMs: 60_000 });
    for (let i = 0; i < 100; i++) track(i);
    const { queued, dropped } = client.stats();
    expect(queued + dropped.overflow).toBe(100);
    expect(dropped.overflow).toBeGreaterThan(0);
  });

  it('reports the oldest queued age', async () => {
    const { client, clock, track } = setup(() => graphError(500, 2));
    track(1);
    await client.flush();
    await clock.advance(250);
    expect(client.stats().oldestQueuedAgeMs).toBe(250);
  });
});

describe('createCapi: flush and close', () => {
  it('flush() resolves while events wait on backoff', async () => {
    const { client, seen, track } = setup(() => graphError(500, 2));
    track(1);
    await client.flush();
    expect(seen).toHaveLength(1);
    expect(client.stats()).toMatchObject({ queued: 1, retried: 1 });
  });

  it('close() drains what is queued, waiting out a short backoff', async () => {
    const { client, clock, seen, track } = setup((req, i) =>
      i === 0 ? graphError(500, 2) : ok(req),
    );
    for (let i = 0; i < 5; i++) track(i);
    const closed = client.close({ timeoutMs: 2000 });
    await settle();
    await clock.advance(600);
    await closed;
    // The failed batch, then a one-event probe, then the other four together.
    expect(seen.map((r) => r.body.data.length)).toEqual([5, 1, 4]);
    expect(client.stats()).toMatchObject({ sent: 5, queued: 0 });
    expect(clock.pending()).toBe(0);
  });

  it('close() aborts hung requests at the deadline and reports leftovers as dropped (shutdown)', async () => {
    const onUndeliverable = vi.fn();
    const { client, clock, hooks, track, seen } = setup(hang, {
      timeoutMs: 10_000,
      onUndeliverable,
    });
    for (let i = 0; i < 3; i++) track(i);
    void client.flush(); // never settles: the request hangs
    await settle();
    let done = false;
    const closed = client.close({ timeoutMs: 500 }).then(() => {
      done = true;
    });
    await clock.advance(449);
    expect(done).toBe(false);
    await clock.advance(51);
    await closed;
    expect(seen[0]?.signal?.aborted).toBe(true);
    expect(client.stats()).toMatchObject({ queued: 0, inFlight: 0, sent: 0 });
    expect(client.stats().dropped.shutdown).toBe(3);
    expect(hooks.dropped.at(-1)).toMatchObject({ reason: 'shutdown', count: 3 });
    expect(onUndeliverable).toHaveBeenCalledWith(expect.any(Array), 'shutdown');
    expect(clock.pending()).toBe(0);
  });

  it('close() resolves on time even when fetch ignores the abort signal', async () => {
    const { client, clock, track } = setup(() => new Promise<Response>(() => {}));
    track(1);
    const closed = client.close({ timeoutMs: 300 });
    await clock.advance(300);
    await closed;
    expect(client.stats().dropped.shutdown).toBe(1);
  });

  it('close() leaves records in a durable outbox', async () => {
    const inner = memoryOutbox();
    const durable = { ...inner, durable: true };
    const { client, clock, track } = setup(() => graphError(500, 2), { outbox: durable });
    track(1);
    const closed = client.close({ timeoutMs: 100 });
    await clock.advance(100);
    await closed;
    expect(client.stats().dropped.shutdown).toBe(0);
    expect(inner.stats().queued).toBe(1);
  });

  it('close() starts no request at or after its deadline: close({ timeoutMs: 0 }) sends nothing, even when a backoff ran out while the event loop was busy', async () => {
    // A request started at the deadline is aborted at once, yet may already have reached Meta:
    // its events, released as unattempted, would be sent again (a BullMQ worker's round, which
    // closes its engine with timeoutMs 0, sent its probe event twice that way).
    const inner = memoryOutbox();
    const durable = { ...inner, durable: true };
    const { client, clock, seen, track } = setup(
      (req, i) => (i === 0 ? graphError(503, 2) : ok(req)),
      {
        outbox: durable,
      },
    );
    track(1);
    await client.flush();
    expect(seen).toHaveLength(1);
    expect(client.stats()).toMatchObject({ queued: 1, retried: 1 });
    clock.stall(10_000); // the backoff's wake-up is due and has not run
    const closed = client.close({ timeoutMs: 0 });
    await settle();
    await clock.advance(0);
    await closed;
    expect(seen).toHaveLength(1);
    expect(inner.stats().queued).toBe(1);
    expect(client.stats()).toMatchObject({ sent: 0, inFlight: 0 });
    expect(clock.pending()).toBe(0);
  });

  it('close() starts no request past its deadline while it waits on an outbox whose flush takes I/O', async () => {
    const inner = memoryOutbox();
    // A group-commit outbox (a database, a queue): its flush resolves after a turn of I/O, and a
    // backoff's overdue wake-up fires meanwhile.
    const slowFlush = {
      ...inner,
      durable: true,
      flush: () => new Promise<void>((r) => setImmediate(r)),
    };
    const { client, clock, seen, track } = setup(
      (req, i) =>
        i === 0
          ? graphError(503, 2)
          : new Promise<Response>((_resolve, reject) => {
              req.signal?.addEventListener('abort', () =>
                reject(new DOMException('aborted', 'AbortError')),
              );
            }),
      { outbox: slowFlush },
    );
    track(1);
    await client.flush();
    expect(seen).toHaveLength(1);
    clock.stall(10_000);
    const closed = client.close({ timeoutMs: 0 });
    await clock.advance(0); // the overdue wake-up runs while close() awaits the outbox's flush
    await settle();
    await clock.advance(0);
    await closed;
    expect(seen).toHaveLength(1);
    expect(inner.stats().queued).toBe(1);
  });

  describe('close() with an outbox whose claim takes I/O (a database, a queue)', () => {
    /** A durable outbox whose `claim` answers after `delay` (the fake clock) or a turn of I/O. */
    const slowClaim = (delay: (done: () => void) => void) => {
      const inner = memoryOutbox();
      let claims = 0;
      const outbox: Outbox = {
        ...inner,
        durable: true,
        claim: (...args: Parameters<Outbox['claim']>) => {
          claims++;
          return new Promise((resolve) => delay(() => resolve(inner.claim(...args))));
        },
      };
      return { inner, outbox, claims: () => claims };
    };
    const claimPending = async (claims: () => number) => {
      for (let i = 0; i < 20 && claims() === 0; i++) await Promise.resolve();
      expect(claims()).toBe(1);
    };

    it('a claim that answers after close({ timeoutMs: 0 }) was called starts no request', async () => {
      const { inner, outbox, claims } = slowClaim((done) => setImmediate(done));
      const { client, clock, seen, track } = setup(hang, { outbox });
      track(1);
      void client.flush();
      await claimPending(claims);
      const closed = client.close({ timeoutMs: 0 });
      await settle();
      await clock.advance(0);
      await closed;
      expect(seen).toHaveLength(0);
      expect(inner.stats().queued).toBe(1);
    });

    it('a claim that answers past the deadline, inside the grace, starts no request', async () => {
      let clockOf: { setTimeout(fn: () => void, ms: number): unknown } | undefined;
      const { inner, outbox, claims } = slowClaim((done) => clockOf?.setTimeout(done, 960));
      const { client, clock, seen, track } = setup(hang, { outbox });
      clockOf = clock;
      track(1);
      void client.flush();
      await claimPending(claims);
      const closed = client.close({ timeoutMs: 1000 }); // deadline at 950 ms, 50 ms of grace
      await settle();
      await clock.advance(2000);
      await closed;
      expect(seen).toHaveLength(0);
      expect(inner.stats().queued).toBe(1);
    });
  });

  it('close() is idempotent', async () => {
    const { client } = setup();
    const a = client.close();
    expect(client.close()).toBe(a);
    await a;
    expect(client.closed).toBe(true);
  });
});

describe('createCapi: hooks and serverless', () => {
  it('contains throwing and rejecting listeners; unsubscribe works', async () => {
    const { client, track, log } = setup();
    client.on('sent', () => {
      throw new Error('listener bug');
    });
    client.on('sent', () => Promise.reject(new Error('async listener bug')));
    const spy = vi.fn();
    const off = client.on('sent', spy);
    track(1);
    await client.flush();
    expect(spy).toHaveBeenCalledTimes(1);
    off();
    track(2);
    await client.flush();
    await settle();
    expect(spy).toHaveBeenCalledTimes(1);
    expect(client.stats().sent).toBe(2);
    expect(
      log.lines.filter((l) => l.msg.includes('hook listener threw')).length,
    ).toBeGreaterThanOrEqual(2);
  });

  it('a throwing logger and a throwing onUndeliverable do not break delivery', async () => {
    const boom = () => {
      throw new Error('logger down');
    };
    const { client, track } = setup(undefined, {
      logger: { debug: boom, info: boom, warn: boom, error: boom },
      onUndeliverable: () => {
        throw new Error('sink down');
      },
      maxQueuedEvents: 1,
    });
    track(1);
    track(2);
    await client.flush();
    expect(client.stats()).toMatchObject({ sent: 1, dropped: { overflow: 1 } });
  });

  it('flushOnEnd + waitUntil: every track hands its flush promise to waitUntil', async () => {
    const promises: Promise<unknown>[] = [];
    const { seen, track } = setup(undefined, {
      flushOnEnd: true,
      waitUntil: (p) => promises.push(p),
    });
    track(1);
    track(2);
    expect(seen).toHaveLength(0); // nothing on the caller's stack
    await Promise.resolve();
    expect(promises).toHaveLength(1); // one flush for the whole tick
    await Promise.all(promises);
    expect(seen).toHaveLength(1);
    expect(seen[0]?.body.data).toHaveLength(2);
  });

  it('a request-scoped waitUntil in track() gets the flush', async () => {
    const { client, clock, seen } = setup();
    const waitUntil = vi.fn();
    client.track(purchase(1, clock.now()), { waitUntil });
    await Promise.resolve();
    expect(waitUntil).toHaveBeenCalledTimes(1);
    await waitUntil.mock.calls[0]?.[0];
    expect(seen).toHaveLength(1);
  });

  it('background (timer) flushes go to the client-level waitUntil', async () => {
    const promises: Promise<unknown>[] = [];
    const { clock, seen, track } = setup(undefined, { waitUntil: (p) => promises.push(p) });
    track(1);
    await clock.advance(1000);
    expect(promises.length).toBeGreaterThanOrEqual(1);
    await Promise.all(promises);
    expect(seen).toHaveLength(1);
  });
});

describe('createCapi: fan-out', () => {
  it('sends every event to every pixel with its own token; one pixel failing does not block the other', async () => {
    const { client, seen, hooks, track } = setup(
      (req) => (req.url.includes(PIXEL_2) ? graphError(400, 190) : ok(req)),
      {
        pixels: [
          { pixelId: PIXEL, accessToken: TOKEN },
          { pixelId: PIXEL_2, accessToken: TOKEN_2, testEventCode: 'P2' },
        ],
      },
    );
    for (let i = 0; i < 10; i++) track(i);
    await client.flush();
    const p1 = seen.filter((r) => r.url.includes(PIXEL));
    const p2 = seen.filter((r) => r.url.includes(PIXEL_2));
    expect(p1[0]?.body).toMatchObject({ access_token: TOKEN });
    expect(p1[0]?.body.test_event_code).toBeUndefined();
    expect(p2[0]?.body).toMatchObject({ access_token: TOKEN_2, test_event_code: 'P2' });
    const stats = client.stats();
    expect(stats.pixels[PIXEL]).toMatchObject({ sent: 10, state: 'open' });
    expect(stats.pixels[PIXEL_2]).toMatchObject({ sent: 0, queued: 10, state: 'circuit_open' });
    expect(stats).toMatchObject({ sent: 10, queued: 10 });
    expect(hooks.error[0]).toMatchObject({ kind: 'auth', pixelId: PIXEL_2 });
  });

  it("reads track()'s pixelIds as createCapi reads pixel ids: trimmed, a whole number as its digits", async () => {
    // createCapi trims its own pixel id, so META_PIXEL_ID with a trailing newline configured the
    // pixel, and the same variable in pixelIds matched none: the event was refused as unknown_pixel.
    // An id read from JSON as a number was refused the same way, the message saying it was not
    // configured.
    const { client, seen, clock } = setup(ok, {
      pixels: [
        { pixelId: PIXEL, accessToken: TOKEN },
        { pixelId: PIXEL_2, accessToken: TOKEN_2 },
      ],
    });
    const only = (i: number, pixelIds: unknown) =>
      client.track(purchase(i, clock.now()), { pixelIds } as TrackOptions);
    for (const [i, pixelIds] of [
      [1, [`${PIXEL_2}\n`]],
      [2, [` ${PIXEL_2} `]],
      [3, [Number(PIXEL_2)]],
      [4, Number(PIXEL_2)],
    ] as const) {
      expect(only(i, pixelIds)).toMatchObject({ accepted: true, issues: [] });
    }
    await client.flush();
    expect(seen.every((r) => r.url.includes(PIXEL_2))).toBe(true);
    expect(seen.flatMap((r) => r.body.data.map((e) => e.event_id)).sort()).toEqual([
      'evt-1',
      'evt-2',
      'evt-3',
      'evt-4',
    ]);
    // What still matches nothing is refused as before; a number past 2^53 lost its digits before
    // track() saw it, and the message says so.
    expect(only(5, ['999']).issues).toEqual([
      expect.objectContaining({
        path: 'pixelIds',
        code: 'unknown_pixel',
        message: 'None of the given pixelIds is configured on this client.',
      }),
    ]);
    expect(only(6, [2 ** 60]).issues).toEqual([
      expect.objectContaining({
        code: 'unknown_pixel',
        message:
          "None of the given pixelIds is configured on this client. A pixel id is a string of digits ('1234567890'): a number past 2^53 has lost digits, so quote it.",
      }),
    ]);
    await client.close();
  });
});

describe('createCapi: secrets never leak', () => {
  it('no token in URLs, logs, errors or hook payloads', async () => {
    const { client, clock, seen, hooks, log, track } = setup(
      (req, i) => {
        if (i === 0) throw new TypeError(`request to ${req.url}?access_token=${TOKEN} failed`);
        if (i === 1) return graphError(500, 1, { message: `Temporary error for token ${TOKEN}` });
        if (i === 2)
          return graphError(400, 100, { message: `Invalid parameter access_token=${TOKEN}` });
        return graphError(400, 190, { message: `Malformed access token ${TOKEN}` });
      },
      { appSecret: 'super-secret-app-secret' },
    );
    track(1);
    for (let i = 0; i < 4; i++) {
      await client.flush();
      await clock.advance(60_000);
    }
    await client.close({ timeoutMs: 10 });
    expect(seen.length).toBeGreaterThanOrEqual(3);
    for (const r of seen) expect(r.url).not.toContain(TOKEN);
    const everything = JSON.stringify({
      logs: log.lines,
      hooks,
      errors: [...hooks.error, ...hooks.deadLetter].map((h) => [
        h.error.message,
        h.error.stack,
        h.error,
      ]),
    });
    expect(everything).not.toContain(TOKEN);
    expect(everything).not.toContain('super-secret-app-secret');
    expect(everything).toContain('[redacted]');
    // Sanity: we did capture failures with messages.
    expect(hooks.retry.length).toBeGreaterThanOrEqual(2);
    expect(hooks.deadLetter).toHaveLength(1);
  });

  it("no token from a Graph error's type or fbtrace_id in hooks, log fields or errors", async () => {
    // A proxy (or a platform) echoing the request into fields other than the message: each text
    // field of the error reaches the `retry` and `error` hooks, the auth log line's `fbtraceId`
    // and `CapiDeliveryError.graphError`.
    const echo = { type: `OAuth ${TOKEN}`, fbtrace_id: `trace-${TOKEN}` };
    const { client, clock, hooks, log, track } = setup((_, i) =>
      i === 0 ? graphError(503, 2, echo) : graphError(400, 190, echo),
    );
    track(1);
    await client.flush();
    await clock.advance(60_000);
    await client.flush();
    const everything = JSON.stringify({
      logs: log.lines,
      hooks,
      errors: hooks.error.map((h) => h.error),
    });
    expect(hooks.retry).toHaveLength(1);
    expect(hooks.error.map((h) => h.kind)).toEqual(['auth']);
    expect(everything).not.toContain(TOKEN);
    expect(hooks.retry[0]?.graphError?.fbtraceId).toBe('trace-[redacted]');
    await client.close({ timeoutMs: 10 });
  });

  it('never sends the user name or password of a page or referrer URL, given or from the request', async () => {
    const { client, clock, seen, log } = setup(undefined, { development: true });
    const given = {
      event_source_url: 'https://shopper:s3cret-pw@shop.example.com/checkout',
      referrer_url: 'https://admin:hunter2@ads.example/c?id=1',
    };
    // Twice: a URL seen before must not skip the check (the build's known-URL cache).
    const first = client.track(purchase(1, clock.now(), given));
    client.track(purchase(2, clock.now(), given));
    expect(first.accepted).toBe(true);
    expect(first.issues.map((i) => [i.path, i.code, i.severity])).toEqual([
      ['event_source_url', 'url_credentials_removed', 'warning'],
      ['referrer_url', 'url_credentials_removed', 'warning'],
    ]);
    // A sub-request whose page (its Referer) carries them: the request context's event_source_url.
    const context = getRequestContext(
      {
        method: 'POST',
        url: '/api/cart',
        headers: {
          host: 'shop.example.com',
          referer: 'https://shopper:s3cret-pw@shop.example.com/cart',
          'user-agent': 'Mozilla/5.0 (X11; Linux x86_64)',
        },
        remoteAddress: '203.0.113.7',
      },
      { now: () => clock.now() },
    );
    const { event_source_url: _page, ...rest } = purchase(3, clock.now());
    expect(client.track(rest, { context }).accepted).toBe(true);
    await client.flush();
    const sent = seen.flatMap((r) => r.body.data);
    expect(sent.map((e) => [e.event_id, e.event_source_url, e.referrer_url])).toEqual([
      ['evt-1', 'https://shop.example.com/checkout', 'https://ads.example/c?id=1'],
      ['evt-2', 'https://shop.example.com/checkout', 'https://ads.example/c?id=1'],
      ['evt-3', 'https://shop.example.com/cart', undefined],
    ]);
    const everything = JSON.stringify({ bodies: seen.map((r) => r.body), logs: log.lines });
    for (const secret of ['shopper', 's3cret-pw', 'admin', 'hunter2']) {
      expect(everything).not.toContain(secret);
    }
    // Development feedback names the field and the rule.
    expect(log.text()).toContain('url_credentials_removed');
  });

  it('logs carry ids and counts, never user data', async () => {
    const { client, clock, log, track } = setup(
      (req, i) => (i === 0 ? graphError(500, 2) : ok(req)),
      {
        maxQueuedEvents: 1,
      },
    );
    track(1);
    track(2);
    await client.flush();
    await clock.advance(60_000);
    await client.flush();
    const text = log.text();
    expect(log.lines.length).toBeGreaterThan(0);
    for (const pii of [
      'john_smith',
      'John_Smith',
      '203.0.113.7',
      '650',
      'Mozilla',
      '62a14e44f765',
    ]) {
      expect(text).not.toContain(pii);
    }
  });
});

describe('createCapi: outbox contract', () => {
  /** The memory outbox behind promises, with a delay: how a Redis outbox behaves. */
  const asyncOutbox = () => {
    const inner = memoryOutbox();
    const later = <T>(fn: () => T): Promise<T> =>
      new Promise((resolve, reject) =>
        setImmediate(() => {
          try {
            resolve(fn());
          } catch (error) {
            reject(error);
          }
        }),
      );
    const outbox: Outbox = {
      durable: false,
      append: (records) => later(() => inner.append(records)),
      claim: (limit, leaseMs, options) => later(() => inner.claim(limit, leaseMs, options)),
      ack: (ids) => later(() => inner.ack(ids)),
      nack: (ids, retryAt, error) => later(() => inner.nack(ids, retryAt, error)),
      release: (ids, retryAt) => later(() => inner.release(ids, retryAt)),
      deadLetter: (ids, error) => later(() => inner.deadLetter(ids, error)),
      stats: () => later(() => inner.stats()),
    };
    return { outbox, inner };
  };

  it('drives an async (promise-returning) outbox the same way', async () => {
    const { outbox, inner } = asyncOutbox();
    const bad = 'evt-7';
    const { client, clock, seen, hooks, track } = setup(
      (req, i) => {
        if (i === 0) return graphError(503, 2);
        return req.body.data.some((e) => e.event_id === bad) ? graphError(400, 100) : ok(req);
      },
      { outbox },
    );
    for (let i = 0; i < 20; i++) expect(track(i).accepted).toBe(true);
    await client.flush();
    expect(seen).toHaveLength(1);
    await clock.advance(1000);
    await client.flush();
    await settle();
    expect(client.stats()).toMatchObject({ sent: 19, deadLettered: 1, queued: 0, inFlight: 0 });
    expect(hooks.deadLetter[0]?.events).toEqual([{ eventId: bad, eventName: 'Purchase' }]);
    expect(inner.stats()).toMatchObject({ queued: 0, leased: 0 });
  });

  it('an outbox that throws on append: not accepted (reason error), reported, no throw', () => {
    const inner = memoryOutbox();
    const { client, track, hooks } = setup(undefined, {
      outbox: {
        ...inner,
        append: () => {
          throw new Error('disk full');
        },
      },
    });
    expect(track(1)).toMatchObject({ accepted: false, reason: 'error' });
    expect(hooks.error[0]).toMatchObject({ kind: 'outbox' });
    expect(client.stats().dropped.error).toBe(1);
  });

  it('an outbox whose append rejects: counted as dropped (error), no unhandled rejection', async () => {
    const inner = memoryOutbox();
    const { client, track, hooks } = setup(undefined, {
      outbox: { ...inner, append: () => Promise.reject(new Error('redis down')) },
    });
    expect(track(1).accepted).toBe(true); // accepted before the outbox answered
    await client.flush();
    expect(client.stats()).toMatchObject({ queued: 0, dropped: { error: 1 } });
    expect(hooks.error[0]).toMatchObject({ kind: 'outbox' });
  });

  it('a short acknowledgement is not a delivery: retried, and the full answer counts', async () => {
    const { client, clock, hooks, seen, track } = setup((req, i) =>
      i === 0 ? Response.json({ events_received: 1, fbtrace_id: 'T' }) : ok(req),
    );
    track(1);
    track(2);
    await client.flush();
    expect(client.stats()).toMatchObject({ sent: 0, queued: 2, retried: 2 });
    expect(hooks.retry[0]?.error).toContain('acknowledged 1 of 2 events');
    await clock.advance(1000);
    await client.flush();
    // After the failure one event probes, then the other follows.
    expect(seen.map((r) => r.body.data.length)).toEqual([2, 1, 1]);
    expect(client.stats()).toMatchObject({ sent: 2, queued: 0 });
    expect(hooks.sent.map((h) => [h.count, h.eventsReceived])).toEqual([
      [1, 1],
      [1, 1],
    ]);
  });
});
