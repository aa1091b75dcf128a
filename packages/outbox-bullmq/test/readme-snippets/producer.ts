// In the web app (every instance): the producer side is an outbox for createCapi.
import { createCapi } from '@capi-kit/core';
import { bullmqOutbox } from '@capi-kit/outbox-bullmq';

export const capi = createCapi({
  pixelId: process.env.META_PIXEL_ID,
  // still needed: the in-memory fallback (below) is delivered by this process
  accessToken: process.env.META_ACCESS_TOKEN,
  outbox: bullmqOutbox({ connection: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' }),
});
