/**
 * `_fbp` / `_fbc`: validation, the fbclid rule, minting, and the `Set-Cookie` headers.
 * @see https://developers.facebook.com/documentation/ads-commerce/conversions-api/parameters/fbp-and-fbc [FBC]
 */
import type { CookieScope } from './site-domain.js';

/** Name of the browser-ID cookie the Meta Pixel reads and writes. */
export const FBP_COOKIE = '_fbp';
/** Name of the click-ID cookie the Meta Pixel reads and writes. */
export const FBC_COOKIE = '_fbc';
/** 90 days in seconds: the lifetime [FBC] asks for when the server sets `_fbc`/`_fbp`. */
export const FB_COOKIE_MAX_AGE = 7_776_000;

/** One cookie the response should set, structured and as a ready `Set-Cookie` header value. */
export interface CookieToSet {
  /** `_fbp`, `_fbc`, or a destination's own cookie (TikTok's `ttclid`, see `ContextNeeds.persist`). */
  name: typeof FBP_COOKIE | typeof FBC_COOKIE | (string & {});
  value: string;
  /** Seconds: {@link FB_COOKIE_MAX_AGE} for `_fbp`/`_fbc`, the destination's own for its cookies. */
  maxAge: number;
  /** Registrable domain; absent for host-only cookies (IP hosts, `localhost`). */
  domain?: string;
  path: '/';
  sameSite: 'lax';
  /** Set when the page is served over https. */
  secure: boolean;
  /** Always `false`: the Pixel script must be able to read these cookies. */
  httpOnly: false;
  /** The full `Set-Cookie` header value, e.g. `_fbp=fb.1.1700000000000.123; Max-Age=7776000; Domain=example.com; Path=/; SameSite=Lax`. */
  header: string;
}

/**
 * `fb.<subdomainIndex>.<creationTime>.<payload>` with an optional Parameter Builder appendix (2-char
 * v1 or 8-char v2 token). Only URL-safe characters are accepted in the payload, which keeps every
 * value we echo back free of `;`, `,`, spaces and control characters.
 * @see https://github.com/facebook/capi-param-builder (validation in nodejs/.../ParamBuilder.js)
 */
const FB_VALUE_PATTERN =
  /^fb\.[0-9]{1,3}\.[0-9]{1,16}\.([A-Za-z0-9_-]{1,500})(?:\.[A-Za-z0-9_-]{2,8})?$/;

/**
 * {@link FB_VALUE_PATTERN} without the payload's bound, for values too short to break it. irregexp
 * runs a bounded repetition as a counted loop that records a backtrack point per character, an
 * unbounded one of a single class as a plain scan: 2.9k instructions for a page view's `_fbp` and
 * `_fbc` against 4.0k (callgrind, Node 26), on every request that reads them.
 */
const FB_VALUE_UNBOUNDED = /^fb\.[0-9]{1,3}\.[0-9]{1,16}\.[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]{2,8})?$/;

/**
 * The longest value whose payload cannot pass 500 characters: `fb.` and the two digit fields with
 * their dots take at least 7 of them, so a payload is at most `length - 7`.
 */
const FB_VALUE_SHORT = 507;

/** {@link FB_VALUE_PATTERN}'s answer, from the cheaper pattern whenever that one gives the same. */
function matchesFbValue(value: string): boolean {
  return value.length <= FB_VALUE_SHORT
    ? FB_VALUE_UNBOUNDED.test(value)
    : FB_VALUE_PATTERN.test(value);
}

/**
 * fbclids are URL-safe base64-like tokens (`IwAR…`, `IwZXh0bgNhZW0…_aem_…`). The client Parameter
 * Builder ignores values over 500 characters; we do the same and accept only that alphabet, so a
 * dot (the cookie's segment separator) or anything header-unsafe can never enter a cookie.
 */
const FBCLID_PATTERN = /^[A-Za-z0-9_-]{1,500}$/;

/** True for a well-formed `_fbp`/`_fbc` value (kept byte-for-byte when valid). */
export function isValidFbValue(value: string | undefined): value is string {
  return value !== undefined && matchesFbValue(value);
}

/** The payload segment of a valid `_fbc` value: the fbclid it was built from (appendix excluded). */
export function fbcClickId(value: string): string | undefined {
  return FB_VALUE_PATTERN.exec(value)?.[1];
}

