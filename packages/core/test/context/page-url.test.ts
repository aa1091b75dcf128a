import { describe, expect, it } from 'vitest';
import { getRequestContext, type RequestContextOptions } from '../../src/context/index.js';
import { contextOf, type RequestSpec } from './request-shapes.js';

interface PageCase {
  name: string;
  spec: RequestSpec;
  options?: RequestContextOptions;
  isNavigation: boolean;
  event_source_url: string | undefined;
  referrer_url: string | undefined;
}

const cases: PageCase[] = [
  {
    name: 'navigation (Sec-Fetch-Dest: document): URL is the page, Referer the referrer',
    spec: {
      url: 'https://www.example.com/p?q=1&fbclid=AbC',
      headers: { 'sec-fetch-dest': 'document', referer: 'https://www.google.com/' },
    },
    isNavigation: true,
    event_source_url: 'https://www.example.com/p?q=1&fbclid=AbC',
    referrer_url: 'https://www.google.com/',
  },
  {
    name: 'navigation without Fetch Metadata (Accept: text/html)',
    spec: {
      url: 'https://www.example.com/',
      headers: {
        accept: 'text/html,application/xhtml+xml;q=0.9,*/*;q=0.8',
        referer: 'https://www.example.com/prev',
      },
    },
    isNavigation: true,
    event_source_url: 'https://www.example.com/',
    referrer_url: 'https://www.example.com/prev',
  },
  {
    name: 'navigation with no Referer',
    spec: { url: 'https://www.example.com/', headers: { 'sec-fetch-dest': 'document' } },
    isNavigation: true,
    event_source_url: 'https://www.example.com/',
    referrer_url: undefined,
  },
  {
    name: 'fetch from a page: same-site Referer is the page; its referrer is unknown',
    spec: {
      url: 'https://www.example.com/api/lead',
      method: 'POST',
      headers: { 'sec-fetch-dest': 'empty', referer: 'https://www.example.com/pricing?plan=pro' },
    },
    isNavigation: false,
    event_source_url: 'https://www.example.com/pricing?plan=pro',
    referrer_url: undefined,
  },
  {
    name: 'GET fetch (Sec-Fetch-Dest: empty) even with Accept text/html',
    spec: {
      url: 'https://www.example.com/partial',
      headers: {
        'sec-fetch-dest': 'empty',
        accept: 'text/html',
        referer: 'https://www.example.com/p',
      },
    },
    isNavigation: false,
    event_source_url: 'https://www.example.com/p',
    referrer_url: undefined,
  },
  {
    name: 'form post navigation (POST + document) counts as an action on the referring page',
    spec: {
      url: 'https://www.example.com/signup',
      method: 'POST',
      headers: { 'sec-fetch-dest': 'document', referer: 'https://www.example.com/form' },
    },
    isNavigation: false,
    event_source_url: 'https://www.example.com/form',
    referrer_url: undefined,
  },
  {
    name: 'POST without Fetch Metadata',
    spec: {
      url: 'https://www.example.com/signup',
      method: 'POST',
      headers: { accept: 'text/html', referer: 'https://www.example.com/form' },
    },
    isNavigation: false,
    event_source_url: 'https://www.example.com/form',
    referrer_url: undefined,
  },
  {
    name: 'GET without Fetch Metadata and without text/html',
    spec: {
      url: 'https://www.example.com/api',
      headers: { accept: 'application/json', referer: 'https://www.example.com/p' },
    },
    isNavigation: false,
    event_source_url: 'https://www.example.com/p',
    referrer_url: undefined,
  },
  {
    name: 'iframe load is not a top-level navigation',
    spec: {
      url: 'https://www.example.com/embed',
      headers: { 'sec-fetch-dest': 'iframe', referer: 'https://www.example.com/host' },
    },
    isNavigation: false,
    event_source_url: 'https://www.example.com/host',
    referrer_url: undefined,
  },
  {
    name: 'same site across subdomains',
    spec: {
      url: 'https://api.example.com/track',
      method: 'POST',
      headers: { 'sec-fetch-dest': 'empty', referer: 'https://blog.example.com/post' },
    },
    isNavigation: false,
    event_source_url: 'https://blog.example.com/post',
    referrer_url: undefined,
  },
  {
    name: 'cross-site Referer on a sub-request → ignored, the request URL stands in',
    spec: {
      url: 'https://www.example.com/api',
      method: 'POST',
      headers: { 'sec-fetch-dest': 'empty', referer: 'https://www.example.net/' },
    },
    isNavigation: false,
    event_source_url: 'https://www.example.com/api',
    referrer_url: undefined,
  },
  {
    name: 'private suffixes are separate sites (a.vercel.app vs b.vercel.app)',
    spec: {
      url: 'https://a.vercel.app/api',
      method: 'POST',
      headers: { 'sec-fetch-dest': 'empty', referer: 'https://b.vercel.app/' },
    },
    isNavigation: false,
    event_source_url: 'https://a.vercel.app/api',
    referrer_url: undefined,
  },
  {
    name: 'localhost on another port is the same site',
    spec: {
      url: 'http://localhost:3000/api',
      method: 'POST',
      headers: { 'sec-fetch-dest': 'empty', referer: 'http://localhost:5173/app' },
    },
    isNavigation: false,
    event_source_url: 'http://localhost:5173/app',
    referrer_url: undefined,
  },
  {
    name: 'unusable Referers are ignored',
    spec: {
      url: 'https://www.example.com/',
      headers: { 'sec-fetch-dest': 'document', referer: 'android-app://com.example/' },
    },
    isNavigation: true,
    event_source_url: 'https://www.example.com/',
    referrer_url: undefined,
  },
  {
    name: 'relative Referer is ignored',
    spec: {
      url: 'https://www.example.com/',
      headers: { 'sec-fetch-dest': 'document', referer: '/prev' },
    },
    isNavigation: true,
    event_source_url: 'https://www.example.com/',
    referrer_url: undefined,
  },
  {
    name: 'Referer fragment is dropped',
    spec: {
      url: 'https://www.example.com/',
      headers: { 'sec-fetch-dest': 'document', referer: 'https://www.example.com/a#top' },
    },
    isNavigation: true,
    event_source_url: 'https://www.example.com/',
    referrer_url: 'https://www.example.com/a',
  },
  {
    name: 'X-Forwarded-Host/Proto honoured behind a trusted proxy',
    spec: {
      url: 'http://127.0.0.1:3000/p?x=1',
      remoteAddress: '127.0.0.1',
      headers: {
        'sec-fetch-dest': 'document',
        'x-forwarded-host': 'shop.example.org',
        'x-forwarded-proto': 'https',
      },
    },
    options: { trustProxy: 'loopback' },
    isNavigation: true,
    event_source_url: 'https://shop.example.org/p?x=1',
    referrer_url: undefined,
  },
  {
    name: 'X-Forwarded-Host/Proto ignored without a trusted proxy',
    spec: {
      url: 'http://127.0.0.1:3000/p',
      remoteAddress: '127.0.0.1',
      headers: {
        'sec-fetch-dest': 'document',
        'x-forwarded-host': 'evil.example',
        'x-forwarded-proto': 'https',
      },
    },
    isNavigation: true,
    event_source_url: 'http://127.0.0.1:3000/p',
    referrer_url: undefined,
  },
  {
    name: 'X-Forwarded-Host ignored when the socket is not one of the trusted proxies',
    spec: {
      url: 'http://app.internal/p',
      remoteAddress: '203.0.113.9',
      headers: { 'sec-fetch-dest': 'document', 'x-forwarded-host': 'evil.example' },
    },
    options: { trustProxy: 'loopback' },
    isNavigation: true,
    event_source_url: 'http://app.internal/p',
    referrer_url: undefined,
  },
  {
    name: 'first X-Forwarded-Host value; an unsafe one is ignored',
    spec: {
      url: 'http://127.0.0.1/p',
      remoteAddress: '127.0.0.1',
      headers: {
        'sec-fetch-dest': 'document',
        'x-forwarded-host': 'bad host, www.example.com',
        'x-forwarded-proto': 'ftp',
      },
    },
    options: { trustProxy: true },
    isNavigation: true,
    event_source_url: 'http://127.0.0.1/p',
    referrer_url: undefined,
  },
  {
    // A proxy that writes RFC 7239 (HAProxy's `option forwarded`, Envoy, …) sets no X-Forwarded-*:
    // the scheme and host it saw are in `proto=` and `host=` of its element.
    name: 'forwardedHeader "forwarded": scheme and host from Forwarded proto= and host=',
    spec: {
      url: 'http://127.0.0.1:3000/p?x=1',
      remoteAddress: '127.0.0.1',
      headers: {
        'sec-fetch-dest': 'document',
        forwarded:
          'for=198.51.100.7;proto=https;host="shop.example.org:8443", for=10.0.0.2;proto=http;host=app.internal',
      },
    },
    options: { trustProxy: 'loopback', forwardedHeader: 'forwarded' },
    isNavigation: true,
    event_source_url: 'https://shop.example.org:8443/p?x=1',
    referrer_url: undefined,
  },
  {
    // The proxies write Forwarded only, so a client's own X-Forwarded-* passes through unopposed.
    name: 'forwardedHeader "forwarded": X-Forwarded-Host/Proto are the client\'s, ignored',
    spec: {
      url: 'http://127.0.0.1:3000/p',
      remoteAddress: '127.0.0.1',
      headers: {
        'sec-fetch-dest': 'document',
        forwarded: 'for=198.51.100.7',
        'x-forwarded-host': 'evil.example',
        'x-forwarded-proto': 'https',
      },
    },
    options: { trustProxy: 'loopback', forwardedHeader: 'forwarded' },
    isNavigation: true,
    event_source_url: 'http://127.0.0.1:3000/p',
    referrer_url: undefined,
  },
  {
    name: 'forwardedHeader "forwarded": a repeated or unsafe proto=/host= is ignored',
    spec: {
      url: 'http://127.0.0.1:3000/p',
      remoteAddress: '127.0.0.1',
      headers: {
        'sec-fetch-dest': 'document',
        forwarded: 'for=198.51.100.7;proto=https;proto=http;host="a b"',
      },
    },
    options: { trustProxy: 'loopback', forwardedHeader: 'forwarded' },
    isNavigation: true,
    event_source_url: 'http://127.0.0.1:3000/p',
    referrer_url: undefined,
  },
];

