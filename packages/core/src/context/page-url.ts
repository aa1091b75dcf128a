import { type PageUrl, plainHttpUrl } from './plain-url.js';
import type { HeaderReader } from './request-input.js';
import { isValidHost } from './request-input.js';
import { siteOf } from './site-domain.js';

/**
 * True for a top-level page load: a GET whose `Sec-Fetch-Dest` is `document`, or, from browsers
 * without Fetch Metadata, a GET that accepts `text/html`. Everything else (fetch/XHR, form posts,
 * iframes, assets) was made from a page, which is then the `Referer`.
 * @see https://www.w3.org/TR/fetch-metadata/#sec-fetch-dest-header
 */
export function isPageNavigation(method: string, header: HeaderReader): boolean {
  if (method !== 'GET') return false;
  const dest = header('sec-fetch-dest');
  // Browsers send the token as is (`document`, `empty`, …): compared directly first, and trimmed
  // and lowercased only when it could still be `document` written another way.
  if (dest !== undefined) {
    return dest === 'document' || (dest.length >= 8 && dest.trim().toLowerCase() === 'document');
  }
  return header('accept')?.toLowerCase().includes('text/html') === true;
}

/** The `Referer` as a URL when it is an absolute http(s) URL with a safe host; else `undefined`. */
export function parseReferer(value: string | undefined): PageUrl | undefined {
  if (value === undefined || value === '') return undefined;
  const plain = plainHttpUrl(value);
  if (plain !== undefined) return plain;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
  if (!isValidHost(url.host)) return undefined;
  if (url.hash !== '') url.hash = '';
  return url;
}

/**
 * Same registrable domain (schemeless "same site"), the test for whether a `Referer` is one of our
 * own pages: `shop.example.com` and `www.example.com` are; `example.com` and `example.net` are not.
 */
export function isSameSite(a: PageUrl, b: PageUrl): boolean {
  return a.hostname === b.hostname || siteOf(a.hostname) === siteOf(b.hostname);
}
