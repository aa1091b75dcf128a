import {
  type DestinationCaptures,
  type DestinationContextSource,
  isSafeCaptureValue,
  type PersistedParam,
  persistedCookie,
} from '../context/destination-context.js';
import type { PageUrl } from '../context/plain-url.js';
import {
  fbcOfPageClick,
  pageClickScope,
  type RequestContext,
  type RequestContextOptions,
} from '../context/request-context.js';

/**
 * The clicks of one relay request's pages that the request itself did not carry (an origin-only
 * `Referer`, no cookie yet on a page the app did not serve): `fbc` built from a page's `fbclid`
 * and each destination's click ID (TikTok's `ttclid`), and the cookies that keep them for the
 * visitor's next requests. Made per request, asked by each of its events.
 */
export interface PageClicks {
  /**
   * The fbc of a page's `fbclid` first seen at `ms`, {@link relayEventInput}'s `pageFbc`: one fbc
   * per click for the request's events, kept as `_fbc`.
   */
  fbc(fbclid: string, ms: number): string | undefined;
  /**
   * The context to track an event of page `pageHref` with: the request's, or a copy whose
   * destination captures hold the page's click IDs ({@link withPageClickIds}).
   */
  contextOf(pageHref: unknown): RequestContext;
  /** `Set-Cookie` values keeping the clicks taken: `_fbc`, then one per destination cookie. */
  cookies(): string[];
}

/** The {@link PageClicks} of a relay request to `requestUrl`, read with `options` and `context`. */
export function pageClicksOf(
  requestUrl: PageUrl | undefined,
  options: RequestContextOptions,
  context: RequestContext,
): PageClicks {
  let pageFbc: { fbclid: string; fbc: string; cookie: string | undefined } | undefined;
  // One cookie per destination cookie name: the last page's click.
  const clickCookies = new Map<string, string>();
  const keep = (kept: PersistedParam, value: string): void => {
    const where = pageClickScope(requestUrl, options, context.consent);
    const cookie = where && persistedCookie(kept, value, where.scope, where.secure);
    if (cookie !== undefined) clickCookies.set(kept.cookie, cookie.header);
  };
  return {
    fbc(fbclid, ms) {
      if (pageFbc?.fbclid === fbclid) return pageFbc.fbc;
      const built = fbcOfPageClick(fbclid, ms, requestUrl, options, context.consent);
      if (built === undefined) return undefined;
      pageFbc = { fbclid, fbc: built.fbc, cookie: built.cookie?.header };
      return built.fbc;
    },
    contextOf(pageHref) {
      const captures = withPageClickIds(options.destinations, context.destinations, pageHref, keep);
      return captures === context.destinations || captures === undefined
        ? context
        : { ...context, destinations: captures };
    },
    cookies() {
      const cookies = pageFbc?.cookie === undefined ? [] : [pageFbc.cookie];
      cookies.push(...clickCookies.values());
      return cookies;
    },
  };
}

/**
 * The request's destination captures, with each click ID a destination keeps
 * (`ContextNeeds.persist`, TikTok's `ttclid`) taken from a relayed event's same-site page
 * (`pageHref`, its whole URL as {@link relayEventInput} read it) where the request's is missing
 * or another click's: the page is the newer click, as the request context reads a URL before the
 * cookie. The relay's request lost it for the reason {@link relayEventInput} builds `fbc` (an
 * origin-only `Referer`, and no cookie yet on a page the app did not serve). Each click taken is
 * handed to `keep`, to be kept in the destination's cookie as `_fbc` is. `captures` itself when
 * nothing changes.
 */
export function withPageClickIds(
  destinations: readonly DestinationContextSource[] | undefined,
  captures: DestinationCaptures | undefined,
  pageHref: unknown,
  keep?: (kept: PersistedParam, value: string) => void,
): DestinationCaptures | undefined {
  if (destinations === undefined || typeof pageHref !== 'string' || !pageHref.includes('=')) {
    return captures;
  }
  let out = captures;
  let search: URLSearchParams | undefined;
  for (const destination of destinations) {
    for (const kept of destination.context?.persist ?? []) {
      if (!pageHref.includes(`${kept.param}=`)) continue;
      search ??= new URL(pageHref).searchParams;
      const value = search.get(kept.param);
      const held = out?.[destination.name];
      if (!isSafeCaptureValue(value) || held?.[kept.param] === value) continue;
      if (out === captures) out = { ...captures };
      (out as DestinationCaptures)[destination.name] = { ...held, [kept.param]: value };
      keep?.(kept, value);
    }
  }
  return out;
}
