/**
 * Which kind of request Next.js is serving: a visit, or one that is not (yet) one: a prefetch, the
 * router's own fetch of a clicked `<Link>`, or a render made ahead of time without a request; and
 * where the code runs instead of a request (`next build`, a web page). The helpers decide from
 * these what to track and which cookies to write. Edge-safe: no `node:` imports.
 */
import type { HeaderBag } from './next-runtime.js';

/**
 * Whether a request only prepares a visit that may never happen: the App Router's prefetch of a
 * `<Link>` (`Next-Router-Prefetch`, sent by every prefetch of Next 15 and 16, the route tree's
 * included; `<Link prefetch={true}>`'s full prefetch sends none once the tree is known) or a
 * browser's speculative load (`Sec-Purpose: prefetch`, `prefetch;prerender`; `Purpose: prefetch`
 * of older browsers, which Next also reads as a prefetch). `headers()` hides `Next-Router-Prefetch`;
 * a route handler's `Request` keeps it.
 * @see https://developer.mozilla.org/en-US/docs/Web/HTTP/Reference/Headers/Sec-Purpose
 */
export function isPrefetchRequest(headers: Pick<HeaderBag, 'get'>): boolean {
  const router = headers.get('next-router-prefetch');
  if (router !== null && router !== '') return true;
  const purpose = headers.get('sec-purpose') ?? headers.get('purpose');
  return purpose?.toLowerCase().includes('prefetch') === true;
}

/**
 * Whether Next's router throws this answer away and loads the URL again as a page, the load that is
 * the visit: the answer to its own fetch of a route (`RSC: 1`, a `<Link>` clicked, `router.push`)
 * that is neither Flight nor a redirect its fetch can follow (same host; another site's fails the
 * fetch, and the router loads the route itself). next/dist/client/components/router-reducer/
 * fetch-server-response.js, `doMpaNavigation`.
 */
export function routerReloads(request: Request, response: Response): boolean {
  if (request.headers.get('rsc') !== '1') return false;
  if (response.headers.get('content-type')?.startsWith('text/x-component') === true) return false;
  if (response.status < 300 || response.status > 399) return true;
  const location = response.headers.get('location');
  const host = request.headers.get('host');
  if (location === null || host === null) return true;
  try {
    return new URL(location, `http://${host}`).host !== new URL(`http://${host}`).host;
  } catch {
    return true;
  }
}

/**
 * Whether a render seen through `headers()` is the router's fetch of a page for a client-side
 * navigation, the page view of that URL. Next hides the `RSC` header from `headers()`, and its
 * router's fetch accepts any type in Next 16 (`text/x-component` is what Server Actions send): it is a
 * same-origin fetch, so it carries no `Origin` (browsers send one with every POST, a route
 * handler's included), and Server Components render for nothing else but page loads.
 */
export function isClientNavigation(headers: Pick<HeaderBag, 'get' | 'has'>): boolean {
  if (headers.has('next-action')) return false;
  return (
    headers.get('accept')?.includes('text/x-component') === true ||
    (headers.get('sec-fetch-dest') === 'empty' && !headers.has('origin'))
  );
}

/**
 * Whether a Server Component renders without a request, ahead of time (`dynamic = 'force-static'`):
 * Next's server gives every request a `Host` (and `X-Forwarded-Host`), such a render gets empty
 * headers.
 */
export function isStaticRender(headers: Pick<HeaderBag, 'has'>): boolean {
  return !headers.has('host') && !headers.has('x-forwarded-host');
}

/**
 * A route handler's request in a response Next renders ahead of time (`dynamic = 'force-static'`):
 * Next hands it a `NextRequest` behind a Proxy with empty headers (no `Host`, which every request
 * its server receives has) and a `method` that throws when read (Illegal invocation).
 */
export function isStaticRequest(request: Request): boolean {
  try {
    return isStaticRender(request.headers) && 'nextUrl' in request;
  } catch {
    return false;
  }
}

/** Whether `next build` is running this code (it sets `NEXT_PHASE` in its workers). */
export const duringBuild = (): boolean =>
  (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env
    ?.NEXT_PHASE === 'phase-production-build';

/**
 * Whether this runs in a web page. `lib/capi.ts` imported into a `'use client'` file builds without
 * a word (Next bundles this package for the browser too), and there the client could only be made
 * with the access token shipped to every visitor. jsdom (a test of server code) is not a page.
 */
export const inBrowser = (): boolean => {
  const global = globalThis as {
    window?: unknown;
    document?: unknown;
    navigator?: { userAgent?: unknown };
  };
  return (
    typeof global.window === 'object' &&
    global.window !== null &&
    typeof global.document === 'object' &&
    !String(global.navigator?.userAgent).includes('jsdom')
  );
};

/** Why nothing is tracked in a page: said instead of createCapi's "needs a pixelId and an accessToken". */
export const IN_BROWSER =
  "createNextCapi() runs on the server only, and was used in the browser (a 'use client' file, or a module it imports, imports your lib/capi.ts). Track from a Server Action the component calls (withConversion), and fire the browser copy with <MetaPixel/> from @capi-kit/next/client";
