/**
 * Done-when criterion: the same request gives the same context whether it arrives as a Web
 * `Request` or as the Node shape. Every case below runs both (see `contextOf`).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  getRequestContext,
  mayWriteCookies,
  type NodeRequestLike,
  type RequestContext,
  type RequestContextOptions,
} from '../../src/context/index.js';
import {
  contextOf,
  MINTED_RANDOM,
  NOW,
  type RequestSpec,
  toNodeRequest,
  toWebRequest,
} from './request-shapes.js';

interface Scenario {
  name: string;
  spec: RequestSpec;
  options?: RequestContextOptions;
  expected: RequestContext;
}

const UA = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/126.0 Safari/537.36';

const scenarios: Scenario[] = [
  {
    name: 'ad click landing behind nginx on loopback',
    spec: {
      url: 'https://www.shop.example.co.uk/sale?utm_source=fb&fbclid=IwAR3xYz_Ab-Cd',
      remoteAddress: '::ffff:127.0.0.1',
      headers: {
        'user-agent': UA,
        'sec-fetch-dest': 'document',
        accept: 'text/html',
        'x-forwarded-for': '6.6.6.6, 2a02:1234::beef',
        referer: 'https://l.facebook.com/',
        cookie: '_fbp=fb.2.1690000000000.987654321; session=abc',
      },
    },
    options: { trustProxy: 'loopback' },
    expected: {
      user_data: {
        client_ip_address: '2a02:1234::beef',
        client_user_agent: UA,
        fbp: 'fb.2.1690000000000.987654321',
        fbc: `fb.2.${NOW}.IwAR3xYz_Ab-Cd`,
      },
      event_source_url: 'https://www.shop.example.co.uk/sale?utm_source=fb&fbclid=IwAR3xYz_Ab-Cd',
      referrer_url: 'https://l.facebook.com/',
      cookiesToSet: [
        {
          name: '_fbp',
          value: 'fb.2.1690000000000.987654321',
          maxAge: 7_776_000,
          domain: 'example.co.uk',
          path: '/',
          sameSite: 'lax',
          secure: true,
          httpOnly: false,
          header:
            '_fbp=fb.2.1690000000000.987654321; Max-Age=7776000; Domain=example.co.uk; Path=/; Secure; SameSite=Lax',
        },
        {
          name: '_fbc',
          value: `fb.2.${NOW}.IwAR3xYz_Ab-Cd`,
          maxAge: 7_776_000,
          domain: 'example.co.uk',
          path: '/',
          sameSite: 'lax',
          secure: true,
          httpOnly: false,
          header: `_fbc=fb.2.${NOW}.IwAR3xYz_Ab-Cd; Max-Age=7776000; Domain=example.co.uk; Path=/; Secure; SameSite=Lax`,
        },
      ],
      consent: 'granted',
      isNavigation: true,
    },
  },
  {
    name: 'checkout fetch from the landing page, Forwarded header, returning visitor',
    spec: {
      url: 'https://api.example.com/checkout',
      method: 'POST',
      remoteAddress: '10.0.3.7',
      headers: {
        'user-agent': UA,
        'sec-fetch-dest': 'empty',
        forwarded: 'for="[2001:db8:cafe::17]:4711";proto=https, for=10.0.1.1',
        referer: 'https://www.example.com/landing?fbclid=NewClick',
        cookie: '_fbp=fb.1.1690000000000.42.AQQAAQIB; _fbc=fb.1.1690000000000.OldClick',
      },
    },
    options: { trustProxy: 'private', forwardedHeader: 'forwarded' },
    expected: {
      user_data: {
        client_ip_address: '2001:db8:cafe::17',
        client_user_agent: UA,
        fbp: 'fb.1.1690000000000.42.AQQAAQIB',
        fbc: `fb.1.${NOW}.NewClick`,
      },
      event_source_url: 'https://www.example.com/landing?fbclid=NewClick',
      cookiesToSet: [
        {
          name: '_fbc',
          value: `fb.1.${NOW}.NewClick`,
          maxAge: 7_776_000,
          domain: 'example.com',
          path: '/',
          sameSite: 'lax',
          secure: true,
          httpOnly: false,
          header: `_fbc=fb.1.${NOW}.NewClick; Max-Age=7776000; Domain=example.com; Path=/; Secure; SameSite=Lax`,
        },
      ],
      consent: 'granted',
      isNavigation: false,
    },
  },
  {
    name: 'local development, first visit, spoofed headers without trustProxy',
    spec: {
      url: 'http://localhost:3000/',
      remoteAddress: '::1',
      headers: {
        accept: 'text/html',
        'x-forwarded-for': '1.2.3.4',
        'x-forwarded-host': 'evil.example',
      },
    },
    expected: {
      user_data: { client_ip_address: '::1', fbp: `fb.0.${NOW}.${MINTED_RANDOM}` },
      event_source_url: 'http://localhost:3000/',
      cookiesToSet: [
        {
          name: '_fbp',
          value: `fb.0.${NOW}.${MINTED_RANDOM}`,
          maxAge: 7_776_000,
          path: '/',
          sameSite: 'lax',
          secure: false,
          httpOnly: false,
          header: `_fbp=fb.0.${NOW}.${MINTED_RANDOM}; Max-Age=7776000; Path=/; SameSite=Lax`,
        },
      ],
      consent: 'granted',
      isNavigation: true,
    },
  },
  {
    name: 'Global Privacy Control on Cloudflare',
    spec: {
      url: 'https://example.com/thanks',
      headers: {
        'sec-fetch-dest': 'document',
        'sec-gpc': '1',
        'cf-connecting-ip': '198.51.100.7',
        cookie: '_fbp=fb.1.1690000000000.42',
      },
    },
    options: { platform: 'cloudflare', respectGpc: true, ldu: { country: 1, state: 1000 } },
    expected: {
      user_data: { client_ip_address: '198.51.100.7', fbp: 'fb.1.1690000000000.42' },
      event_source_url: 'https://example.com/thanks',
      cookiesToSet: [
        {
          name: '_fbp',
          value: 'fb.1.1690000000000.42',
          maxAge: 7_776_000,
          domain: 'example.com',
          path: '/',
          sameSite: 'lax',
          secure: true,
          httpOnly: false,
          header:
            '_fbp=fb.1.1690000000000.42; Max-Age=7776000; Domain=example.com; Path=/; Secure; SameSite=Lax',
        },
      ],
      consent: 'ldu',
      isNavigation: true,
      data_processing_options: ['LDU'],
      data_processing_options_country: 1,
      data_processing_options_state: 1000,
    },
  },
  {
    name: 'consent denied: identifiers read, nothing written',
    spec: {
      url: 'https://www.example.com/?fbclid=Click',
      remoteAddress: '198.51.100.7',
      headers: { 'sec-fetch-dest': 'document', cookie: '_fbp=fb.1.1690000000000.42' },
    },
    options: { consent: () => 'denied' },
    expected: {
      user_data: {
        client_ip_address: '198.51.100.7',
        fbp: 'fb.1.1690000000000.42',
        fbc: `fb.1.${NOW}.Click`,
      },
      event_source_url: 'https://www.example.com/?fbclid=Click',
      cookiesToSet: [],
      consent: 'denied',
      isNavigation: true,
    },
  },
];

describe('getRequestContext: Web Request and Node shape, one table', () => {
  it.each(scenarios.map((s) => [s.name, s] as const))('%s', (_name, scenario) => {
    expect(contextOf(scenario.spec, scenario.options)).toEqual(scenario.expected);
  });
});

describe('getRequestContext: shape equivalence on generated requests', () => {
  // Header values as a Web `Headers` keeps them: no CR/LF/NUL, no surrounding whitespace.
  const value = (...pool: string[]) => fc.constantFrom(...pool);
  const headers = fc.record(
    {
      'user-agent': value('UA/1', 'Mozilla/5.0 (iPhone)', 'curl/8.0'),
      'sec-fetch-dest': value('document', 'empty', 'iframe', 'image'),
      accept: value('text/html', 'application/json', '*/*'),
      'sec-gpc': value('1', '0'),
      referer: value(
        'https://www.example.com/landing?fbclid=FromRef',
        'https://blog.example.com/',
        'https://other.example.net/?fbclid=Cross',
        'not a url',
        'http://localhost:3000/p',
      ),
      cookie: value(
        '_fbp=fb.1.1690000000000.42',
        '_fbp=fb.1.1690000000000.42; _fbc=fb.1.1690000000000.Old.AQQAAQIB',
        '_fbc=garbage; _fbp=fb.1.x.1',
        'a=1; b=2',
        '_fbp=fb.1.x.1; _fbp=fb.1.1690000000000.42',
        'x_fbp=fb.1.1690000000000.42',
      ),
      'x-forwarded-for': value(
        '198.51.100.7',
        '6.6.6.6, 2001:db8::1',
        'junk, 10.0.0.1',
        '198.51.100.7,',
      ),
      forwarded: value('for=198.51.100.7', 'for="[2001:db8::1]:443", for=10.0.0.1', 'for=unknown'),
      'x-forwarded-host': value('www.example.com', 'shop.example.org:8443', 'bad host'),
      'x-forwarded-proto': value('https', 'http', 'ftp'),
      'cf-connecting-ip': value('198.51.100.8', '240.1.2.3', 'x'),
      'x-vercel-forwarded-for': value('198.51.100.9', '1.1.1.1, 2.2.2.2'),
      'fly-client-ip': value('2001:db8::9'),
      upgrade: value('websocket', 'WebSocket', 'h2c'),
    },
    { requiredKeys: [] },
  );
  const spec = fc.record(
    {
      url: value(
        'https://www.example.com/',
        'https://www.example.com/p?fbclid=Abc_D-e&x=1',
        'http://localhost:3000/a?fbclid=L',
        'https://api.example.com/track',
        'http://127.0.0.1:8080/',
        'https://my-app.vercel.app/',
      ),
      method: value('GET', 'POST', 'HEAD', 'PUT', 'OPTIONS'),
      headers,
      remoteAddress: value('127.0.0.1', '::ffff:10.0.0.2', '203.0.113.9', '::1', 'bogus'),
    },
    { requiredKeys: ['url', 'method', 'headers'] },
  );
  const options = fc.record(
    {
      trustProxy: fc.constantFrom<RequestContextOptions['trustProxy']>(
        false,
        true,
        1,
        2,
        'loopback',
        ['loopback', 'private'],
        '10.0.0.0/8',
      ),
      forwardedHeader: fc.constantFrom<'x-forwarded-for' | 'forwarded'>(
        'x-forwarded-for',
        'forwarded',
      ),
      platform: fc.constantFrom<RequestContextOptions['platform']>(
        'vercel',
        'cloudflare',
        'fly',
        'aws-alb',
      ),
      cookies: fc.boolean(),
      generateFbp: fc.boolean(),
      respectGpc: fc.boolean(),
      cookieDomain: value('example.com', 'nope.test'),
    },
    { requiredKeys: [] },
  );

  it('gives identical contexts for both shapes (contextOf asserts it)', () => {
    fc.assert(
      fc.property(spec, options, (s, o) => {
        const context = contextOf(s as RequestSpec, o as RequestContextOptions);
        for (const cookie of context.cookiesToSet)
          expect(cookie.header.startsWith(`${cookie.name}=${cookie.value};`)).toBe(true);
      }),
      { numRuns: 400 },
    );
  });

  it('mayWriteCookies is false only where the context sets no cookie (both shapes)', () => {
    let deferred = 0;
    fc.assert(
      fc.property(spec, options, (s, o) => {
        const specOf = s as RequestSpec;
        const opts = { now: () => NOW, ...(o as RequestContextOptions) };
        const web = toWebRequest(specOf);
        const node = toNodeRequest(specOf);
        const webOptions =
          specOf.remoteAddress === undefined
            ? opts
            : { ...opts, remoteAddress: specOf.remoteAddress };
        expect(mayWriteCookies(node, opts)).toBe(mayWriteCookies(web, webOptions));
        if (mayWriteCookies(node, opts)) return;
        deferred++;
        expect(getRequestContext(node, opts).cookiesToSet).toEqual([]);
        expect(getRequestContext(web, webOptions).cookiesToSet).toEqual([]);
      }),
      { numRuns: 1000 },
    );
    // The generator covers the cheap case often enough for the property to mean something.
    expect(deferred).toBeGreaterThan(100);
  });
});

