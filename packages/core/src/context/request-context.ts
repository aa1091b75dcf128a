import { noteHttpUrl } from '../event/urls.js';
import { type ForwardedHeaderName, type PlatformPreset, resolveClientIp } from './client-ip.js';
import {
  type ConsentState,
  type LduLocation,
  lduFields,
  type ParsedRequest,
  resolveConsent,
} from './consent.js';
import { cookieValue, cookieValues, parseCookieHeader } from './cookie-header.js';
import {
  captureDestinationContext,
  type DestinationCaptures,
  type DestinationContextSource,
  destinationsMayWriteCookies,
  hasContextNeeds,
} from './destination-context.js';
import {
  buildFbc,
  type CookieToSet,
  FBC_COOKIE,
  FBP_COOKIE,
  fbcClickId,
  isValidFbValue,
  mintFbp,
  validFbCookie,
  validFbclid,
} from './fb-cookies.js';
import { type IpAddress, parseAddress } from './ip-address.js';
import { isPageNavigation, isSameSite, parseReferer } from './page-url.js';
import type { PageUrl } from './plain-url.js';
import {
  effectiveUrl,
  type HeaderReader,
  isFromIncomingMessage,
  type NodeRequestLike,
  requestHeaderReader,
} from './request-input.js';
import { type CookieScope, cookieScope } from './site-domain.js';
import {
  compileTrustProxy,
  isPeerTrusted,
  type ProxyNotTrustedCause,
  type TrustPolicy,
  type TrustProxy,
} from './trust-proxy.js';

/** Options of {@link getRequestContext}; all optional, safe defaults (trust no proxy, cookies on). */
export interface RequestContextOptions {
  /**
   * The socket's peer address. A Web `Request` carries none, so adapters pass it here
   * (`server.requestIP(req)` on Bun, `info.remoteAddr` on Deno). Overrides `input.remoteAddress`.
   */
  remoteAddress?: string | undefined;
  /**
   * Which proxies may report the client address and the public host/scheme, like Express's
   * `trust proxy`: `false` (default) → the socket address; `true` → the left-most forwarded
   * address; `n` → n hops from the right; a list of IPs, CIDRs and presets (`'loopback'`,
   * `'private'`, `'linklocal'`) → the first address, right to left, outside the list (unknown if
   * none is). A malformed hop on the way makes the client IP unknown. See {@link TrustProxy}.
   * @example trustProxy: ['loopback', '10.0.0.0/8']
   */
  trustProxy?: TrustProxy | undefined;
  /**
   * The one proxy-chain header your trusted proxies write: `'x-forwarded-for'` (default, with
   * `X-Forwarded-Proto`/`-Host`) or RFC 7239 `'forwarded'` (its `for=`, `proto=` and `host=`).
   * Only that header is read: a client can send the other one unopposed.
   */
  forwardedHeader?: ForwardedHeaderName | undefined;
  /**
   * Read the client address from this platform's own header instead (`cf-connecting-ip`,
   * `fly-client-ip`, …), with no fallback. Only set it when the app is reachable solely through
   * that platform. It affects the client IP only: `X-Forwarded-Host`/`-Proto` still need `trustProxy`.
   */
  platform?: PlatformPreset | undefined;
  /**
   * Cookie domain to use instead of the request host's registrable domain (e.g. when a Public
   * Suffix List entry is missing). Ignored when the request host is not inside it, or when it is
   * a public suffix itself (`co.uk`, `vercel.app`), which browsers refuse as a cookie domain.
   */
  cookieDomain?: string | undefined;
  /** `false` writes no cookies at all (existing `_fbp`/`_fbc` are still read). Default `true`. */
  cookies?: boolean | undefined;
  /** `false` never mints a new `_fbp` when the browser has none. Default `true`. */
  generateFbp?: boolean | undefined;
  /** Clock in milliseconds, for tests. Default `Date.now`. */
  now?: (() => number) | undefined;
  /**
   * Decides consent per request; default: every request is `granted`. A callback that throws or
   * returns something else (a Promise: it must be synchronous) yields `denied`; adapters report it
   * through the client's `error` hook (`source: 'consent'`).
   * @example consent: (_req, { cookies }) => (cookies.consent === 'yes' ? 'granted' : 'denied')
   */
  consent?:
    | ((input: Request | NodeRequestLike, request: ParsedRequest) => ConsentState)
    | undefined;
  /** Treat `Sec-GPC: 1` (Global Privacy Control) as `ldu`. Default `false`. */
  respectGpc?: boolean | undefined;
  /** LDU country/state for `ldu` consent; default `{ country: 0, state: 0 }` (Meta geolocates). */
  ldu?: LduLocation | undefined;
  /**
   * Destinations beside Meta whose request needs (click IDs, cookies) are read into
   * `RequestContext.destinations`; the same list `createCapi` takes, so adapters pass it through.
   */
  destinations?: readonly DestinationContextSource[] | undefined;
}

