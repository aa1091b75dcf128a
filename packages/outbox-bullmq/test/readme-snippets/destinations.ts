import { createCapiWorker } from '@capi-kit/outbox-bullmq';
import { tiktok } from '@capi-kit/tiktok';

const destinations = [
  tiktok({
    pixelCode: process.env.TIKTOK_PIXEL_CODE ?? '',
    accessToken: process.env.TIKTOK_ACCESS_TOKEN ?? '',
  }),
];
// Web app: createCapi({ pixelId, accessToken, destinations, outbox: bullmqOutbox({ connection }) })
export const worker = createCapiWorker({
  connection: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
  pixelId: process.env.META_PIXEL_ID,
  accessToken: process.env.META_ACCESS_TOKEN,
  destinations, // TikTok's jobs go through tiktok(): its URL, Access-Token header, answers, limits
});
