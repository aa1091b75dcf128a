/**
 * `capiProxy()` for `proxy.ts` (Next 16) or `middleware.ts` (Next 15): sets `_fbp`/`_fbc` by the
 * core's cookie rule and tells the pages behind it their URL. Edge-safe (no `node:` imports) and it never creates a
 * delivery client: it only computes the request context and writes cookies.
 */
import {
  type CookieToSet,
  checkContextOptions,
  getRequestContext,
  mayWriteCookies,
  type RequestContextOptions,
} from '@capi-kit/core';
import { type NextFetchEvent, type NextRequest, NextResponse } from 'next/server.js';
import { loadNextHeaders } from './next-runtime.js';
import { isPrefetchRequest } from './request-kind.js';
import {
  cookieOptions,
  cookiePairName,
  requestInput,
  URL_HEADER,
  withSetCookies,
} from './request-scope.js';

/** What a Next.js proxy (middleware) may return: a response, or nothing to continue. */
// biome-ignore lint/suspicious/noConfusingVoidType: a proxy that returns nothing continues the request.
export type ProxyResult = Response | null | undefined | void;

/** A Next.js proxy/middleware function, as `capiProxy` accepts (`next`) and returns it. */
export type ProxyFunction = (
  request: NextRequest,
  event: NextFetchEvent,
) => ProxyResult | Promise<ProxyResult>;

/** Options of {@link capiProxy}: the request-context options, and your own proxy to compose with. */
export interface CapiProxyOptions extends Omit<RequestContextOptions, 'remoteAddress'> {
  /**
   * Your existing proxy: it runs after capi-kit computed the cookies, and capi-kit adds them to
   * whatever it returns (a redirect or a rewrite included).
   * @example capiProxy({ next: (request) => auth(request) })
   */
  next?: ProxyFunction;
}

const FORWARD_PREFIX = 'x-middleware-request-';
const FORWARD_LIST = 'x-middleware-override-headers';

/**
 * Adds request headers for the routes behind a proxy response that continues (`next()` or a
 * rewrite). This is the header protocol `NextResponse.next({ request: { headers } })` writes; a
 * composed proxy's response already exists, so its list is extended instead of rebuilt.
 */
function forwardRequestHeaders(
  response: Response,
  request: Headers,
  extra: Headers,
  cookies: readonly CookieToSet[],
): void {
  const { headers } = response;
  if (!headers.has('x-middleware-next') && !headers.has('x-middleware-rewrite')) return;
  const listed = headers.get(FORWARD_LIST);
  if (listed === null) {
    const names: string[] = [];
    const all = new Headers(request);
    extra.forEach((value, name) => {
      all.set(name, value);
    });
    all.forEach((value, name) => {
      headers.set(FORWARD_PREFIX + name, value);
      names.push(name);
    });
    headers.set(FORWARD_LIST, names.join(','));
    return;
  }
  const names = listed.split(',').filter((name) => name !== '');
  // The composed proxy forwards its own `Cookie` (e.g. a refreshed session set with
  // `request.cookies.set`): capi-kit's cookies go into that value, not the one the browser sent.
  const forwardedCookie = names.includes('cookie') ? headers.get(`${FORWARD_PREFIX}cookie`) : null;
  extra.forEach((value, name) => {
    const merged =
      name === 'cookie' && forwardedCookie !== null
        ? cookieHeaderWith(forwardedCookie, cookies)
        : value;
    headers.set(FORWARD_PREFIX + name, merged);
    if (!names.includes(name)) names.push(name);
  });
  headers.set(FORWARD_LIST, names.join(','));
}

/** The `Cookie` header with the new `_fbp`/`_fbc` values in place of any old ones. */
function cookieHeaderWith(raw: string | null, cookies: readonly CookieToSet[]): string {
  const names = new Set<string>(cookies.map((c) => c.name));
  const parts = (raw ?? '')
    .split(';')
    .map((part) => part.trim())
    .filter((part) => part !== '' && !names.has(cookiePairName(part)));
  for (const cookie of cookies) parts.push(`${cookie.name}=${cookie.value}`);
  return parts.join('; ');
}

/** The registered symbol under which Next's mutable cookie store lists what `cookies().set` wrote. */
const MUTATED_COOKIES = Symbol.for('next.mutated.cookies');

/**
 * When the composed proxy wrote cookies with `cookies().set` (next/headers), Next replaces the
 * proxy response's `Set-Cookie` with those (server/web/adapter: `headers.set('set-cookie', …)`),
 * which dropped ours: they then go through `cookies().set` too. Only then: otherwise that same
 * replacement would drop the cookies the composed proxy set on its response. Never throws.
 */
async function keepThroughCookieStore(cookies: readonly CookieToSet[]): Promise<void> {
  try {
    const store = await (await loadNextHeaders()).cookies();
    const written = (store as unknown as Record<symbol, unknown>)[MUTATED_COOKIES];
    if (!Array.isArray(written) || written.length === 0) return;
    for (const cookie of cookies) store.set(cookieOptions(cookie));
  } catch {
    // Outside Next's request scope (a test, a script): no store to replace anything.
  }
}

