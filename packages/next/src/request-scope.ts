/**
 * Turning what Next.js gives server code (a header bag, a cookie store, a Web `Request`) into the
 * core's request input, and writing the context's cookies back. Edge-safe: no `node:` imports.
 */
import type { CookieToSet, NodeRequestLike } from '@capi-kit/core';
import type { CookieStore, HeaderBag } from './next-runtime.js';
import { isClientNavigation } from './request-kind.js';

/**
 * Request header through which `capiProxy` tells pages and actions the URL being rendered (path and
 * query only): Server Components have no request URL of their own. The proxy overwrites it on
 * every request it handles, and only its path is used (the host still comes from `Host`), so a
 * client-sent value can at most rename its own page.
 */
export const URL_HEADER = 'x-capi-kit-url';

const FB_COOKIES = new Set(['_fbp', '_fbc']);

/**
 * The peer address as far as Next.js lets us know it. Next.js exposes no socket address; its server
 * writes it into `X-Forwarded-For` when the request has none (`??=` in `base-server`), and a proxy
 * in front appends the address it saw. The right-most entry is therefore the nearest hop's view,
 * which `trustProxy` then walks from, exactly as with a socket address.
 */
export function peerAddress(headers: Pick<HeaderBag, 'get'>): string | undefined {
  const chain = headers.get('x-forwarded-for');
  if (chain === null) return undefined;
  const last = chain.slice(chain.lastIndexOf(',') + 1).trim();
  return last === '' ? undefined : last;
}

/**
 * Whether `X-Forwarded-For` holds the peer's address alone, the one entry {@link peerAddress} takes
 * as the socket. `next start` writes it there for every request that comes without a proxy (a
 * `curl` on the developer's machine: `127.0.0.1`), so it says nothing of a proxy. Passed on, the
 * core read it as one: a loopback peer with a forwarding header, and warned at the first local
 * request to set `trustProxy` for a proxy that does not exist. Left out, the client IP comes out
 * the same under every `trustProxy` (the socket, or none under a list of ranges that holds it).
 */
function isPeerOnlyChain(chain: string | null): boolean {
  return chain !== null && !chain.includes(',');
}

/** The path and query of the `x-capi-kit-url` header, or `undefined` when absent or unusable. */
export function forwardedPath(value: string | null): string | undefined {
  if (value === null || !value.startsWith('/') || value.startsWith('//')) return undefined;
  try {
    const url = new URL(value, 'http://n');
    return `${url.pathname}${url.search}`;
  } catch {
    return undefined;
  }
}

/**
 * The name of one `name=value` pair of a `Cookie` header; `''` for a pair without `=`, which has
 * none (`slice(0, indexOf('='))` read `_fbpx` as `_fbp`).
 */
export function cookiePairName(part: string): string {
  const equals = part.indexOf('=');
  return equals === -1 ? '' : part.slice(0, equals).trim();
}

/**
 * Replaces `_fbp`/`_fbc` in a `Cookie` header with the cookie store's values: the store also holds
 * what the proxy set on this very request and what an action set earlier, the raw header does not.
 * A value the store read from this header leaves that name's pairs as sent: the store keeps the
 * last of a name, and the core takes the first valid of several (a malformed duplicate sent last
 * hid a valid one, and a new `_fbp` was minted over it). Other cookies keep their raw bytes (a
 * consent callback may parse them).
 */
function mergeCookieHeader(
  raw: string | null,
  store: readonly { name: string; value: string }[],
): string {
  const parts = (raw ?? '')
    .split(';')
    .map((part) => part.trim())
    .filter((part) => part !== '');
  const sent = (name: string, value: string): boolean =>
    parts.some((part) => {
      if (cookiePairName(part) !== name) return false;
      const given = part.slice(part.indexOf('=') + 1).trim();
      if (given === value) return true;
      try {
        return decodeURIComponent(given) === value;
      } catch {
        return false;
      }
    });
  const kept = new Set<string>();
  const added: string[] = [];
  for (const cookie of store) {
    if (!FB_COOKIES.has(cookie.name)) continue;
    if (sent(cookie.name, cookie.value)) kept.add(cookie.name);
    else added.push(`${cookie.name}=${cookie.value}`);
  }
  const merged = parts.filter((part) => {
    const name = cookiePairName(part);
    return !FB_COOKIES.has(name) || kept.has(name);
  });
  return [...merged, ...added].join('; ');
}

