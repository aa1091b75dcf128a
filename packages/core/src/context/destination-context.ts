import { cookieValue } from './cookie-header.js';
import type { CookieToSet } from './fb-cookies.js';
import type { PageUrl } from './plain-url.js';
import type { HeaderReader } from './request-input.js';
import type { CookieScope } from './site-domain.js';

// What a destination other than Meta reads from a request (docs/destinations.md): query
// parameters of the page URL, cookies, and click IDs it keeps in a first-party cookie of its own
// (TikTok's `ttclid`), written by the same navigation rule as `_fbc`. Kept out of
// request-context.ts, which calls in here only when a destination declares needs, so a request
// to a Meta-only app pays nothing for it.

/** A landing-URL parameter kept in a first-party cookie, like `fbclid` in `_fbc`. */
export interface PersistedParam {
  /** The query parameter (`ttclid`). */
  param: string;
  /** The cookie that keeps it (`ttclid`). */
  cookie: string;
  /** Cookie lifetime in seconds (TikTok's `ttclid`: 90 days, like `_fbc`). */
  maxAgeSeconds: number;
}

/** What one destination needs from the request; read once per request by `getRequestContext`. */
export interface ContextNeeds {
  /** Query parameters of the page URL to capture, raw (captured under their own name). */
  queryParams?: readonly string[] | undefined;
  /** Cookies to read, raw (captured under their own name, e.g. `_ttp`). */
  cookies?: readonly string[] | undefined;
  /**
   * Click IDs to keep: captured under `param` from the page URL, else from `cookie`; the cookie is
   * set when the URL brings a new value, and re-set on page navigations (as `_fbc` is).
   */
  persist?: readonly PersistedParam[] | undefined;
}

/** The part of a destination `getRequestContext` reads: its name and its {@link ContextNeeds}. */
export interface DestinationContextSource {
  /** The destination's name, the key of its captures in `RequestContext.destinations`. */
  readonly name: string;
  /** What it needs; destinations without needs are skipped. */
  readonly context?: ContextNeeds | undefined;
}

/** What a request told each destination, by destination name. */
export type DestinationCaptures = Record<string, Readonly<Record<string, string>>>;

// RFC 6265 cookie-octet (no space, `"`, `,`, `;` or `\`), at most 500 characters: a value that
// can go into a `Set-Cookie` header and a JSON body unescaped, long enough for any click ID.
const SAFE_VALUE = /^[\x21\x23-\x2b\x2d-\x3a\x3c-\x5b\x5d-\x7e]{1,500}$/;
// A cookie name is an RFC 7230 token.
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** True when a captured value may be kept and echoed back in a cookie. */
export const isSafeCaptureValue = (value: string | null | undefined): value is string =>
  typeof value === 'string' && SAFE_VALUE.test(value);

/** What {@link captureDestinationContext} reads, all computed by `getRequestContext` already. */
export interface DestinationRequest {
  /** The request URL (for a navigation, the page). */
  url: PageUrl | undefined;
  /** The same-site `Referer` (the page of a sub-request). */
  ownPage: PageUrl | undefined;
  isNavigation: boolean;
  /** The `Cookie` header; each wanted cookie is read from it alone (`cookieValue`). */
  cookieHeader: string | undefined;
  /** The cookie scope when cookies may be written, else `undefined`. */
  scope: () => CookieScope | undefined;
  secure: boolean;
}

const paramOf = (url: PageUrl | undefined, name: string): string | undefined => {
  if (url === undefined || !url.search.includes(`${name}=`)) return undefined;
  const value = url.searchParams.get(name);
  return isSafeCaptureValue(value) ? value : undefined;
};

const cookieHeaderOf = (
  name: string,
  value: string,
  maxAge: number,
  scope: CookieScope,
  secure: boolean,
): CookieToSet | undefined => {
  if (!TOKEN.test(name) || !isSafeCaptureValue(value)) return undefined;
  const seconds = Math.max(0, Math.floor(maxAge));
  const { domain } = scope;
  const header = `${name}=${value}; Max-Age=${seconds}${domain ? `; Domain=${domain}` : ''}; Path=/${secure ? '; Secure' : ''}; SameSite=Lax`;
  return {
    name,
    value,
    maxAge: seconds,
    ...(domain === undefined ? {} : { domain }),
    path: '/',
    sameSite: 'lax',
    secure,
    httpOnly: false,
    header,
  };
};

