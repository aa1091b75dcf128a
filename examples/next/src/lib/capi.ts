import { createNextCapi } from '@capi-kit/next';
import { parseTrustProxy } from 'capi-kit-example-shared';

/**
 * One binding for the whole app. capi-kit reads META_PIXEL_ID, META_ACCESS_TOKEN, META_GRAPH_URL and
 * META_TEST_EVENT_CODE from the environment when the first event is tracked (not at build time).
 */
export const capi = createNextCapi({ trustProxy: parseTrustProxy(process.env.TRUST_PROXY) });

export const { trackConversion, withConversion, withCapi, track } = capi;
