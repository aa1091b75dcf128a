import { describe, expect, it } from 'vitest';
import { bindRequest, createCapiAdapter } from '../../src/adapter/index.js';
import {
  fromIncomingMessage,
  getRequestContext,
  type RequestContextOptions,
} from '../../src/context/index.js';
import type { CapiOptions, ErrorInfo } from '../../src/delivery/index.js';
import { createCapi } from '../../src/delivery/index.js';
import { captureLogger, PIXEL, scriptedFetch, TOKEN } from '../delivery/helpers.js';

/** A generated `event_id`: a UUID v4. */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

const UA = 'Mozilla/5.0 (adapter test)';

function setup(options: Pick<CapiOptions, 'strict' | 'flushOnEnd'> = {}) {
  const { fetch, seen } = scriptedFetch();
  const client = createCapi({ pixelId: PIXEL, accessToken: TOKEN, fetch, env: false, ...options });
  const context = getRequestContext({
    method: 'POST',
    url: '/signup',
    headers: {
      host: 'shop.example.com',
      'user-agent': UA,
      referer: 'https://shop.example.com/join',
      cookie: '_fbp=fb.1.1700000000000.42',
    },
    protocol: 'https',
  });
  return { client, context, seen };
}

describe('bindRequest', () => {
  it('fills the request context into events; explicit values win', async () => {
    const { client, context, seen } = setup();
    const capi = bindRequest(client, context);
    const lead = capi.track('Lead', { user_data: { em: 'a@example.com' } });
    const explicit = capi.track('Lead', {
      event_source_url: 'https://shop.example.com/elsewhere',
      user_data: { em: 'b@example.com', client_user_agent: 'explicit-UA' },
    });
    expect(lead.accepted && explicit.accepted).toBe(true);
    await client.flush();
    const [a, b] = seen.flatMap((r) => r.body.data);
    expect(a).toMatchObject({
      event_id: lead.event_id,
      event_source_url: 'https://shop.example.com/join',
      user_data: { client_user_agent: UA, fbp: 'fb.1.1700000000000.42' },
    });
    expect(b).toMatchObject({
      event_source_url: 'https://shop.example.com/elsewhere',
      user_data: { client_user_agent: 'explicit-UA', fbp: 'fb.1.1700000000000.42' },
    });
    await client.close();
  });

  it("track(name, params) fills the context into one copy: the caller's params and user_data stay as they were", async () => {
    const { client, context, seen } = setup();
    const capi = bindRequest(client, context);
    const user_data = Object.freeze({ em: 'a@example.com' });
    const params = Object.freeze({ user_data, custom_data: Object.freeze({ value: 1 }) });
    expect(capi.track('Lead', params).accepted).toBe(true);
    expect(params).toEqual({ user_data: { em: 'a@example.com' }, custom_data: { value: 1 } });
    expect(user_data).toEqual({ em: 'a@example.com' });
    await client.flush();
    const [sent] = seen.flatMap((r) => r.body.data);
    expect(sent).toMatchObject({
      event_name: 'Lead',
      event_source_url: 'https://shop.example.com/join',
      user_data: { client_user_agent: UA, fbp: 'fb.1.1700000000000.42' },
      custom_data: { value: 1 },
    });
    await client.close();
  });

  it('the name argument wins over an event_name in params; null params are no params', async () => {
    const { client, context, seen } = setup();
    const capi = bindRequest(client, context);
    const params = { event_name: 'Other', user_data: { em: 'a@example.com' } };
    expect(capi.track('Lead', params as never).accepted).toBe(true);
    expect(capi.track('Contact', null as never).accepted).toBe(true);
    expect(params.event_name).toBe('Other'); // not mutated
    await client.flush();
    expect(seen.flatMap((r) => r.body.data).map((e) => e.event_name)).toEqual(['Lead', 'Contact']);
    await client.close();
  });

  it('an event_name in track(name, params) that differs from the name is a warning at event_name, never silent', async () => {
    const { client, context } = setup();
    const capi = bindRequest(client, context);
    const ignored = {
      path: 'event_name',
      code: 'event_name_in_params',
      severity: 'warning',
      message: expect.stringContaining(
        'the first argument of track(name, params) is the name sent',
      ),
    };
    const given = capi.track('Purchase', {
      event_name: 'Lead',
      user_data: { em: 'a@example.com' },
      custom_data: { value: 1, currency: 'USD' },
    } as never);
    expect(given).toMatchObject({ accepted: true, issues: [ignored] });
    // Lazy params, and a rejected event: said there too, beside the reason it was rejected.
    const lazy = capi.track('Lead', () => ({ event_name: 'Contact' }) as never);
    expect(lazy.issues).toEqual([expect.objectContaining(ignored)]);
    const rejected = capi.track('Purchase', { event_name: 'Lead' } as never);
    expect(rejected.accepted).toBe(false);
    expect(rejected.issues[0]).toMatchObject(ignored);
    // The same name twice, or none in params, says nothing.
    expect(capi.track('Lead', { event_name: 'Lead' } as never).issues).toEqual([]);
    expect(capi.track('Lead', { event_name: undefined } as never).issues).toEqual([]);
    expect(capi.track({ event_name: 'Lead' }).issues).toEqual([]);
    await client.close();
  });

  it('an explicit client_ip_address that is internal is a warning at its path, without the address; the request context is not', async () => {
    const { client, context, seen } = setup();
    const capi = bindRequest(client, {
      ...context,
      user_data: { ...context.user_data, client_ip_address: '203.0.113.9' },
    });
    const internal = {
      path: 'user_data.client_ip_address',
      code: 'internal_client_ip_address',
      severity: 'warning',
    };
    for (const ip of ['10.0.0.7', '127.0.0.1', '192.168.1.20', '::1', 'fd00::5', '169.254.1.1']) {
      const result = capi.track('Lead', {
        user_data: { em: 'a@example.com', client_ip_address: ip },
      });
      expect(result.accepted).toBe(true);
      expect(result.issues).toEqual([expect.objectContaining(internal)]);
      expect(JSON.stringify(result.issues)).not.toContain(ip);
    }
    // Without a request context (the object form on createCapi's client), and in the message: the rule and the fix.
    const bare = client.track({
      event_name: 'Lead',
      action_source: 'system_generated',
      user_data: { em: 'a@example.com', client_ip_address: '10.1.2.3' },
    });
    expect(bare.issues).toEqual([expect.objectContaining(internal)]);
    expect(bare.issues[0]?.message).toMatch(/loopback, private or link-local/);
    expect(bare.issues[0]?.message).toMatch(/leave client_ip_address out/);
    // A public address, and the request's own IP filled in by the context, say nothing.
    expect(
      capi.track('Lead', { user_data: { em: 'a@example.com', client_ip_address: '198.51.100.4' } })
        .issues,
    ).toEqual([]);
    const loopbackContext = getRequestContext(
      { method: 'GET', url: '/', headers: { host: 'localhost:3000', 'user-agent': UA } },
      { remoteAddress: '127.0.0.1' },
    );
    expect(loopbackContext.user_data.client_ip_address).toBe('127.0.0.1');
    expect(
      bindRequest(client, loopbackContext).track('Lead', { user_data: { em: 'a@example.com' } })
        .issues,
    ).toEqual([]);
    // The address is still sent as given: the warning changes nothing on the wire.
    await client.flush();
    expect(
      seen
        .flatMap((r) => r.body.data)
        .map((e) => (e.user_data as { client_ip_address?: string }).client_ip_address),
    ).toContain('10.0.0.7');
    await client.close();
  });

  it('a throwing lazy params function is reported, not thrown, and counted as dropped', async () => {
    const { client, context, seen } = setup();
    const errors: ErrorInfo[] = [];
    client.on('error', (info) => errors.push(info));
    const result = bindRequest(client, context).track('Purchase', () => {
      throw new Error('map failed');
    });
    // No id was given or assigned: one is generated all the same, so the page's Pixel copy fires.
    expect(result).toEqual({
      event_id: expect.stringMatching(UUID),
      accepted: false,
      issues: [],
      reason: 'error',
    });
    expect(client.stats().dropped.error).toBe(1);
    expect(errors).toEqual([
      expect.objectContaining({ kind: 'callback', source: 'Purchase params' }),
    ]);
    expect(errors[0]?.error.message).toContain('map failed');
    await client.flush();
    expect(seen).toHaveLength(0);
    await client.close();
  });

  it('params that are not the event fields (the Promise of an async map, a string) are rejected and reported, never sent without their data', async () => {
    const { client, context, seen } = setup();
    const errors: ErrorInfo[] = [];
    client.on('error', (info) => errors.push(info));
    const capi = bindRequest(client, context);
    const lazy = capi.track('Lead', (async () => ({
      user_data: { em: 'a@example.com' },
    })) as never);
    const direct = capi.track('Contact', 'a@example.com' as never);
    for (const [result, got] of [
      [lazy, 'a Promise'],
      [direct, 'a string'],
    ] as const) {
      expect(result.accepted).toBe(false);
      expect(result.reason).toBe('invalid');
      expect(result.issues).toEqual([
        expect.objectContaining({ path: 'event', code: 'invalid_event', severity: 'error' }),
      ]);
      expect(result.issues[0]?.message).toContain(got);
      // Never the value: only what kind it was.
      expect(result.issues[0]?.message).not.toContain('a@example.com');
    }
    expect(client.stats().dropped.invalid).toBe(2);
    expect(errors.map((e) => e.kind)).toEqual(['validation', 'validation']);
    await client.flush();
    expect(seen).toHaveLength(0);
    await client.close();
  });

  it('a user_data that is not an object is refused as without the request context, never spread or thrown on', async () => {
    const { client, context, seen } = setup();
    const capi = bindRequest(client, context);
    // The string went out as 16 one-character keys (16 warnings, the event sent without it); null
    // made track() fail as an internal error.
    for (const user_data of ['jane@example.com', null]) {
      const result = capi.track('Lead', { user_data } as never);
      expect(result.accepted).toBe(false);
      expect(result.reason).toBe('invalid');
      expect(result.issues.map((i) => `${i.path}:${i.code}`)).toEqual([
        user_data === null ? 'user_data:missing_user_data' : 'user_data:invalid_user_data',
      ]);
    }
    await client.flush();
    expect(seen).toHaveLength(0);
    await client.close();
  });

  it('in strict mode such lazy params are reported, not thrown (they run after the response)', async () => {
    const { client, context } = setup({ strict: true });
    const errors: ErrorInfo[] = [];
    client.on('error', (info) => errors.push(info));
    const result = bindRequest(client, context).track('Lead', (() => 'oops') as never);
    expect(result).toMatchObject({ accepted: false, reason: 'invalid' });
    expect(errors).toEqual([expect.objectContaining({ kind: 'callback', source: 'Lead track' })]);
    expect(client.stats().dropped.invalid).toBe(1);
    await client.close();
  });

  it('passes a request-scoped waitUntil to the flush the event triggers', async () => {
    const { client, context } = setup({ flushOnEnd: true });
    const kept: Promise<unknown>[] = [];
    const capi = bindRequest(client, context, { waitUntil: (p) => kept.push(p) });
    capi.track('Lead', { user_data: { em: 'a@example.com' } });
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(kept.length).toBeGreaterThan(0);
    await Promise.all(kept);
    expect(client.stats().sent).toBe(1);
    await client.close();
  });

  it('track and eventId work destructured from req.capi', async () => {
    const { client, context, seen } = setup();
    const { track, eventId } = bindRequest(client, () => context);
    const id = eventId();
    expect(
      track({ event_name: 'Lead', event_id: id, action_source: 'website' } as never).accepted,
    ).toBe(true);
    expect(track('Contact').accepted).toBe(true);
    await client.flush();
    const sent = seen.flatMap((r) => r.body.data);
    expect(sent.map((e) => e.event_id)[0]).toBe(id);
    for (const event of sent) expect(event).toMatchObject({ user_data: { client_user_agent: UA } });
    // Nothing internal shows on req.capi (the client stays private): logging it is safe.
    expect(Object.keys(bindRequest(client, context)).sort()).toEqual(['eventId', 'track']);
    await client.close();
  });

  it('eventId() gives fresh UUIDs', () => {
    const { client, context } = setup();
    const capi = bindRequest(client, context);
    expect(capi.eventId()).not.toBe(capi.eventId());
    void client.close();
  });
});

