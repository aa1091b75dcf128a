import { AsyncLocalStorage } from 'node:async_hooks';
import { describe, expect, it, vi } from 'vitest';

// Next's own proxy (middleware) adapter runs capiProxy here, with the request scope that
// `cookies()` from next/headers writes into. Next puts AsyncLocalStorage on globalThis before
// loading its modules, so they are imported after it is set.
(globalThis as { AsyncLocalStorage?: unknown }).AsyncLocalStorage ??= AsyncLocalStorage;
const { adapter } = await import('next/dist/server/web/adapter.js');
const { cookies } = await import('next/headers.js');
const { NextResponse } = await import('next/server.js');
const { splitCookiesString } = await import('next/dist/server/web/utils.js');
const { capiProxy } = await import('@capi-kit/next/proxy');

type ProxyHandler = Parameters<typeof adapter>[0]['handler'];

/** A landing from an ad through Next's adapter, as `next start` runs proxy.ts. */
const land = async (handler: ReturnType<typeof capiProxy>) => {
  const { response } = await adapter({
    handler: handler as unknown as ProxyHandler,
    page: '/proxy',
    request: {
      headers: { host: 'shop.example.com', accept: 'text/html', 'sec-fetch-dest': 'document' },
      method: 'GET',
      url: 'http://localhost:3000/?fbclid=IwAR_landing',
      nextConfig: {},
      signal: new AbortController().signal,
    },
  });
  // Next's server splits a Set-Cookie value it joined itself (toNodeOutgoingHttpHeaders).
  return response.headers
    .getSetCookie()
    .flatMap((value) => splitCookiesString(value))
    .map((cookie) => cookie.slice(0, cookie.indexOf('=')))
    .sort();
};

describe('capiProxy run by Next’s proxy adapter', () => {
  it('keeps _fbp/_fbc when the composed proxy writes a cookie with cookies() from next/headers', async () => {
    // Next then replaces the response's Set-Cookie with what cookies().set wrote.
    const names = await land(
      capiProxy({
        next: async () => {
          (await cookies()).set('session', 'fresh');
          return NextResponse.next();
        },
      }),
    );
    expect(names).toEqual(['_fbc', '_fbp', 'session']);
  });

  it('keeps the cookies the composed proxy set on its response, beside _fbp/_fbc', async () => {
    const names = await land(
      capiProxy({
        next: () => {
          const response = NextResponse.next();
          response.cookies.set('theme', 'dark');
          return response;
        },
      }),
    );
    expect(names).toEqual(['_fbc', '_fbp', 'theme']);
  });
});

describe('capiProxy exported without being called', () => {
  it('serves each request as capiProxy() would and says once how to export it', async () => {
    // `export default capiProxy` (or `export const proxy = capiProxy`) type-checks where nothing
    // types the export: Next then calls the factory with each request, gets a function back and
    // throws 'Expected an instance of Response to be returned', a 500 for every page of the site.
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    try {
      const uncalled = capiProxy as unknown as ReturnType<typeof capiProxy>;
      expect(await land(uncalled)).toEqual(['_fbc', '_fbp']);
      expect(await land(uncalled)).toEqual(['_fbc', '_fbp']);
      expect(warn.mock.calls.map((call) => String(call[0]))).toEqual([
        expect.stringContaining('export const proxy = capiProxy()'),
      ]);
    } finally {
      warn.mockRestore();
    }
  });
});