describe('mayWriteCookies', () => {
  const fbp = '_fbp=fb.1.1690000000000.42';
  const request = (headers: Record<string, string>, url = '/api/cart', method = 'POST') =>
    toNodeRequest({ url: `https://www.example.com${url}`, method, headers });

  it('is false for a CORS preflight, whose context mints no _fbp and sets no cookie', () => {
    // A preflight carries no cookie; its answer is no visit to give a browser ID to.
    for (const url of ['/api/cart', '/api/cart?fbclid=Abc']) {
      const preflight = request({ origin: 'https://shop.example.org' }, url, 'OPTIONS');
      expect(mayWriteCookies(preflight)).toBe(false);
      const context = getRequestContext(preflight, { now: () => NOW });
      expect(context.cookiesToSet).toEqual([]);
      expect(context.user_data.fbp).toBeUndefined();
    }
    expect(mayWriteCookies(request({}, '/api/cart', 'options'))).toBe(false);
  });

  it('is false for a WebSocket handshake, whose context mints no _fbp and sets no cookie', () => {
    // Its answer is the 101 a WebSocket library writes, not the response our Set-Cookie is put on:
    // a minted _fbp reached no browser, and its events carried a browser ID nobody has.
    for (const upgrade of ['websocket', 'WebSocket']) {
      for (const url of ['/live', '/live?fbclid=Abc']) {
        const handshake = request({ upgrade, connection: 'Upgrade' }, url, 'GET');
        expect(mayWriteCookies(handshake)).toBe(false);
        const context = getRequestContext(handshake, { now: () => NOW });
        expect(context.cookiesToSet).toEqual([]);
        expect(context.user_data.fbp).toBeUndefined();
      }
    }
    // The browser's cookies are still read.
    const known = getRequestContext(
      request({ upgrade: 'websocket', connection: 'Upgrade', cookie: fbp }, '/live', 'GET'),
      { now: () => NOW },
    );
    expect(known.user_data.fbp).toBe('fb.1.1690000000000.42');
    expect(known.cookiesToSet).toEqual([]);
    // Another protocol's upgrade (h2c) of a request Node answers as usual still gets its cookie.
    expect(mayWriteCookies(request({ upgrade: 'h2c' }, '/', 'GET'))).toBe(true);
  });

  it('is false for a sub-request that already has a valid _fbp and no fbclid', () => {
    expect(mayWriteCookies(request({ cookie: fbp, 'sec-fetch-dest': 'empty' }))).toBe(false);
    expect(
      mayWriteCookies(request({ cookie: fbp, accept: 'image/avif' }, '/logo.png', 'GET')),
    ).toBe(false);
  });

  it('is true where a cookie may be written: navigation, missing/invalid _fbp, fbclid', () => {
    expect(mayWriteCookies(request({ cookie: fbp, accept: 'text/html' }, '/', 'GET'))).toBe(true);
    expect(mayWriteCookies(request({ 'sec-fetch-dest': 'empty' }))).toBe(true);
    expect(mayWriteCookies(request({ cookie: '_fbp=fb.1.x.1' }))).toBe(true);
    expect(mayWriteCookies(request({ cookie: `x${fbp}` }))).toBe(true);
    expect(mayWriteCookies(request({ cookie: fbp }, '/api/cart?fbclid=IwAR1'))).toBe(true);
    expect(
      mayWriteCookies(request({ cookie: fbp, referer: 'https://www.example.com/?fbclid=IwAR1' })),
    ).toBe(true);
  });

  it('follows the options: cookies: false writes nothing; generateFbp: false mints nothing', () => {
    expect(mayWriteCookies(request({ accept: 'text/html' }, '/', 'GET'), { cookies: false })).toBe(
      false,
    );
    expect(mayWriteCookies(request({}), { generateFbp: false })).toBe(false);
    expect(mayWriteCookies(request({}, '/?fbclid=IwAR1'), { generateFbp: false })).toBe(true);
  });

  it('reads the method as the context does: absent or null is GET, any case is uppercased', () => {
    const page = { headers: { accept: 'text/html', cookie: fbp }, url: '/' };
    for (const method of [undefined, null, 'GET', 'get', 'Get']) {
      const input = { ...page, method } as unknown as NodeRequestLike;
      expect(mayWriteCookies(input), String(method)).toBe(true);
      expect(getRequestContext(input, { remoteAddress: '203.0.113.7' }).isNavigation).toBe(true);
    }
    const post = { ...page, method: 'post' } as NodeRequestLike;
    expect(mayWriteCookies(post)).toBe(false);
    expect(getRequestContext(post).isNavigation).toBe(false);
  });
});

