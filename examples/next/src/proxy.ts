import { capiProxy } from '@capi-kit/next/proxy';
import { destinationsFromEnv, parseTrustProxy } from 'capi-kit-example-shared';

/**
 * Sets `_fbp`, and `_fbc` from `?fbclid=`, on page loads; tells the pages their URL. Given the same
 * `destinations` as the client, it also keeps TikTok's `?ttclid=` in the `ttclid` cookie.
 */
export const proxy = capiProxy({
  trustProxy: parseTrustProxy(process.env.TRUST_PROXY),
  destinations: destinationsFromEnv(process.env),
});

export const config = { matcher: ['/((?!_next/static|_next/image|favicon.ico).*)'] };