/** The `user_data` fields a request can tell (none of them hashed, per [CIP]). */
export interface RequestUserData {
  client_ip_address?: string;
  client_user_agent?: string;
  fbp?: string;
  fbc?: string;
}

/** What one request tells about its event: match keys, page URLs, cookies to write, consent. */
export interface RequestContext {
  /** Client IP (only from trusted sources), user agent, `_fbp` and `_fbc`. */
  user_data: RequestUserData;
  /**
   * The page the event happened on: the URL for a navigation; for a fetch or form post, the
   * same-site `Referer` (the page it was made from), or the request URL when there is none.
   */
  event_source_url?: string;
  /** The page's own referrer: the `Referer` of a navigation; unknown (absent) for sub-requests. */
  referrer_url?: string;
  /** `_fbp`/`_fbc` cookies the response must set (`header` is the `Set-Cookie` value). */
  cookiesToSet: CookieToSet[];
  /** `denied` events are dropped by the delivery client; `ldu` adds the LDU fields below. */
  consent: ConsentState;
  /** Whether this request is a top-level page load (see `event_source_url`). */
  isNavigation: boolean;
  /** `['LDU']` when consent is `ldu`. */
  data_processing_options?: 'LDU'[];
  /** LDU country: 0 = geolocate, 1 = US. */
  data_processing_options_country?: 0 | 1;
  /** LDU state: 0 = geolocate, 1000 = California. */
  data_processing_options_state?: 0 | 1000;
  /** What each destination's `context` needs captured, by destination name (absent without any). */
  destinations?: DestinationCaptures;
}

// Null prototype like `parseCookieHeader`'s result, so a consent callback sees one kind of object.
const EMPTY_COOKIES: Readonly<Record<string, string | undefined>> = Object.freeze(
  Object.create(null) as Record<string, string | undefined>,
);

function safeNow(now: (() => number) | undefined): number {
  try {
    return Math.floor((now ?? Date.now)());
  } catch {
    return Number.NaN;
  }
}

/**
 * The last socket peer a request came from that a `trustProxy` list of ranges trusts, parsed:
 * behind a proxy or load balancer nearly every request comes from the same one, so its address is
 * parsed and checked once rather than per request. Only a peer inside the declared ranges is kept:
 * any other is, or may be, the visitor, and a visitor's address is never kept past its request.
 */
let trustedPeer: { raw: string; policy: TrustPolicy; address: IpAddress } | undefined;

function fbclidFrom(url: PageUrl | undefined): string | undefined {
  // Most URLs have no fbclid; skip building URLSearchParams for them.
  if (url === undefined || !url.search.includes('fbclid=')) return undefined;
  return validFbclid(url.searchParams.get('fbclid'));
}