describe('duplicate _fbp/_fbc cookies', () => {
  // A browser holding two cookies of one name and path sends the older first (RFC 6265 §5.4):
  // here a malformed host-only `_fbp` (a consent tool's `deleted`, an old integration's quoting)
  // left beside the one on the site's domain. The first one winning made the context mint a new
  // `_fbp` on every request; the minted cookie could never come first, so every page view had a
  // different fbp and the visitor could not be matched or deduplicated.
  const valid = 'fb.1.1690000000000.42';
  const click = 'fb.1.1690000000000.IwAR_kept';

  it('reads the first valid value and re-sets it instead of minting', () => {
    const ctx = contextOf({
      url: 'https://www.example.com/',
      headers: {
        'sec-fetch-dest': 'document',
        cookie: `_fbp=deleted; _fbc="quoted"; sid=1; _fbp=${valid}; _fbc=${click}`,
      },
    });
    expect(ctx.user_data.fbp).toBe(valid);
    expect(ctx.user_data.fbc).toBe(click);
    expect(ctx.cookiesToSet.map((cookie) => [cookie.name, cookie.value])).toEqual([
      ['_fbp', valid],
      ['_fbc', click],
    ]);
  });

  it('keeps the first of two valid values (the one the Pixel reads too)', () => {
    const ctx = contextOf({
      url: 'https://www.example.com/api',
      method: 'POST',
      headers: { cookie: `_fbp=${valid}; _fbp=fb.1.1700000000000.7` },
    });
    expect(ctx.user_data.fbp).toBe(valid);
    expect(ctx.cookiesToSet).toEqual([]);
  });

  it('mayWriteCookies agrees: a sub-request with a valid _fbp after a malformed one sets nothing', () => {
    const input = toNodeRequest({
      url: 'https://www.example.com/api/cart',
      method: 'POST',
      headers: { cookie: `_fbp=; _fbp=${valid}`, 'sec-fetch-dest': 'empty' },
    });
    expect(mayWriteCookies(input)).toBe(false);
    expect(getRequestContext(input).cookiesToSet).toEqual([]);
  });
});
