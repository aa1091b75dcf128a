import { flatString } from './flat-string.js';
import type { Issue } from './issues.js';

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

/**
 * An email address, whole (surrounding spaces aside): `local@domain.tld` and nothing else, so a
 * handle (`@jane`) or a sentence with an `@` in it is not one.
 */
const EMAIL_SHAPE = /^[^\s@]+@[^\s@.]+(?:\.[^\s@.]+)+$/;

/** True when `value` is an email address and nothing else. */
export function looksLikeEmail(value: string): boolean {
  return value.includes('@') && EMAIL_SHAPE.test(value.trim());
}

/** A query string's name or value as the page reads it (`+` a space); as written if malformed. */
function decodeQueryPart(part: string): string {
  try {
    return decodeURIComponent(part.replace(/\+/g, ' '));
  } catch {
    return part;
  }
}

/**
 * `value` without the query parameters that hold an email address, with the names of those
 * removed; `undefined` when it has none. The query is edited as written, so the parameters kept
 * stay byte for byte what the page had; only a query with an `@` (or `%40`) is split.
 */
function emailQuery(value: string): { url: string; removed: string[] } | undefined {
  // One search for the usual page URL, which has no query or a query with no `@` (utm_…); the
  // query is searched in place, without a copy.
  const start = value.indexOf('?');
  if (start < 0) return undefined;
  const at = value.indexOf('@', start);
  const escaped = value.indexOf('%40', start);
  if (at < 0 && escaped < 0) return undefined;
  const hash = value.indexOf('#');
  const end = hash < 0 ? value.length : hash;
  // A `?` or an address in the fragment is no query's.
  if (start > end || ((at < 0 || at > end) && (escaped < 0 || escaped > end))) return undefined;
  const query = value.slice(start + 1, end);
  const kept: string[] = [];
  const removed: string[] = [];
  for (const pair of query.split('&')) {
    const eq = pair.indexOf('=');
    const name = decodeQueryPart(eq < 0 ? pair : pair.slice(0, eq));
    if (looksLikeEmail(eq < 0 ? name : decodeQueryPart(pair.slice(eq + 1)))) removed.push(name);
    else kept.push(pair);
  }
  if (removed.length === 0) return undefined;
  const rest = kept.join('&');
  const url = value.slice(0, rest === '' ? start : start + 1) + rest + value.slice(end);
  return { url: flatString(url), removed };
}

/**
 * `url` (a valid absolute URL) without its query parameters that hold an email address, each
 * removal reported in `issues` as a `personal_data_in_url` warning at `path`, by the parameter's
 * name, never its value. A thank-you page's `?email=jane%40example.com` is a raw address Meta's
 * Events Manager reports as potentially violating personal data, keeping neither it nor, often,
 * the event; the address belongs in `user_data.em`, hashed. Used for every destination's page URL.
 * @example withoutEmailQuery('https://s.example/t?o=1&email=a%40b.example', 'event_source_url', issues) // 'https://s.example/t?o=1'
 */
export function withoutEmailQuery(url: string, path: string, issues: Issue[]): string {
  const cleaned = emailQuery(url);
  if (cleaned === undefined) return url;
  // Names only, and only those that cannot be customer information themselves.
  const names = cleaned.removed.map((name) =>
    /^[\w.[\]-]{1,40}$/.test(name) ? `'${name}'` : '(a name that looks like customer information)',
  );
  issues.push({
    path,
    code: 'personal_data_in_url',
    message: `Query parameter ${[...new Set(names)].join(', ')} held an email address, which Meta reports as potentially violating personal data (keeping neither it nor, often, the event); removed, the rest of the URL sent. Customer information goes in user_data.em, which capi-kit hashes.`,
    severity: 'warning',
  });
  return cleaned.url;
}