/** Next's own files (`/_next/static`, `/_next/image`…): never a page, often publicly cached. */
function isNextAsset(request: NextRequest): boolean {
  const path = request.nextUrl?.pathname ?? new URL(request.url).pathname;
  return path.startsWith('/_next/');
}

/** Warnings already given in this process: each is said once. */
const warned = new Set<string>();
function warnOnce(message: string): void {
  if (warned.has(message)) return;
  warned.add(message);
  try {
    console.warn(`capi-kit/next: ${message}`);
  } catch {
    // Logging must not break the request.
  }
}

const ASSET_WARNING =
  "capiProxy ran on a /_next/ asset and set no cookie there; exclude it from the proxy's matcher: export const config = { matcher: ['/((?!_next/|favicon.ico).*)'] }";
const UNCALLED_WARNING =
  'capiProxy was exported itself, so Next.js calls it with each request; call it to make the proxy: export const proxy = capiProxy() in proxy.ts (export default capiProxy() in middleware.ts). Until then each request is served as capiProxy() would serve it';

/** The proxy that serves requests when `capiProxy` itself was exported, uncalled. */
let uncalledProxy: ReturnType<typeof capiProxy> | undefined;

/** `path?query` of the page being requested, without Next's `_rsc` cache-busting parameter. */
function pagePath(request: Request): string {
  try {
    const url = new URL(request.url);
    url.searchParams.delete('_rsc');
    return `${url.pathname}${url.search}`;
  } catch {
    return '/';
  }
}

/**
 * A proxy (middleware) that sets the `_fbp` cookie when the browser has none and, from an ad
 * click's `?fbclid=`, `_fbc`, and renews both on page loads, so the Pixel and every later server
 * event share them (the rule every capi-kit adapter follows). The routes behind it see the
 * new cookies and their page URL (for `trackConversion` in Server Components). Composes with your
 * own proxy through `next`; never throws because of capi-kit.
 * @example export default capiProxy({ next: myProxy }); export const config = { matcher: ['/((?!_next/|favicon.ico).*)'] };
 */
export function capiProxy(
  options?: CapiProxyOptions,
): (request: NextRequest, event: NextFetchEvent) => Promise<Response>;
export function capiProxy(
  options: CapiProxyOptions = {},
  uncalledEvent?: NextFetchEvent,
): (request: NextRequest, event: NextFetchEvent) => Promise<Response> {
  // `export default capiProxy`, uncalled: Next calls it with each request, and a function back
  // made it throw 'Expected an instance of Response to be returned', a 500 for every page.
  if (options instanceof Request) {
    warnOnce(UNCALLED_WARNING);
    uncalledProxy ??= capiProxy();
    return uncalledProxy(
      options as unknown as NextRequest,
      uncalledEvent as NextFetchEvent,
    ) as never;
  }
  const { next, ...contextOptions } = options;
  // At creation, as every adapter does: per request, a `trustProxy` it cannot read, a `consent`
  // that is not a function or a `cookies: 'false'` failed closed or open without a word.
  checkContextOptions(contextOptions);
  return async (request, event) => {
    let cookies: readonly CookieToSet[] = [];
    try {
      // Most requests through a proxy are assets, RSC fetches and API calls of a returning
      // visitor: no cookie can change, so skip the context (IP, URLs, consent) altogether.
      const input = requestInput(request);
      // The cookies are the core's decision, the same in every adapter: a missing _fbp is minted
      // and a new fbclid becomes _fbc on any request (curl and fetch included); cookies the
      // browser already has are renewed on page navigations only (docs/architecture.md, Cookies).
      // Never on a build asset: it is cached for a year, by shared caches too, and a Set-Cookie
      // there could hand one visitor's _fbp to everyone; the matcher should not reach it at all.
      // Nor on a prefetch (a `<Link>` on screen, a page the browser predicts), no visit yet: a new
      // _fbp reached the visitor before landing, or one who never landed, and their own was renewed
      // for a page never opened. The click passes here again; a prerender's page, opened without
      // another request, gets its cookies from the Pixel.
      if (isNextAsset(request)) warnOnce(ASSET_WARNING);
      else if (!isPrefetchRequest(request.headers) && mayWriteCookies(input, contextOptions)) {
        cookies = getRequestContext(input, contextOptions).cookiesToSet;
      }
    } catch {
      // No cookies rather than a broken page.
    }
    const extra = new Headers({ [URL_HEADER]: pagePath(request) });
    if (cookies.length > 0)
      extra.set('cookie', cookieHeaderWith(request.headers.get('cookie'), cookies));

    let response = next === undefined ? undefined : await next(request, event);
    if (response === undefined || response === null) {
      const headers = new Headers(request.headers);
      extra.forEach((value, name) => {
        headers.set(name, value);
      });
      response = NextResponse.next({ request: { headers } });
    } else {
      try {
        forwardRequestHeaders(response, request.headers, extra, cookies);
      } catch {
        // Immutable headers: a finished response (e.g. `Response.redirect`) renders nothing behind it.
      }
    }
    if (cookies.length === 0) return response;
    if (next !== undefined) await keepThroughCookieStore(cookies);
    return withSetCookies(response, cookies);
  };
}