/**
 * Computes the request context: client IP (trusted sources only), user agent, `_fbp`/`_fbc` (read,
 * refreshed from `fbclid`, minted), the page URL and referrer, the cookies to set, and consent.
 * Accepts a Web `Request` or a Node-style request; both give the same context for the same request.
 * Synchronous and side-effect free apart from reading the clock and the random source.
 * @example
 * const ctx = getRequestContext(request, { remoteAddress, trustProxy: 'loopback' });
 * for (const c of ctx.cookiesToSet) response.headers.append('Set-Cookie', c.header);
 */
export function getRequestContext(
  input: Request | NodeRequestLike,
  options: RequestContextOptions = {},
): RequestContext {
  return computeContext(input, options, undefined);
}

function computeContext(
  input: Request | NodeRequestLike,
  options: RequestContextOptions,
  onInternalBehindProxy: ((cause?: ProxyNotTrustedCause) => void) | undefined,
): RequestContext {
  const header = requestHeaderReader(input);
  const method = upperMethod(input.method);
  const node = input as NodeRequestLike;
  const remote = options.remoteAddress ?? node.remoteAddress;
  const policy = compileTrustProxy(options.trustProxy);
  let socket: IpAddress | undefined;
  let peerTrusted: boolean;
  const known = trustedPeer;
  if (
    remote !== undefined &&
    known !== undefined &&
    known.raw === remote &&
    known.policy === policy
  ) {
    socket = known.address;
    peerTrusted = true;
  } else {
    socket = remote === undefined ? undefined : parseAddress(remote);
    peerTrusted = isPeerTrusted(policy, socket);
    // Only under a list of ranges: there a trusted peer is inside the app's declared proxies. `true`
    // and a hop count trust any peer, the visitor's own socket too when no proxy is in front.
    if (peerTrusted && policy.kind === 'ranges' && remote !== undefined && socket !== undefined) {
      trustedPeer = { raw: remote, policy, address: socket };
    }
  }

  const forwardedHeader = options.forwardedHeader ?? 'x-forwarded-for';
  // A Node request without a peer address came over a Unix socket (nginx's `proxy_pass
  // http://unix:…`): no range list can match it, so the proxy's header is never read and every
  // event goes without an IP. Said once, like an internal address below.
  if (
    onInternalBehindProxy !== undefined &&
    remote === undefined &&
    !peerTrusted &&
    (options.platform ?? undefined) === undefined &&
    isFromIncomingMessage(input) &&
    header(forwardedHeader) !== undefined
  ) {
    onInternalBehindProxy('unix-socket');
  }
  const clientIp = resolveClientIp(header, socket, {
    policy,
    // `null` (a config file's "not set") is no platform: read as one, it was a platform without
    // a header, and every visitor went without an IP.
    platform: options.platform ?? undefined,
    forwardedHeader,
    peerTrusted,
    onInternalBehindProxy,
  });
  const url = effectiveUrl(
    input.url,
    header,
    node.protocol,
    peerTrusted,
    forwardedHeader === 'forwarded',
  );
  const isNavigation = isPageNavigation(method, header);
  const referer = parseReferer(header('referer'));
  const withDestinations =
    options.destinations !== undefined && hasContextNeeds(options.destinations);
  // Whether the Referer is one of the site's own pages (a registrable-domain comparison) matters
  // for sub-requests, whose page it is, and to destinations; a navigation's Referer is its
  // referrer whatever its site.
  const ownPage =
    referer !== undefined &&
    url !== undefined &&
    (!isNavigation || withDestinations) &&
    isSameSite(referer, url)
      ? referer
      : undefined;

  const cookieHeader = header('cookie');
  const noCookies = cookieHeader === undefined || cookieHeader === '';
  // Every cookie is parsed only for a consent callback (it sees them all); the request itself
  // needs two, read in one pass without the others' strings.
  // `consent: null` (from JavaScript, a config file) is no callback, as `checkContextOptions`
  // reads it: called, it threw on every request and every event was dropped as `denied`.
  const consentCallback = options.consent ?? undefined;
  const consent = resolveConsent(
    input,
    consentCallback === undefined
      ? undefined
      : { header, cookies: noCookies ? EMPTY_COOKIES : parseCookieHeader(cookieHeader) },
    consentCallback,
    options.respectGpc === true,
    header,
  );
  // The first valid value of each: a malformed duplicate sent first (an older host-only cookie)
  // must not hide the valid one, or a new `_fbp` would be minted on every request and never win.
  const [validFbp, validFbc] = noCookies
    ? [undefined, undefined]
    : cookieValues(cookieHeader, FBP_COOKIE, FBC_COOKIE, isValidFbValue);

  const user_data: RequestUserData = {};
  if (clientIp !== undefined) user_data.client_ip_address = clientIp;
  const userAgent = header('user-agent');
  if (userAgent !== undefined && userAgent !== '') user_data.client_user_agent = userAgent;

  // Cookies are written only when allowed and when we know which domain they belong to. The
  // scope (a Public Suffix List lookup) is worked out only when a cookie is written or minted: a
  // returning visitor's sub-request needs neither.
  // A CORS preflight (`OPTIONS`) is the browser asking leave for a request, never a visit: it
  // carries no cookie, and a `_fbp` minted for it would be a browser ID for nobody.
  // https://fetch.spec.whatwg.org/#cors-preflight-fetch
  // A WebSocket handshake is answered by a library's own 101, not by the response the adapter
  // puts its Set-Cookie on: a `_fbp` minted for it reached no browser.
  const mayStore = !isWebSocketHandshake(header) && mayStoreCookies(options, consent, url, method);
  let scope: CookieScope | undefined;
  const scoped = (): CookieScope | undefined => {
    if (mayStore && scope === undefined) {
      // `null` (a config file's "not set") is the default scope: read as a domain, it threw, and
      // every page view's context was lost.
      scope = cookieScope((url as PageUrl).hostname, options.cookieDomain ?? undefined);
    }
    return scope;
  };
  const secure = url?.protocol === 'https:';
  const cookiesToSet: CookieToSet[] = [];
  const write = (name: CookieToSet['name'], value: string): void => {
    const where = scoped();
    if (where === undefined) return;
    // Every value written here passed isValidFbValue or was built from validated parts.
    cookiesToSet.push(validFbCookie(name, value, where, secure));
  };
  let ms: number | undefined;
  const clock = (): number => {
    ms ??= safeNow(options.now);
    return ms;
  };

  // _fbp: kept as sent when valid; re-set on navigations because a cookie from an HTTP response
  // outlives the 7-day cap browsers put on script-written cookies. Minted only when it will be
  // stored: an fbp that changes on every event would break matching and deduplication ([DD]).
  if (validFbp !== undefined) {
    user_data.fbp = validFbp;
    if (isNavigation) write(FBP_COOKIE, validFbp);
  } else if (mayStore && options.generateFbp !== false) {
    const minted = mintFbp((scoped() as CookieScope).subdomainIndex, clock());
    if (minted !== undefined) {
      user_data.fbp = minted;
      write(FBP_COOKIE, minted);
    }
  }

  // _fbc: [FBC] — build from fbclid when there is no cookie or its click ID differs; the landing
  // URL carries it on navigations, the page (same-site Referer) on sub-requests.
  // https://developers.facebook.com/documentation/ads-commerce/conversions-api/parameters/fbp-and-fbc
  let fbclid = fbclidFrom(url);
  if (fbclid === undefined && !isNavigation) fbclid = fbclidFrom(ownPage);
  if (fbclid !== undefined && (validFbc === undefined || fbcClickId(validFbc) !== fbclid)) {
    // [FBC]: a server-generated fbc that is not saved as a cookie uses subdomain index 1.
    const built = buildFbc(scoped()?.subdomainIndex ?? 1, clock(), fbclid);
    if (built !== undefined) {
      user_data.fbc = built;
      write(FBC_COOKIE, built);
    } else if (validFbc !== undefined) {
      user_data.fbc = validFbc;
    }
  } else if (validFbc !== undefined) {
    user_data.fbc = validFbc;
    if (isNavigation) write(FBC_COOKIE, validFbc);
  }

  const context: RequestContext = { user_data, cookiesToSet, consent, isNavigation };
  if (withDestinations) {
    const request = { url, ownPage, isNavigation, cookieHeader, scope: scoped, secure };
    const captured = captureDestinationContext(
      options.destinations as readonly DestinationContextSource[],
      request,
      cookiesToSet,
    );
    if (captured !== undefined) context.destinations = captured;
  }
  // For a sub-request the Referer is the page itself, and that page's own referrer never reaches
  // the server, so referrer_url stays unknown rather than repeating the page URL. Without a
  // same-site Referer (Referrer-Policy: no-referrer, privacy tools) the request URL stands in: it
  // is on the site's own domain, and Meta rejects website events that have no event_source_url
  // at all ([BP]), which would lose the conversion.
  // Each is an http(s) URL the parser made: noted, so building the event does not parse it again.
  if (isNavigation) {
    if (url !== undefined) context.event_source_url = noteHttpUrl(url.href);
    if (referer !== undefined) context.referrer_url = noteHttpUrl(referer.href);
  } else {
    const page = ownPage ?? url;
    if (page !== undefined) context.event_source_url = noteHttpUrl(page.href);
  }
  if (consent === 'ldu') Object.assign(context, lduFields(options.ldu));
  return context;
}

