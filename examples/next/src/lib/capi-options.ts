import { destinationsFromEnv, parseTrustProxy } from 'capi-kit-example-shared';

/**
 * The request-context options every capi-kit entry point of the app takes alike: the client
 * (`lib/capi.ts`), the proxy that sets the cookies (`proxy.ts`) and the relay route, which reads
 * its own requests' IP and cookies (`app/capi/events/route.ts`). One object, so the three trust the
 * same proxies and know the same destinations: with TIKTOK_PIXEL_CODE and TIKTOK_ACCESS_TOKEN,
 * `tiktok(…)` (examples/shared), whose `ttclid` and `_ttp` cookies each of them then reads.
 */
export const capiOptions = {
  trustProxy: parseTrustProxy(process.env.TRUST_PROXY),
  destinations: destinationsFromEnv(process.env),
};