describe('createCapiAdapter', () => {
  it('refuses a trustProxy it would not understand, naming the part and what to pass instead', () => {
    const { fetch } = scriptedFetch();
    const create = (trustProxy: unknown) => () =>
      createCapiAdapter({
        pixelId: PIXEL,
        accessToken: TOKEN,
        fetch,
        env: false,
        trustProxy: trustProxy as never,
      });
    // From an environment variable: every visitor would get the proxy's address, silently.
    expect(create('true')).toThrow("capi-kit: trustProxy: the string 'true' is not an address");
    expect(create('1')).toThrow('pass the hop count as a number');
    expect(create(['loopback', 'lookback'])).toThrow("'lookback' is not an IP address");
    const adapter = createCapiAdapter({
      pixelId: PIXEL,
      accessToken: TOKEN,
      fetch,
      env: false,
      trustProxy: 'loopback',
    });
    void adapter.close();
  });

  it('refuses a consent that is not a function and a cookies/generateFbp/respectGpc that is not a boolean', async () => {
    const { fetch } = scriptedFetch();
    const create = (extra: Record<string, unknown>) => () =>
      createCapiAdapter({ pixelId: PIXEL, accessToken: TOKEN, fetch, env: false, ...extra });
    // consent: 'granted' was called per request, threw, and counted as denied: every event dropped.
    expect(create({ consent: 'granted' })).toThrow(
      "capi-kit: consent must be a function (input, { header, cookies }) => 'granted' | 'denied' | 'ldu', got the string 'granted'; for the same answer on every request write consent: () => 'granted'",
    );
    expect(create({ consent: true })).toThrow(/consent must be a function .*, got boolean$/);
    // cookies: 'false' (an environment variable) was not false: cookies were written.
    expect(create({ cookies: 'false' })).toThrow(
      'capi-kit: cookies must be true or false, got the string "false"',
    );
    expect(create({ generateFbp: 0 })).toThrow(
      'capi-kit: generateFbp must be true or false, got number',
    );
    expect(create({ respectGpc: 'yes' })).toThrow('capi-kit: respectGpc must be true or false');
    const adapter = createCapiAdapter({
      pixelId: PIXEL,
      accessToken: TOKEN,
      fetch,
      env: false,
      consent: () => 'granted',
      cookies: false,
      generateFbp: true,
      respectGpc: true,
    });
    await adapter.close();
  });

  it('closes a client it created, never a shared one', async () => {
    const { client } = setup();
    const shared = createCapiAdapter({ client });
    expect(shared.ownsClient).toBe(false);
    await shared.close();
    expect(client.closed).toBe(false);

    const own = createCapiAdapter({ pixelId: PIXEL, accessToken: TOKEN, env: false });
    expect(own.ownsClient).toBe(true);
    await own.close();
    expect(own.client.closed).toBe(true);
    await client.close();
  });

  it('reads a Node request through fromIncomingMessage, TLS scheme included', () => {
    const adapter = createCapiAdapter({ client: setup().client });
    const context = adapter.contextOf(
      fromIncomingMessage({
        method: 'GET',
        url: '/?fbclid=AbC',
        headers: { host: 'shop.example.com', accept: 'text/html', 'sec-fetch-dest': 'document' },
        socket: { remoteAddress: '198.51.100.4', encrypted: true },
      }),
    );
    expect(context.event_source_url).toBe('https://shop.example.com/?fbclid=AbC');
    expect(context.user_data.client_ip_address).toBe('198.51.100.4');
    expect(context.cookiesToSet.every((c) => c.secure)).toBe(true);
  });

  it("adds an adapter's proxyNote, in its framework's terms, to the proxy warning; none by default", async () => {
    const warning = (wording?: { proxyNote?: string }) => {
      const warned: string[] = [];
      const adapter = createCapiAdapter(
        {
          pixelId: PIXEL,
          accessToken: TOKEN,
          fetch: scriptedFetch().fetch,
          env: false,
          logger: false,
        },
        wording,
      );
      adapter.client.on('warn', ({ message }) => warned.push(message));
      adapter.contextOf(
        fromIncomingMessage({
          method: 'GET',
          url: '/',
          headers: { host: 'shop.example.com', 'user-agent': UA, 'x-forwarded-for': '203.0.113.7' },
          socket: { remoteAddress: '127.0.0.1' },
        }),
      );
      void adapter.close();
      return warned;
    };
    const [noted, ...rest] = warning({
      proxyNote: 'Set it on the framework adapter, not the app.',
    });
    expect(rest).toEqual([]);
    expect(noted).toMatch(/header\. Set it on the framework adapter, not the app\. Told once\.$/);
    const [plain] = warning();
    expect(plain).toMatch(/client-IP header\. Told once\.$/);
  });

  it("says once when a request's client IP is a proxy's internal address that trustProxy does not reach past", async () => {
    const proxied = (
      remoteAddress: string,
      headers: Record<string, string> = { 'x-forwarded-for': '203.0.113.7' },
    ) =>
      fromIncomingMessage({
        method: 'GET',
        url: '/',
        headers: { host: 'shop.example.com', 'user-agent': UA, ...headers },
        socket: { remoteAddress },
      });
    const proxyLines = (trustProxy: RequestContextOptions['trustProxy'], requests: unknown[]) => {
      const log = captureLogger();
      const warned: string[] = [];
      const adapter = createCapiAdapter({
        pixelId: PIXEL,
        accessToken: TOKEN,
        fetch: scriptedFetch().fetch,
        env: false,
        logger: log.logger,
        trustProxy,
      });
      adapter.client.on('warn', ({ message }) => warned.push(message));
      const ips = requests.map(
        (r) => adapter.contextOf(r as never).user_data.client_ip_address ?? null,
      );
      void adapter.close();
      const lines = log.lines.filter((l) => l.msg.includes('trustProxy does not reach'));
      expect(warned).toHaveLength(lines.length);
      return { lines, ips };
    };

    // No trustProxy behind nginx on the same host: every event would carry 127.0.0.1.
    const told = proxyLines(undefined, [proxied('127.0.0.1'), proxied('::ffff:127.0.0.1')]);
    expect(told.ips).toEqual(['127.0.0.1', '127.0.0.1']);
    expect(told.lines).toHaveLength(1); // once per client
    expect(told.lines[0]).toMatchObject({ level: 'warn', obj: { header: 'X-Forwarded-For' } });
    expect(told.lines[0]?.msg).toContain('Set trustProxy to the addresses of every proxy');
    expect(told.lines[0]?.msg).not.toContain('203.0.113.7'); // the visitor's address is never printed
    // A proxy in the private network that the list leaves out; a hop count that stops short.
    expect(proxyLines('loopback', [proxied('10.1.2.3')]).lines).toHaveLength(1);
    expect(
      proxyLines(1, [proxied('127.0.0.1', { 'x-forwarded-for': '203.0.113.7, 172.17.0.5' })]).lines,
    ).toHaveLength(1);
    expect(
      proxyLines(undefined, [proxied('192.168.1.9', { forwarded: 'for=203.0.113.7' })]).lines,
    ).toHaveLength(0); // only the header the app reads: X-Forwarded-For by default
    // Not a proxy's fault: no forwarding header (local development, a LAN tool), a public peer,
    // a chain that trustProxy walks to a public address, a platform's own header.
    const quiet = proxyLines(undefined, [proxied('127.0.0.1', {}), proxied('198.51.100.4')]);
    expect(quiet).toEqual({ lines: [], ips: ['127.0.0.1', '198.51.100.4'] });
    expect(proxyLines('loopback', [proxied('127.0.0.1')])).toEqual({
      lines: [],
      ips: ['203.0.113.7'],
    });
    expect(
      proxyLines(
        ['loopback', '10.0.0.0/8'],
        [
          proxied('127.0.0.1', {
            'x-forwarded-for': '203.0.113.7, 10.0.0.2',
          }),
        ],
      ).lines,
    ).toHaveLength(0);
  });

  it("says once when a hosting platform's edge forwards requests and neither platform nor trustProxy names it", async () => {
    const lines = (
      options: Pick<RequestContextOptions, 'trustProxy' | 'platform'>,
      requests: { peer: string; headers: Record<string, string> }[],
    ) => {
      const log = captureLogger();
      const warned: string[] = [];
      const adapter = createCapiAdapter({
        pixelId: PIXEL,
        accessToken: TOKEN,
        fetch: scriptedFetch().fetch,
        env: false,
        logger: log.logger,
        ...options,
      });
      adapter.client.on('warn', ({ message }) => warned.push(message));
      const ips = requests.map(
        ({ peer, headers }) =>
          adapter.contextOf(
            fromIncomingMessage({
              method: 'GET',
              url: '/',
              headers: { host: 'shop.example.com', 'user-agent': UA, ...headers },
              socket: { remoteAddress: peer },
            }),
          ).user_data.client_ip_address ?? null,
      );
      void adapter.close();
      const told = log.lines.filter((l) => l.msg.includes('adds at its edge'));
      expect(warned).toHaveLength(told.length);
      return { told, ips };
    };
    // Cloudflare in front of a VM, trustProxy left at its default: every event carries the edge's
    // address. Told once, naming the header and the option, never an address.
    const cloudflare = {
      peer: '172.64.1.1',
      headers: { 'cf-connecting-ip': '203.0.113.7', 'x-forwarded-for': '203.0.113.7' },
    };
    const behind = lines({}, [cloudflare, cloudflare]);
    expect(behind.ips).toEqual(['172.64.1.1', '172.64.1.1']);
    expect(behind.told).toHaveLength(1);
    expect(behind.told[0]).toMatchObject({ level: 'warn', obj: { header: 'cf-connecting-ip' } });
    expect(behind.told[0]?.msg).toContain("set platform: 'cloudflare'");
    expect(behind.told[0]?.msg).not.toMatch(/203\.0\.113\.7|172\.64/);
    expect(
      lines({ trustProxy: 'loopback' }, [
        { peer: '198.51.100.9', headers: { 'fly-client-ip': '203.0.113.7' } },
      ]).told[0]?.msg,
    ).toContain("set platform: 'fly'");
    // Quiet: the platform named (its header is read), a peer trustProxy trusts, a public peer with
    // only X-Forwarded-For (a corporate proxy's), nginx's X-Real-IP.
    expect(lines({ platform: 'cloudflare' }, [cloudflare])).toEqual({
      told: [],
      ips: ['203.0.113.7'],
    });
    expect(lines({ trustProxy: true }, [cloudflare])).toEqual({ told: [], ips: ['203.0.113.7'] });
    expect(
      lines({}, [
        { peer: '198.51.100.4', headers: { 'x-forwarded-for': '10.0.0.8' } },
        { peer: '198.51.100.4', headers: { 'x-real-ip': '203.0.113.7' } },
      ]).told,
    ).toEqual([]);
  });

  it('a Web Request with a path-only URL and no Host never throws', () => {
    const context = getRequestContext({ method: 'GET', url: '/x', headers: new Headers() });
    expect(context.event_source_url).toBeUndefined();
    expect(context.cookiesToSet).toEqual([]);
  });
});