/**
 * Whether the request opens a WebSocket (`Upgrade: websocket`, compared case-insensitively as RFC
 * 6455 §4.1 says). Its answer is the `101` a WebSocket library (`ws`, `@fastify/websocket`) writes
 * itself, never the framework's response that carries the adapter's `Set-Cookie`: a `_fbp` minted
 * for it reached no browser, and its events carried a browser ID nobody has, a new one for each
 * connection. https://www.rfc-editor.org/rfc/rfc6455#section-4.1
 */
function isWebSocketHandshake(header: HeaderReader): boolean {
  return header('upgrade')?.toLowerCase().includes('websocket') === true;
}

/** Whether a request's response may set cookies: allowed, consented, a known URL, not a preflight. */
function mayStoreCookies(
  options: RequestContextOptions,
  consent: ConsentState,
  url: PageUrl | undefined,
  method: string,
): url is PageUrl {
  return (
    options.cookies !== false && consent !== 'denied' && url !== undefined && method !== 'OPTIONS'
  );
}

/**
 * Where the response to a `POST` for `url` (a relay request) keeps a click ID one of the site's
 * pages carried, by {@link getRequestContext}'s rule: the registrable domain of `url`, unless the
 * request may store no cookie (`cookies: false`, consent `denied`, no known URL): `undefined`.
 */
