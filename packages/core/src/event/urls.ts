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
const knownHttpUrls = new Set<string>();
const MAX_KNOWN_URLS = 512;
const MAX_KNOWN_URL_LENGTH = 2048;

/** Notes `href` (an http(s) `URL.href`, or a value {@link isHttpUrl} accepted) as valid; returns it. */
export function noteHttpUrl(href: string): string {
  if (href.length <= MAX_KNOWN_URL_LENGTH && !href.includes('?') && !href.includes('@')) {
    if (knownHttpUrls.size >= MAX_KNOWN_URLS) knownHttpUrls.clear();
    knownHttpUrls.add(href);
  }
  return href;
}

/** True for an absolute `http:` or `https:` URL with a host. */
export function isHttpUrl(value: string): boolean {
  if (knownHttpUrls.has(value)) return true;
  if (!hasHttpScheme(value) || !canParse(value)) return false;
  noteHttpUrl(value);
  return true;
}

/** True for any absolute URL (referrers may be `android-app://…`). */
export function isAbsoluteUrl(value: string): boolean {
  return knownHttpUrls.has(value) || canParse(value);
}
