import { flatString } from './flat-string.js';

// `event_source_url` is the browser URL where the event happened and "should match the verified
// domain", so it must be an absolute http(s) URL.
// https://developers.facebook.com/documentation/ads-commerce/conversions-api/parameters/server-event [SE]

// URL.canParse avoids allocating a URL object; older runtimes without it fall back to the constructor.
const canParse: (url: string) => boolean =
  typeof URL.canParse === 'function'
    ? (url) => URL.canParse(url)
    : (url) => {
        try {
          new URL(url);
          return true;
        } catch {
          return false;
        }
      };

function hasHttpScheme(value: string): boolean {
  const c = value.charCodeAt(4);
  const scheme = value.slice(0, c === 0x3a ? 7 : 8).toLowerCase();
  return scheme === 'http://' || scheme === 'https://';
}

// http(s) URLs known to pass: a site's pages repeat from event to event, and the request context
// notes the page URLs it built (from a parsed URL), so the page a tracked event happened on is not
// parsed a second time by the build. Bounded: cleared when full, long URLs never kept. Nor are
// URLs with a query string or userinfo, which can carry a visitor's data (`?email=…`): nothing
// personal stays in memory past its event (as for hashes, user-data/normalize-user-data.ts).
// A map to the first copy of each URL, which the context then uses: V8 turns a string looked up in
// a Map or Set into a forwarding view of the stored copy, and `JSON.stringify` leaves its fast path
// for a whole event that holds such a view (the stored copy itself keeps it fast).
const knownHttpUrls = new Map<string, string>();
const MAX_KNOWN_URLS = 512;
const MAX_KNOWN_URL_LENGTH = 2048;

/**
 * Whether `value` may be among the known URLs. Checked before any lookup: a lookup also turns the
 * string into a view of an equal stored one when V8 has one, which `JSON.stringify` refuses too.
 */
function mayBeKnown(value: string): boolean {
  return value.length <= MAX_KNOWN_URL_LENGTH && !value.includes('?') && !value.includes('@');
}

/**
 * Notes `href` (an http(s) `URL.href`, or a value {@link isHttpUrl} accepted) as valid; returns it
 * as one flat string (the copy noted first when it was noted before; see flatString).
 */
export function noteHttpUrl(href: string): string {
  if (mayBeKnown(href)) {
    const known = knownHttpUrls.get(href);
    if (known !== undefined) return known;
    if (knownHttpUrls.size >= MAX_KNOWN_URLS) knownHttpUrls.clear();
    // A copy: `href` may be a view into a longer string (a caller's URL with its query sliced
    // off), which kept would keep that whole string, query and all, alive.
    const copy = flatString(href);
    knownHttpUrls.set(copy, copy);
    return copy;
  }
  // Not kept: copied flat instead, since Node may build a URL's `href` by concatenation.
  return flatString(href);
}

/** True for an absolute `http:` or `https:` URL with a host. */
export function isHttpUrl(value: string): boolean {
  if (mayBeKnown(value) && knownHttpUrls.has(value)) return true;
  if (!hasHttpScheme(value) || !canParse(value)) return false;
  noteHttpUrl(value);
  return true;
}

/** True for any absolute URL (referrers may be `android-app://…`). */
export function isAbsoluteUrl(value: string): boolean {
  return (mayBeKnown(value) && knownHttpUrls.has(value)) || canParse(value);
}

/**
 * `value` without the user name and password of its authority (`https://user:pass@shop.example/`
 * becomes `https://shop.example/`), or `value` itself when it carries none. `event_source_url` is
 * the browser URL where the event happened and `referrer_url` the HTTP referrer
 * (https://developers.facebook.com/documentation/ads-commerce/conversions-api/parameters/server-event):
 * neither is where credentials belong, and browsers strip them from every referrer they send
 * (https://w3c.github.io/webappsec-referrer-policy/#strip-url). A URL with no `@` has no userinfo,
 * and that is every known URL ({@link mayBeKnown} refuses `@`): only those with one are parsed.
 * Call it on a value {@link isHttpUrl} or {@link isAbsoluteUrl} accepted.
 * @example withoutCredentials('https://user:pass@shop.example/p') // 'https://shop.example/p'
 */
export function withoutCredentials(value: string): string {
  if (!value.includes('@')) return value;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return value;
  }
  if (url.username === '' && url.password === '') return value;
  url.username = '';
  url.password = '';
  // Flat, as noteHttpUrl's copies are: Node may build `href` by concatenation.
  return flatString(url.href);
}
