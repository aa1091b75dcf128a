import { createCapi } from '@capi-kit/core';
import { tiktok } from '@capi-kit/tiktok';

// One client, two platforms: every track() reaches Meta and TikTok with one event_id, each
// through its own queue, retries and counters (stats().pixels['tiktok:<pixel code>']).
export const capi = createCapi({
  // Meta, as always (also read from META_PIXEL_ID / META_ACCESS_TOKEN when left out).
  pixelId: process.env.META_PIXEL_ID,
  accessToken: process.env.META_ACCESS_TOKEN,
  destinations: [
    tiktok({
      pixelCode: process.env.TIKTOK_PIXEL_CODE ?? '',
      accessToken: process.env.TIKTOK_ACCESS_TOKEN ?? '', // sent only in the Access-Token header
      apiUrl: process.env.TIKTOK_EVENTS_URL, // default: TikTok's /open_api/v1.3/event/track/
    }),
  ],
});