describe('createCapiAdapter().forRequest', () => {
  const FBP = 'fb.1.1700000000000.42';
  /** An adapter whose consent callback counts how often a context is computed. */
  function counting() {
    const { client, seen } = setup();
    const computed = { count: 0 };
    const adapter = createCapiAdapter({
      client,
      consent: () => {
        computed.count++;
        return 'granted';
      },
    });
    return { adapter, client, computed, seen };
  }
  const request = (headers: Record<string, string>, url = '/api/cart', method = 'POST') =>
    fromIncomingMessage({
      method,
      url,
      headers: { host: 'shop.example.com', 'user-agent': UA, ...headers },
      socket: { remoteAddress: '198.51.100.4', encrypted: true },
    });

  it('defers the context of a sub-request that sets no cookie until it tracks, then computes it once', async () => {
    const { adapter, client, computed, seen } = counting();
    const bound = adapter.forRequest(
      request({
        cookie: `_fbp=${FBP}`,
        referer: 'https://shop.example.com/cart',
        'sec-fetch-dest': 'empty',
      }),
    );
    expect(bound.cookiesToSet).toEqual([]);
    expect(computed.count).toBe(0);
    expect(bound.capi.track('AddToCart').accepted).toBe(true);
    expect(bound.capi.track('Lead').accepted).toBe(true);
    expect(bound.capi.context.user_data.fbp).toBe(FBP);
    expect(computed.count).toBe(1);
    await client.flush();
    for (const event of seen.flatMap((r) => r.body.data)) {
      expect(event).toMatchObject({
        event_source_url: 'https://shop.example.com/cart',
        user_data: { client_ip_address: '198.51.100.4', client_user_agent: UA, fbp: FBP },
      });
    }
    await client.close();
  });

  it('a request that never tracks never computes its context', async () => {
    const { adapter, client, computed } = counting();
    adapter.forRequest(
      request({ cookie: `_fbp=${FBP}`, accept: 'image/webp' }, '/logo.png', 'GET'),
    );
    expect(computed.count).toBe(0);
    await client.close();
  });

  it('computes the context at once when cookies may change: navigation, new visitor, fbclid', async () => {
    const { adapter, client, computed } = counting();
    const navigation = adapter.forRequest(
      request({ cookie: `_fbp=${FBP}`, 'sec-fetch-dest': 'document' }, '/', 'GET'),
    );
    expect(navigation.cookiesToSet.map((c) => c.name)).toEqual(['_fbp']);
    expect(navigation.cookiesToSet).toBe(navigation.capi.context.cookiesToSet);
    const newVisitor = adapter.forRequest(request({ 'sec-fetch-dest': 'empty' }));
    expect(newVisitor.cookiesToSet.map((c) => c.name)).toEqual(['_fbp']);
    const click = adapter.forRequest(
      request({ cookie: `_fbp=${FBP}`, referer: 'https://shop.example.com/?fbclid=IwAR1' }),
    );
    expect(click.cookiesToSet.map((c) => c.name)).toEqual(['_fbc']);
    expect(computed.count).toBe(3);
    await client.close();
  });

  it('passes the request-scoped waitUntil through to deferred tracking', async () => {
    const { adapter, client } = counting();
    const waited: Promise<unknown>[] = [];
    const { capi } = adapter.forRequest(request({ cookie: `_fbp=${FBP}` }), {
      waitUntil: (promise) => waited.push(promise),
    });
    capi.track({ event_name: 'Lead', action_source: 'website' } as never);
    await client.flush();
    expect(waited.length).toBeGreaterThan(0);
    await client.close();
  });
});