export function pageClickScope(
  url: PageUrl | undefined,
  options: RequestContextOptions,
  consent: ConsentState,
): { scope: CookieScope; secure: boolean } | undefined {
  if (!mayStoreCookies(options, consent, url, 'POST')) return undefined;
  const scope = cookieScope(url.hostname, options.cookieDomain ?? undefined);
  return { scope, secure: url.protocol === 'https:' };
}

/**
 * The fbc for a click ID a request did not carry itself but a page of its site did (the relay's
 * events each carry their page URL), first seen at `ms`, and the `_fbc` cookie that keeps it for
 * the visitor's next requests: written as {@link getRequestContext} writes one for a URL's
 * fbclid (90 days, in {@link pageClickScope}), or, when the request may store no cookie, fbc with
 * subdomain index 1 instead [FBC]. `undefined` when `ms` is no timestamp.
 * https://developers.facebook.com/documentation/ads-commerce/conversions-api/parameters/fbp-and-fbc
 */
export function fbcOfPageClick(
  fbclid: string,
  ms: number,
  url: PageUrl | undefined,
  options: RequestContextOptions,
  consent: ConsentState,
): { fbc: string; cookie?: CookieToSet } | undefined {
  const where = pageClickScope(url, options, consent);
  const fbc = buildFbc(where?.scope.subdomainIndex ?? 1, ms, fbclid);
  if (fbc === undefined) return undefined;
  return where === undefined
    ? { fbc }
    : { fbc, cookie: validFbCookie(FBC_COOKIE, fbc, where.scope, where.secure) };
}

