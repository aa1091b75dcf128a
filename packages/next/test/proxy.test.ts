import { capiProxy } from '@capi-kit/next/proxy';
import { NextRequest, NextResponse } from 'next/server.js';
import { describe, expect, it, vi } from 'vitest';

const UA = 'Mozilla/5.0 (X11; Linux x86_64) capi-kit-next/1.0';
const event = {} as Parameters<ReturnType<typeof capiProxy>>[1];

/** A page load from an ad click, as a proxy receives it. */
const landing = (path = '/?fbclid=IwAR_click-1', headers: Record<string, string> = {}) =>
  new NextRequest(`http://localhost:3000${path}`, {
    headers: {
      host: 'shop.example.com',
      accept: 'text/html',
      'sec-fetch-dest': 'document',
      'user-agent': UA,
      ...headers,
    },
  });

const setCookies = (response: Response) =>
  Object.fromEntries(
    response.headers.getSetCookie().map((c) => {
      const [pair = ''] = c.split(';');
      return [pair.slice(0, pair.indexOf('=')), c];
    }),
  );
const forwarded = (response: Response, name: string) =>
  response.headers.get(`x-middleware-request-${name}`);

describe('capiProxy', () => {
  it('sets _fbp and _fbc on landing and lets the routes behind see them and their URL', async () => {
    const response = await capiProxy()(landing(), event);
    expect(response.headers.get('x-middleware-next')).toBe('1');
    const cookies = setCookies(response);
    expect(cookies._fbp).toMatch(
      /^_fbp=fb\.1\.\d{13}\.\d+; Max-Age=7776000; Domain=example\.com; Path=\/; SameSite=Lax$/,
    );
    expect(cookies._fbc).toMatch(
      /^_fbc=fb\.1\.\d{13}\.IwAR_click-1; Max-Age=7776000; Domain=example\.com;/,
    );
    const cookieHeader = forwarded(response, 'cookie') ?? '';
    expect(cookieHeader).toContain(cookies._fbp?.split(';')[0]);
    expect(cookieHeader).toContain(cookies._fbc?.split(';')[0]);
    expect(forwarded(response, 'x-capi-kit-url')).toBe('/?fbclid=IwAR_click-1');
    expect(forwarded(response, 'user-agent')).toBe(UA);
    expect(response.headers.get('x-middleware-override-headers')?.split(',')).toEqual(
      expect.arrayContaining(['cookie', 'x-capi-kit-url', 'user-agent', 'host']),
    );
  });

  it('keeps other cookies and refreshes a changed fbclid', async () => {
    const response = await capiProxy()(
      landing('/?fbclid=new_click', {
        cookie: 'theme=dark; _fbp=fb.1.1700000000000.42; _fbc=fb.1.1700000000000.old_click',
      }),
      event,
    );
    const cookies = setCookies(response);
    expect(cookies._fbp).toMatch(/^_fbp=fb\.1\.1700000000000\.42;/);
    expect(cookies._fbc).toMatch(/\.new_click;/);
    const header = forwarded(response, 'cookie') ?? '';
    expect(header).toContain('theme=dark');
    expect(header).not.toContain('old_click');
  });

  it('forwards a cookie pair without "=" untouched, whatever its name', async () => {
    const response = await capiProxy()(
      landing('/?fbclid=new_click', { cookie: 'theme=dark; _fbpx; _fbc' }),
      event,
    );
    expect(forwarded(response, 'cookie')?.split('; ').slice(0, 3)).toEqual([
      'theme=dark',
      '_fbpx',
      '_fbc',
    ]);
  });

  it('renews no cookie on a sub-request (an RSC fetch), but still forwards the URL (minus _rsc)', async () => {
    const request = new NextRequest('http://localhost:3000/pricing?_rsc=1x2y', {
      headers: {
        host: 'shop.example.com',
        accept: 'text/x-component',
        'sec-fetch-dest': 'empty',
        'user-agent': UA,
        cookie: '_fbp=fb.1.1700000000000.42; _fbc=fb.1.1700000000000.IwAR_old',
      },
    });
    const response = await capiProxy()(request, event);
    expect(response.headers.getSetCookie()).toEqual([]);
    expect(forwarded(response, 'x-capi-kit-url')).toBe('/pricing');
    // The route behind sees the visitor's cookies as they are.
    expect(forwarded(response, 'cookie')).toBe(
      '_fbp=fb.1.1700000000000.42; _fbc=fb.1.1700000000000.IwAR_old',
    );
  });

  // The rule of every adapter (docs/architecture.md, "Cookies"): what is missing or new is written
  // on any request, not only on page navigations, so a visitor who arrives by curl, by a fetch or
  // by a client-side navigation without an _fbp gets the same cookies as a browser's page load.
  it.each([
    [
      'curl (no Accept: text/html, no Fetch Metadata)',
      { accept: '*/*', 'user-agent': 'curl/8.5.0' },
    ],
    ['an RSC fetch', { accept: 'text/x-component', 'sec-fetch-dest': 'empty', 'user-agent': UA }],
  ])('sets a new _fbp and _fbc on a request that is not a page load: %s', async (_, headers) => {
    const request = new NextRequest('http://localhost:3000/?fbclid=IwAR_curl-2', {
      headers: { host: 'shop.example.com', ...headers },
    });
    const response = await capiProxy()(request, event);
    const cookies = setCookies(response);
    expect(Object.keys(cookies).sort()).toEqual(['_fbc', '_fbp']);
    expect(cookies._fbp).toMatch(/^_fbp=fb\.1\.\d{13}\.\d+; Max-Age=7776000; Domain=example\.com;/);
    expect(cookies._fbc).toMatch(/^_fbc=fb\.1\.\d{13}\.IwAR_curl-2;/);
    // The page behind the proxy tracks with the cookies it just got.
    const cookieHeader = forwarded(response, 'cookie') ?? '';
    expect(cookieHeader).toContain(cookies._fbp?.split(';')[0]);
    expect(cookieHeader).toContain(cookies._fbc?.split(';')[0]);
  });

  it('sets and renews no cookie on a prefetch, which is no visit yet, but still forwards the URL', async () => {
    // What reaches the proxy before anyone clicked (Next 16.4, Chromium, `next start`): the App
    // Router's prefetch of a `<Link>` on screen (`Next-Router-Prefetch`, the route tree's first) and
    // a browser's speculative load (Chrome prerendering a page its address bar predicts). A new
    // `_fbp` was minted for each, so a visitor had one before landing, and a link never followed
    // left one behind; a visitor's own was renewed for a page never opened.
    const consent = vi.fn(() => 'granted' as const);
    const proxy = capiProxy({ consent });
    const prefetch = (headers: Record<string, string>) =>
      new NextRequest('http://localhost:3000/pricing?fbclid=IwAR_seen&_rsc=1x2y', {
        headers: { host: 'shop.example.com', 'user-agent': UA, ...headers },
      });
    const router = { rsc: '1', accept: '*/*', 'sec-fetch-dest': 'empty' };
    const browser = {
      accept: 'text/html',
      'sec-fetch-dest': 'document',
      'sec-fetch-mode': 'navigate',
    };
    for (const headers of [
      { ...router, 'next-router-prefetch': '1', 'next-router-segment-prefetch': '/_tree' },
      { ...router, 'next-router-prefetch': '2' },
      { ...browser, 'sec-purpose': 'prefetch;prerender' },
      { ...browser, 'sec-purpose': 'prefetch' },
      { ...browser, purpose: 'prefetch' },
    ]) {
      for (const cookie of [undefined, `theme=dark; _fbp=fb.1.1700000000000.42`]) {
        const request = prefetch(cookie === undefined ? headers : { ...headers, cookie });
        const response = await proxy(request, event);
        expect(response.headers.getSetCookie()).toEqual([]);
        expect(response.headers.get('x-middleware-next')).toBe('1');
        expect(forwarded(response, 'x-capi-kit-url')).toBe('/pricing?fbclid=IwAR_seen');
        // The route behind sees the visitor's cookies as they are.
        expect(forwarded(response, 'cookie')).toBe(cookie ?? null);
      }
    }
    expect(consent).not.toHaveBeenCalled();
    // The click that follows is the visit: the cookies are set then.
    const click = await proxy(prefetch(browser), event);
    expect(Object.keys(setCookies(click)).sort()).toEqual(['_fbc', '_fbp']);
  });

  it("skips the request context of a returning visitor's sub-request (no cookie can change)", async () => {
    const consent = vi.fn(() => 'granted' as const);
    const proxy = capiProxy({ consent });
    const fetchFromPage = new NextRequest('http://localhost:3000/api/cart', {
      headers: {
        host: 'shop.example.com',
        'sec-fetch-dest': 'empty',
        cookie: '_fbp=fb.1.1700000000000.42',
        'user-agent': UA,
      },
    });
    expect((await proxy(fetchFromPage, event)).headers.getSetCookie()).toEqual([]);
    expect(consent).not.toHaveBeenCalled();
    // A page load of the same visitor re-sets _fbp, so its context is computed.
    const reload = landing('/', { cookie: '_fbp=fb.1.1700000000000.42' });
    expect(setCookies(await proxy(reload, event))._fbp).toMatch(/^_fbp=fb\.1\.1700000000000\.42;/);
    expect(consent).toHaveBeenCalledTimes(1);
  });

  it('honours consent: a denied visitor gets no cookies', async () => {
    const response = await capiProxy({ consent: () => 'denied' })(landing(), event);
    expect(response.headers.getSetCookie()).toEqual([]);
  });

  it('refuses at creation options it would read against the app, as every adapter does', async () => {
    // consent: 'granted' threw per request and counted as denied: no cookie was ever set. A
    // trustProxy of 'true' (an environment variable) trusted no one, silently.
    expect(() => capiProxy({ consent: 'granted' as never })).toThrow(
      "capi-kit: consent must be a function (input, { header, cookies }) => 'granted' | 'denied' | 'ldu', got the string 'granted'; for the same answer on every request write consent: () => 'granted'",
    );
    expect(() => capiProxy({ trustProxy: 'true' as never })).toThrow(
      "capi-kit: trustProxy: the string 'true' is not an address",
    );
    expect(() => capiProxy({ cookies: 'false' as never })).toThrow(
      'capi-kit: cookies must be true or false, got the string "false"',
    );
    const response = await capiProxy({ consent: () => 'granted', trustProxy: 1 })(landing(), event);
    expect(setCookies(response)._fbp).toMatch(/^_fbp=fb\.1\./);
  });

  it('composes: adds cookies and forwarded headers to the response of your own proxy', async () => {
    const mine = vi.fn((request: NextRequest) =>
      NextResponse.next({
        request: {
          headers: new Headers({ ...Object.fromEntries(request.headers), 'x-tenant': 'acme' }),
        },
      }),
    );
    const response = await capiProxy({ next: mine })(landing(), event);
    expect(mine).toHaveBeenCalledTimes(1);
    expect(forwarded(response, 'x-tenant')).toBe('acme');
    expect(forwarded(response, 'x-capi-kit-url')).toBe('/?fbclid=IwAR_click-1');
    expect(forwarded(response, 'cookie')).toMatch(/_fbp=fb\.1\./);
    const listed = response.headers.get('x-middleware-override-headers')?.split(',') ?? [];
    expect(listed).toEqual(expect.arrayContaining(['x-tenant', 'x-capi-kit-url', 'cookie']));
    expect(new Set(listed).size).toBe(listed.length);
    expect(Object.keys(setCookies(response)).sort()).toEqual(['_fbc', '_fbp']);
  });

  it('composes with a proxy that continues without a response of its own', async () => {
    const response = await capiProxy({ next: () => undefined })(landing(), event);
    expect(response.headers.get('x-middleware-next')).toBe('1');
    expect(Object.keys(setCookies(response)).sort()).toEqual(['_fbc', '_fbp']);
  });

  it('adds the cookies to a redirect from your proxy, without forwarding headers to a route', async () => {
    const response = await capiProxy({
      next: () => NextResponse.redirect('https://shop.example.com/login'),
    })(landing(), event);
    expect(response.status).toBe(307);
    expect(response.headers.get('x-middleware-override-headers')).toBeNull();
    expect(Object.keys(setCookies(response)).sort()).toEqual(['_fbc', '_fbp']);
  });

  it('copies a response with immutable headers to add the cookies', async () => {
    const response = await capiProxy({
      next: () => Response.redirect('https://shop.example.com/a', 302),
    })(landing(), event);
    expect(response.status).toBe(302);
    expect(response.headers.get('location')).toBe('https://shop.example.com/a');
    expect(Object.keys(setCookies(response)).sort()).toEqual(['_fbc', '_fbp']);
  });

  it("lets your proxy's own errors through", async () => {
    const failure = new Error('auth backend down');
    await expect(
      capiProxy({
        next: () => {
          throw failure;
        },
      })(landing(), event),
    ).rejects.toBe(failure);
  });
});
