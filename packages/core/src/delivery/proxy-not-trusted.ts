/**
 * What to say when a proxied request's client IP cannot be the visitor's (`reportProxyNotTrusted`):
 * every event of such a request carries a proxy's address as `client_ip_address`, or none, which
 * matches no one, and nothing else shows it.
 */

import { EDGE_HEADERS, type EdgePlatform } from '../context/client-ip.js';
import type { ProxyNotTrustedCause } from '../context/trust-proxy.js';

/** How each platform is named in the warning. */
const EDGE_NAMES: Readonly<Record<EdgePlatform, string>> = {
  cloudflare: 'Cloudflare',
  vercel: 'Vercel',
  fly: 'Fly.io',
  netlify: 'Netlify',
};

/** The header a warning about `cause` names: the platform's own, else the forwarding header. */
export const proxyNotTrustedHeader = (header: string, cause: ProxyNotTrustedCause): string =>
  cause === undefined || cause === 'unix-socket' ? header : EDGE_HEADERS[cause];

/**
 * The warning, told once per client: `header` is the forwarding header the request carries,
 * `cause` why its client IP is not the visitor's, `note` the adapter's addition in its
 * framework's terms. Names the header and the option to set, never an address.
 */
export const proxyNotTrustedWarning = (
  header: string,
  cause: ProxyNotTrustedCause,
  note: string | undefined,
): string => {
  const problem =
    cause !== undefined && cause !== 'unix-socket'
      ? `capi-kit: a request carries ${EDGE_HEADERS[cause]}, the client-IP header ${EDGE_NAMES[cause]} adds at its edge, and came from an address trustProxy does not trust, so the client IP found for it is the edge's, not the visitor's: its events carry ${EDGE_NAMES[cause]}'s address as client_ip_address, which matches no one. Behind ${EDGE_NAMES[cause]}, set platform: '${cause}' (its header is then the only one read). If the app is not behind ${EDGE_NAMES[cause]}, a visitor wrote the header and nothing needs doing.`
      : cause === 'unix-socket'
        ? `capi-kit: a request came through a proxy (it carries ${header}) over a Unix socket, which has no address for trustProxy to match, so ${header} was not read and its events carry no client_ip_address. Behind one proxy on a Unix socket set trustProxy: 1 (a hop count trusts the socket by position), or platform on a hosting platform that sets its own client-IP header.`
        : `capi-kit: a request came through a proxy (it carries ${header}) and the client IP found for it is an internal address (loopback, private or link-local): a proxy's, not a visitor's, because trustProxy does not reach past that proxy. Its events carry that address as client_ip_address, which matches no one, and take their page URL's scheme and host from what the proxy saw. Set trustProxy to the addresses of every proxy in front of the app (e.g. 'loopback', or ['loopback', '10.0.0.0/8']), or platform on a hosting platform that sets its own client-IP header.`;
  return `${problem}${typeof note === 'string' && note !== '' ? ` ${note}` : ''} Told once.`;
};

/**
 * Told once when events carry an internal `client_ip_address` taken from the request's context
 * (diagnostics see it; intake.ts), unless the proxy warning above was told first.
 */
export const INTERNAL_CLIENT_IP_WARNING =
  "capi-kit: events carry an internal client_ip_address (private or link-local): a proxy's, not a visitor's, so Meta matches no one on it, and the match-quality estimate leaves it out. The app is likely behind a proxy that trustProxy does not reach past: set trustProxy to the addresses of every proxy in front of the app (e.g. ['loopback', '10.0.0.0/8']), or platform on a hosting platform that sets its own client-IP header. Told once.";
