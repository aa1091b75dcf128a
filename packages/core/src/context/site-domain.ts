import { publicSuffixLibrary } from '#platform';
import { hostKind } from './request-input.js';

// Browsers use the whole Public Suffix List, private section included: `a.vercel.app` and
// `b.vercel.app` are different sites and neither may set a cookie on `vercel.app`.
const TLDTS_OPTIONS = { allowPrivateDomains: true, extractHostname: false } as const;

// The request host is nearly always one of a handful of names, so its registrable domain is
// memoized; the map is bounded because the Host header is client-controlled.
const domainCache = new Map<string, string | null>();
const MAX_CACHED_DOMAINS = 256;

// RFC 1034 letter-digit-hyphen labels: the only names a cookie `Domain` attribute may carry.
const COOKIE_DOMAIN_PATTERN =
  /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/;

function stripTrailingDot(hostname: string): string {
  return hostname.endsWith('.') ? hostname.slice(0, -1) : hostname;
}

/** The registrable domain (eTLD+1) of a host name, or `undefined` for IPs, `localhost`, single labels. */
export function registrableDomain(hostname: string): string | undefined {
  if (hostKind(hostname) === 'ip') return undefined;
  const name = stripTrailingDot(hostname.toLowerCase());
  if (name === 'localhost' || name.endsWith('.localhost')) return undefined;
  let domain = domainCache.get(name);
  if (domain === undefined) {
    domain = publicSuffixLibrary().getDomain(name, TLDTS_OPTIONS);
    if (domainCache.size >= MAX_CACHED_DOMAINS) domainCache.clear();
    domainCache.set(name, domain);
  }
  return domain ?? undefined;
}

// The site and the default cookie scope of each request host, memoized by the host name as the URL
// parser gave it (bounded: the Host header is client-controlled). Every page view asks for both.
const siteCache = new Map<string, string>();
const scopeCache = new Map<string, CookieScope>();

function remember<V>(cache: Map<string, V>, key: string, value: V): V {
  if (cache.size >= MAX_CACHED_DOMAINS) cache.clear();
  cache.set(key, value);
  return value;
}

/** The "site" of a host for same-site checks: its registrable domain, else the host itself. */
export function siteOf(hostname: string): string {
  return (
    siteCache.get(hostname) ??
    remember(
      siteCache,
      hostname,
      registrableDomain(hostname) ?? stripTrailingDot(hostname.toLowerCase()),
    )
  );
}

/** Where `_fbp`/`_fbc` are written and the subdomain index their values carry. */
export interface CookieScope {
  /** `Domain` attribute; absent for host-only cookies (IPs, `localhost`, unknown suffixes). */
  readonly domain: string | undefined;
  /** Labels of the cookie domain minus one, per [FBC]: `example.com` → 1, `example.co.uk` → 2. */
  readonly subdomainIndex: number;
}

function labelCount(name: string): number {
  let count = 1;
  for (let i = 0; i < name.length; i++) if (name.charCodeAt(i) === 0x2e) count++;
  return count;
}

/**
 * The cookie scope for a request host. Meta's Pixel writes its cookies on the registrable domain
 * and encodes that domain's depth as the subdomain index; the server does the same so both agree.
 * A `cookieDomain` override applies only when the host is inside it (browsers reject the cookie
 * otherwise). Hosts with no usable domain get a host-only cookie and index 0.
 * @see https://developers.facebook.com/documentation/ads-commerce/conversions-api/parameters/fbp-and-fbc [FBC]
 */
export function cookieScope(hostname: string, cookieDomain: string | undefined): CookieScope {
  if (cookieDomain !== undefined) return computeScope(hostname, cookieDomain);
  return (
    scopeCache.get(hostname) ?? remember(scopeCache, hostname, computeScope(hostname, undefined))
  );
}

function computeScope(hostname: string, cookieDomain: string | undefined): CookieScope {
  if (hostKind(hostname) === 'ip') return { domain: undefined, subdomainIndex: 0 };
  const host = stripTrailingDot(hostname.toLowerCase());
  if (cookieDomain !== undefined) {
    const wanted = stripTrailingDot(cookieDomain.trim().toLowerCase().replace(/^\./, ''));
    // A single label (`localhost`, `com`) is never a valid cookie domain for browsers, nor is a
    // public suffix (`co.uk`, `vercel.app`): one with no registrable domain of its own. Browsers
    // refuse such a cookie (RFC 6265 §5.3 step 5), so it would never be stored.
    if (
      COOKIE_DOMAIN_PATTERN.test(wanted) &&
      wanted.includes('.') &&
      (host === wanted || host.endsWith(`.${wanted}`)) &&
      registrableDomain(wanted) !== undefined
    ) {
      return { domain: wanted, subdomainIndex: labelCount(wanted) - 1 };
    }
  }
  const domain = registrableDomain(host);
  if (domain === undefined || !COOKIE_DOMAIN_PATTERN.test(domain)) {
    return { domain: undefined, subdomainIndex: labelCount(host) - 1 };
  }
  return { domain, subdomainIndex: labelCount(domain) - 1 };
}
