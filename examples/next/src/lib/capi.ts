import { createNextCapi } from '@capi-kit/next';
import { capiOptions } from './capi-options';

/**
 * One binding for the whole app. capi-kit reads META_PIXEL_ID, META_ACCESS_TOKEN, META_GRAPH_URL and
 * META_TEST_EVENT_CODE from the environment when the first event is tracked (not at build time).
 * With TIKTOK_PIXEL_CODE and TIKTOK_ACCESS_TOKEN, `destinations` holds `tiktok(…)` (examples/shared)
 * and every event goes to TikTok too, with the same event ID; without them it is empty.
 */
export const capi = createNextCapi(capiOptions);

export const { trackConversion, withConversion, withCapi, track } = capi;