/** The fbclid if it is one we will use, else `undefined`. */
export function validFbclid(value: string | null | undefined): string | undefined {
  return value !== null && value !== undefined && FBCLID_PATTERN.test(value) ? value : undefined;
}

function isTimestamp(ms: number): boolean {
  return Number.isSafeInteger(ms) && ms >= 0;
}

/** `fb.{subdomainIndex}.{ms}.{fbclid}`: fbclid kept exactly, case included ([FBC]: it is case-sensitive). */
export function buildFbc(subdomainIndex: number, ms: number, fbclid: string): string | undefined {
  return isTimestamp(ms) ? `fb.${subdomainIndex}.${ms}.${fbclid}` : undefined;
}

// Random words for minted `_fbp`s, drawn from Web Crypto 256 at a time: one `getRandomValues`
// call costs about as much as the rest of a request's context (measured 10 µs on Node 26), and a
// first visit mints one per request. The pool is filled from the same source, only less often.
const randomPool = new Uint32Array(256);
let nextRandom = randomPool.length;

/** Drops the words left in the pool, so that the next mint draws new ones (tests pin them). */
export function discardRandomPool(): void {
  nextRandom = randomPool.length;
}

function randomWord(): number {
  if (nextRandom === randomPool.length) {
    crypto.getRandomValues(randomPool);
    nextRandom = 0;
  }
  return randomPool[nextRandom++] as number;
}

/** `fb.{subdomainIndex}.{ms}.{random 31-bit integer}`, the shape the Pixel and Parameter Builder use. */
export function mintFbp(subdomainIndex: number, ms: number): string | undefined {
  if (!isTimestamp(ms)) return undefined;
  return `fb.${subdomainIndex}.${ms}.${randomWord() & 0x7fffffff}`;
}

// The `Domain` attribute rule of the `cookie` package's serializer (RFC 6265 §4.1.1 domain-value),
// kept so a scope built by hand is refused exactly as before.
const DOMAIN_ATTRIBUTE_PATTERN =
  /^[.]?[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:[.][a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/i;

const MAX_AGE_ATTRIBUTE = `; Max-Age=${FB_COOKIE_MAX_AGE}`;

/**
 * The cookie to set for `name=value` in `scope`. The value is validated again here so nothing that
 * is not a well-formed fb value can reach a header, whatever the caller passed; `undefined` then.
 */
export function fbCookie(
  name: CookieToSet['name'],
  value: string,
  scope: CookieScope,
  secure: boolean,
): CookieToSet | undefined {
  if (!matchesFbValue(value)) return undefined;
  if (scope.domain && !DOMAIN_ATTRIBUTE_PATTERN.test(scope.domain)) return undefined;
  return validFbCookie(name, value, scope, secure);
}

/**
 * {@link fbCookie} for a value and scope already known to be valid: `getRequestContext` writes
 * only values that passed {@link isValidFbValue} or that it built from validated parts, in a scope
 * from `cookieScope` (whose domain passed a stricter pattern). Saves two regular expressions per
 * cookie on every page view.
 */
export function validFbCookie(
  name: CookieToSet['name'],
  value: string,
  scope: CookieScope,
  secure: boolean,
): CookieToSet {
  const { domain } = scope;
  // Written out rather than with `cookie.serialize`, which re-validates what is validated above and
  // took ~2.5 µs per cookie (most of it its Max-Age branch): two cookies on every page view were
  // the largest single cost of the request context. Same attributes, same order.
  const header = `${name}=${value}${MAX_AGE_ATTRIBUTE}${domain ? `; Domain=${domain}` : ''}; Path=/${secure ? '; Secure' : ''}; SameSite=Lax`;
  // Two literals rather than a spread of `{ domain }`, which allocated a second object per cookie.
  return domain === undefined
    ? {
        name,
        value,
        maxAge: FB_COOKIE_MAX_AGE,
        path: '/',
        sameSite: 'lax',
        secure,
        httpOnly: false,
        header,
      }
    : {
        name,
        value,
        maxAge: FB_COOKIE_MAX_AGE,
        domain,
        path: '/',
        sameSite: 'lax',
        secure,
        httpOnly: false,
        header,
      };
}