describe('event_source_url, referrer_url, isNavigation', () => {
  it.each(cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const context = contextOf(c.spec, c.options);
    expect(context.isNavigation).toBe(c.isNavigation);
    expect(context.event_source_url).toBe(c.event_source_url);
    expect(context.referrer_url).toBe(c.referrer_url);
  });

  it('X-Forwarded-Host moves the cookie domain and Secure flag with it', () => {
    const context = contextOf(
      {
        url: 'http://127.0.0.1:3000/',
        remoteAddress: '127.0.0.1',
        headers: {
          'sec-fetch-dest': 'document',
          'x-forwarded-host': 'www.example.org',
          'x-forwarded-proto': 'https',
        },
      },
      { trustProxy: 'loopback' },
    );
    expect(context.cookiesToSet[0]).toMatchObject({ domain: 'example.org', secure: true });
  });

  it('so does Forwarded host= and proto= with forwardedHeader "forwarded"', () => {
    const context = contextOf(
      {
        url: 'http://127.0.0.1:3000/',
        remoteAddress: '127.0.0.1',
        headers: {
          'sec-fetch-dest': 'document',
          forwarded: 'for="[2001:db8::7]";host=www.example.org;proto=HTTPS',
        },
      },
      { trustProxy: 'loopback', forwardedHeader: 'forwarded' },
    );
    expect(context.user_data.client_ip_address).toBe('2001:db8::7');
    expect(context.event_source_url).toBe('https://www.example.org/');
    expect(context.cookiesToSet[0]).toMatchObject({ domain: 'example.org', secure: true });
  });
});

