import { createCapi } from '@capi-kit/core';
import { tiktok } from '@capi-kit/tiktok';

export const capi = createCapi({
  pixelId: '1234567890',
  accessToken: process.env.META_ACCESS_TOKEN,
  destinations: [
    tiktok({ pixelCode: 'C4ABCDEF', accessToken: process.env.TIKTOK_ACCESS_TOKEN ?? '' }),
  ],
});
