import { parseAddress } from '../context/ip-address.js';
import { isSameSite } from '../context/page-url.js';
import type { PageUrl } from '../context/plain-url.js';
import type { RequestContextOptions } from '../context/request-context.js';
import { effectiveUrl, type HeaderReader, type NodeRequestLike } from '../context/request-input.js';
import { compileTrustProxy, isPeerTrusted } from '../context/trust-proxy.js';

/** Why a request was not taken as first-party. */
export type FirstPartyRefusal = 'cross_site' | 'unknown_origin';

/**
 * The URL the browser addressed (host from `Host`, or from `X-Forwarded-Host` or `Forwarded`'s
 * `host=` behind a trusted proxy, exactly as `getRequestContext` reads it); `undefined` when the
 * host is missing or unsafe.
 */
export function relayRequestUrl(
  input: Request | NodeRequestLike,
  header: HeaderReader,
  options: RequestContextOptions,
): PageUrl | undefined {
  const node = input as NodeRequestLike;
  const remote = options.remoteAddress ?? node.remoteAddress;
  const socket = remote === undefined ? undefined : parseAddress(remote);
  const trusted = isPeerTrusted(compileTrustProxy(options.trustProxy), socket);
  return effectiveUrl(
    input.url,
    header,
    node.protocol,
    trusted,
    options.forwardedHeader === 'forwarded',
  );
}

/**
 * Whether a request comes from a page of this site, the relay's CSRF guard. Fetch Metadata first
 * (https://www.w3.org/TR/fetch-metadata/): `same-origin` and `same-site` pass; `cross-site`, `none`
 * (typed in the address bar, not a page) and anything else are refused. Browsers without Fetch
 * Metadata still send `Origin` on every POST a page makes (fetch, sendBeacon), so then the
 * `Origin` host's registrable domain must equal the request host's. Neither header: not a browser
 * page, refused (`unknown_origin`). `Origin: null` (sandboxed frames, `file:`) is refused too.
 */
export function checkFirstParty(
  header: HeaderReader,
  requestUrl: PageUrl | undefined,
): FirstPartyRefusal | undefined {
  const site = header('sec-fetch-site')?.trim().toLowerCase();
  if (site !== undefined && site !== '') {
    return site === 'same-origin' || site === 'same-site' ? undefined : 'cross_site';
  }
  const origin = header('origin')?.trim();
  if (origin === undefined || origin === '') return 'unknown_origin';
  let originUrl: URL;
  try {
    originUrl = new URL(origin);
  } catch {
    return 'cross_site';
  }
  if (originUrl.protocol !== 'http:' && originUrl.protocol !== 'https:') return 'cross_site';
  // Without a trustworthy request host there is nothing to compare to: fail closed.
  if (requestUrl === undefined) return 'unknown_origin';
  return isSameSite(originUrl, requestUrl) ? undefined : 'cross_site';
}