describe('Node-only inputs', () => {
  it('a path URL takes the host from Host (or HTTP/2 :authority)', () => {
    const viaHost = getRequestContext({
      method: 'GET',
      url: '/x?y=1',
      headers: { host: 'www.example.com', 'sec-fetch-dest': 'document' },
    });
    expect(viaHost.event_source_url).toBe('http://www.example.com/x?y=1');
    const viaAuthority = getRequestContext({
      url: '/x',
      headers: { ':authority': 'www.example.com', 'sec-fetch-dest': 'document' },
      protocol: 'https',
    });
    expect(viaAuthority.event_source_url).toBe('https://www.example.com/x');
  });

  it('a path that looks scheme-relative stays on this host', () => {
    const context = getRequestContext({
      url: '//evil.example/x',
      headers: { host: 'www.example.com', 'sec-fetch-dest': 'document' },
    });
    expect(context.event_source_url).toBe('http://www.example.com//evil.example/x');
  });

  it('an unsafe or missing Host means no page URL and no cookies', () => {
    for (const host of ['evil.com\r\nSet-Cookie: a=b', 'a;b.com', 'a b.com', 'user@host.com', '']) {
      const context = getRequestContext({
        url: '/',
        headers: { host, 'sec-fetch-dest': 'document' },
      });
      expect(context.event_source_url).toBeUndefined();
      expect(context.cookiesToSet).toEqual([]);
    }
    expect(getRequestContext({ url: '/', headers: {} }).event_source_url).toBeUndefined();
  });

  it('accepts mixed-case record keys, array values and a Headers object', () => {
    const record = getRequestContext(
      {
        url: '/',
        headers: {
          Host: 'www.example.com',
          Cookie: ['_fbp=fb.1.1.2', 'a=1'],
          'User-Agent': 'UA/1',
        },
      },
      { generateFbp: false },
    );
    expect(record.user_data).toEqual({ client_user_agent: 'UA/1', fbp: 'fb.1.1.2' });
    const headers = new Headers({
      host: 'www.example.com',
      cookie: '_fbp=fb.1.1.2',
      'user-agent': 'UA/1',
    });
    expect(getRequestContext({ url: '/', headers }, { generateFbp: false }).user_data).toEqual(
      record.user_data,
    );
  });

  it('an absolute-form request target uses its own host', () => {
    const context = getRequestContext({
      url: 'https://www.example.com/a',
      headers: { host: 'other.example', 'sec-fetch-dest': 'document' },
    });
    expect(context.event_source_url).toBe('https://www.example.com/a');
  });
});