describe('getRequestContext with a mistyped option from JavaScript', () => {
  it('an unknown platform preset trusts no header instead of throwing', () => {
    const context = getRequestContext(
      { method: 'GET', url: '/', headers: { host: 'a.example', 'x-real-ip': '203.0.113.9' } },
      { platform: 'heroku' as never, remoteAddress: '10.0.0.1' },
    );
    expect(context.user_data.client_ip_address).toBeUndefined();
  });
});

describe('createCapiAdapter with a consent callback that cannot answer', () => {
  // Such a request counts as denied (the context's rule), which is every request of an app whose
  // callback is async: every event was dropped as `consent` and nothing said why.
  const request = fromIncomingMessage({
    method: 'GET',
    url: '/',
    headers: { host: 'shop.example.com', 'user-agent': UA, 'sec-fetch-dest': 'document' },
    socket: { remoteAddress: '198.51.100.4' },
  });
  const heard = (consent: () => unknown) => {
    const { client } = setup();
    const errors: ErrorInfo[] = [];
    client.on('error', (info) => errors.push(info));
    const adapter = createCapiAdapter({ client, consent: consent as () => 'granted' });
    const consents = [1, 2].map(() => adapter.forRequest(request).capi.context.consent);
    return { client, consents, errors };
  };

  it('an async callback is reported once, naming what it returned, and still denies', async () => {
    const { client, consents, errors } = heard(async () => 'granted');
    expect(consents).toEqual(['denied', 'denied']);
    expect(errors).toEqual([
      expect.objectContaining({
        kind: 'callback',
        source: 'consent',
        error: expect.objectContaining({
          message: expect.stringMatching(/returned a Promise, not 'granted'.*synchronously/),
        }),
      }),
    ]);
    await client.close();
  });

  it('a callback that throws is reported each time and denies', async () => {
    const { client, consents, errors } = heard(() => {
      throw new Error('cmp not loaded');
    });
    expect(consents).toEqual(['denied', 'denied']);
    expect(errors.map((e) => [e.source, e.error.message])).toEqual([
      ['consent', 'cmp not loaded'],
      ['consent', 'cmp not loaded'],
    ]);
    await client.close();
  });
});