/**
 * The request's method in uppercase, `GET` when absent; `GET` as Node and every framework spell it
 * skips the case conversion. One helper, so that {@link getRequestContext} and
 * {@link mayWriteCookies} read the method alike.
 */
function upperMethod(method: string | null | undefined): string {
  return method === undefined || method === null || method === 'GET' ? 'GET' : method.toUpperCase();
}

/**
 * False only when {@link getRequestContext} would certainly set no cookie for this request: a CORS
 * preflight (`OPTIONS`), or not a page navigation, a valid `_fbp` already stored (nothing to mint), and no `fbclid` in the URL or
 * the `Referer` (no `_fbc` to build). Adapters then defer the whole context until the request
 * tracks something, so requests that never track (API calls, assets) cost almost nothing. Kept in
 * step with `getRequestContext`'s cookie rules; a test checks the two over every combination.
 */
export function mayWriteCookies(
  input: Request | NodeRequestLike,
  options: RequestContextOptions = {},
): boolean {
  if (options.cookies === false) return false;
  const method = upperMethod(input.method);
  if (method === 'OPTIONS') return false; // a CORS preflight: see `mayStore` in computeContext
  const header = requestHeaderReader(input);
  if (isWebSocketHandshake(header)) return false; // see `mayStore` in computeContext
  if (isPageNavigation(method, header)) return true;
  if (options.generateFbp !== false) {
    const cookieHeader = header('cookie');
    if (cookieHeader === undefined || cookieHeader === '') return true;
    if (cookieValue(cookieHeader, FBP_COOKIE, isValidFbValue) === undefined) return true;
  }
  // The raw target and Referer carry the query string as `getRequestContext` sees it (a parsed
  // URL never turns anything else into `fbclid=`), so a plain substring test is enough.
  if (input.url?.includes('fbclid=') === true || header('referer')?.includes('fbclid=') === true)
    return true;
  const { destinations } = options;
  return destinations !== undefined && destinationsMayWriteCookies(destinations, input.url, header);
}

/**
 * `options` with a client's destinations when they name none: a shared client's other platforms
 * need the request's context too (their click IDs and cookies), and an adapter or relay given
 * that client reads it with options that do not list them.
 */
export function withClientDestinations(
  options: RequestContextOptions,
  destinations: readonly DestinationContextSource[] | undefined,
): RequestContextOptions {
  return options.destinations === undefined && destinations !== undefined && destinations.length > 0
    ? { ...options, destinations }
    : options;
}

/**
 * {@link getRequestContext} that never throws: on failure `onError` gets the error and an empty
 * context is returned (no cookies; consent `denied` when the app decides consent, since it is
 * then unknown). What adapters and the relay use on the request path. `onInternalBehindProxy`,
 * when set, is called when the client IP found is internal (loopback, private, link-local) and the
 * request came through a proxy: `trustProxy` does not reach past that proxy (with `'unix-socket'`
 * when the proxy is on a Unix socket, which no list of ranges can match).
 */
export function getRequestContextOrEmpty(
  input: Request | NodeRequestLike,
  options: RequestContextOptions,
  onError: (error: unknown) => void,
  onInternalBehindProxy?: (cause?: ProxyNotTrustedCause) => void,
): RequestContext {
  try {
    return computeContext(input, options, onInternalBehindProxy);
  } catch (error) {
    onError(error);
    const decidesConsent =
      (options.consent !== undefined && options.consent !== null) || options.respectGpc === true;
    return {
      user_data: {},
      cookiesToSet: [],
      consent: decidesConsent ? 'denied' : 'granted',
      isNavigation: false,
    };
  }
}