/** The raw value of cookie `name` in a header record built by {@link requestFromScope}. */
export function cookieValue(headers: NodeRequestLike['headers'], name: string): string | undefined {
  const header = headers instanceof Headers ? headers.get('cookie') : headers.cookie;
  if (typeof header !== 'string') return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq !== -1 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** How a request seen through `headers()` should be read. */
export interface ScopeRequest {
  /** The core's input. */
  request: NodeRequestLike;
  /** False when the page URL is unknown (no `capiProxy`): a navigation then has no page URL. */
  hasPageUrl: boolean;
}

/**
 * The core's request input for code that only has `headers()` and `cookies()` (Server Actions,
 * Server Components, route handlers outside `withCapi`). An action is a `POST` from a page (its
 * `Referer`); a Server Component render is a page view, including an RSC fetch for a client-side
 * navigation. `routeHandler`: the request is a route handler's, where a fetch is no navigation.
 */
export function requestFromScope(
  headers: HeaderBag,
  cookies: CookieStore | undefined,
  routeHandler = false,
): ScopeRequest {
  const record: Record<string, string> = {};
  headers.forEach((value, name) => {
    record[name] = value;
  });
  if (isPeerOnlyChain(headers.get('x-forwarded-for'))) delete record['x-forwarded-for'];
  const cookie = mergeCookieHeader(headers.get('cookie'), cookies?.getAll() ?? []);
  if (cookie === '') delete record.cookie;
  else record.cookie = cookie;
  const isAction = headers.has('next-action');
  // A client-side navigation fetches the page as RSC, and that render is the page view of the URL.
  // A route handler renders no page: a page's `fetch('/api/stock')` there is a request from the
  // page in its `Referer`, as in every adapter (it was sent as a page view of `/api/stock`).
  if (!routeHandler && isClientNavigation(headers)) record['sec-fetch-dest'] = 'document';
  const path = forwardedPath(headers.get(URL_HEADER));
  return {
    request: {
      method: isAction ? 'POST' : 'GET',
      url: path ?? '/',
      headers: record,
      remoteAddress: peerAddress(headers),
    },
    hasPageUrl: path !== undefined,
  };
}

/**
 * The core's input for a Web `Request` in Next.js. Only the path of `request.url` is used when there
 * is a `Host` header: Next.js builds that URL from its own configured hostname (`localhost` under
 * `next start`), while the page URL and the cookie domain must follow the host the browser used.
 */
export function requestInput(request: Request): NodeRequestLike {
  let target = request.url;
  // Without a Host header (a hand-made Request) the URL is all there is.
  if (request.headers.has('host')) {
    try {
      const url = new URL(request.url);
      target = `${url.pathname}${url.search}`;
    } catch {
      target = '/';
    }
  }
  let headers = request.headers;
  if (isPeerOnlyChain(headers.get('x-forwarded-for'))) {
    headers = new Headers(headers);
    headers.delete('x-forwarded-for');
  }
  return {
    method: request.method,
    url: target,
    headers,
    remoteAddress: peerAddress(request.headers),
  };
}

/** `cookies().set(...)`'s argument for one of the context's cookies. */
export const cookieOptions = (cookie: CookieToSet) => ({
  name: cookie.name,
  value: cookie.value,
  maxAge: cookie.maxAge,
  ...(cookie.domain === undefined ? {} : { domain: cookie.domain }),
  path: cookie.path,
  sameSite: cookie.sameSite,
  secure: cookie.secure,
  httpOnly: cookie.httpOnly,
});

/**
 * Writes the cookies through `cookies().set`, which Next.js allows in Server Actions and Route
 * Handlers and refuses (throws) while rendering Server Components. Returns whether they were written.
 */
export function writeCookies(
  store: CookieStore | undefined,
  cookies: readonly CookieToSet[],
): boolean {
  if (cookies.length === 0) return true;
  if (store === undefined) return false;
  try {
    for (const cookie of cookies) store.set(cookieOptions(cookie));
    return true;
  } catch {
    return false;
  }
}

/** Appends `Set-Cookie` headers, copying the response first when its headers are immutable. */
export function withSetCookies(response: Response, cookies: readonly CookieToSet[]): Response {
  if (cookies.length === 0) return response;
  try {
    for (const cookie of cookies) response.headers.append('set-cookie', cookie.header);
    return response;
  } catch {
    // `Response.redirect()` and fetched responses have immutable headers.
    const copy = new Response(response.body, response);
    for (const cookie of cookies) copy.headers.append('set-cookie', cookie.header);
    return copy;
  }
}

/**
 * The response Next answers a route handler's `redirect()` with: `Location` and the status the
 * digest carries (`NEXT_REDIRECT;replace;/thanks;307;`, the URL possibly holding `;`).
 */
export const redirectResponseOf = (error: unknown): Response | undefined => {
  const parts = String((error as { digest?: unknown }).digest).split(';');
  const status = Number(parts.at(-2));
  const location = parts.slice(2, -2).join(';');
  if (!Number.isInteger(status) || status < 300 || status > 399 || location === '')
    return undefined;
  return new Response(null, { status, headers: { location } });
};

/** Cancels the body of a copy nobody reads any more (one a reader still holds is left alone). */
export const releaseBody = (message: Request | Response | undefined): void => {
  const body = message?.body;
  if (body != null && !body.locked) body.cancel().catch(() => undefined);
};