/**
 * The cookie that keeps a click ID `value` of `kept` in `scope`, as {@link captureDestinationContext}
 * writes it; `undefined` for a value that may not go into a cookie.
 */
export function persistedCookie(
  kept: PersistedParam,
  value: string,
  scope: CookieScope,
  secure: boolean,
): CookieToSet | undefined {
  return cookieHeaderOf(kept.cookie, value, kept.maxAgeSeconds, scope, secure);
}

/** True when some destination declares {@link ContextNeeds}: otherwise a request reads nothing for them. */
export function hasContextNeeds(destinations: readonly DestinationContextSource[]): boolean {
  for (const destination of destinations) if (destination.context !== undefined) return true;
  return false;
}

/**
 * Reads every destination's {@link ContextNeeds} from one request: returns the captures by
 * destination name and pushes the cookies to set onto `cookiesToSet`. The page a parameter is read
 * from follows `_fbc`'s rule: the URL of a navigation; for a sub-request the URL, else its
 * same-site `Referer`.
 */
export function captureDestinationContext(
  destinations: readonly DestinationContextSource[],
  request: DestinationRequest,
  cookiesToSet: CookieToSet[],
): DestinationCaptures | undefined {
  let out: DestinationCaptures | undefined;
  const { cookieHeader } = request;
  // The first usable value of each, as for `_fbp`/`_fbc`: an empty or malformed duplicate sent
  // first (an older host-only cookie, one a script blanked) must not hide the valid one.
  const cookie = (name: string): string | undefined =>
    cookieHeader === undefined || cookieHeader === ''
      ? undefined
      : cookieValue(cookieHeader, name, isSafeCaptureValue);
  for (const destination of destinations) {
    const needs = destination.context;
    if (needs === undefined) continue;
    const captured: Record<string, string> = {};
    for (const name of needs.queryParams ?? []) {
      let value = paramOf(request.url, name);
      if (value === undefined && !request.isNavigation) value = paramOf(request.ownPage, name);
      if (value !== undefined) captured[name] = value;
    }
    for (const name of needs.cookies ?? []) {
      const value = cookie(name);
      if (isSafeCaptureValue(value)) captured[name] = value;
    }
    for (const kept of needs.persist ?? []) {
      const stored = cookie(kept.cookie);
      const existing = isSafeCaptureValue(stored) ? stored : undefined;
      let fresh = paramOf(request.url, kept.param);
      if (fresh === undefined && !request.isNavigation)
        fresh = paramOf(request.ownPage, kept.param);
      const value = fresh ?? existing;
      if (value === undefined) continue;
      captured[kept.param] = value;
      // Written when the click is new, and on navigations so the cookie outlives script caps.
      if ((fresh !== undefined && fresh !== existing) || request.isNavigation) {
        const scope = request.scope();
        const toSet =
          scope === undefined ? undefined : persistedCookie(kept, value, scope, request.secure);
        if (toSet !== undefined) cookiesToSet.push(toSet);
      }
    }
    out ??= {};
    out[destination.name] = captured;
  }
  return out;
}

/**
 * True when some destination may set a cookie for a request that is not a navigation: one of its
 * persisted parameters is in the request URL or the `Referer` (raw substring test, as for
 * `fbclid`). Navigations are answered by `mayWriteCookies` before this is asked.
 */
export function destinationsMayWriteCookies(
  destinations: readonly DestinationContextSource[],
  url: string | undefined,
  header: HeaderReader,
): boolean {
  let referer: string | undefined | null = null;
  for (const destination of destinations) {
    for (const kept of destination.context?.persist ?? []) {
      const needle = `${kept.param}=`;
      if (url?.includes(needle) === true) return true;
      if (referer === null) referer = header('referer');
      if (referer?.includes(needle) === true) return true;
    }
  }
  return false;
}
