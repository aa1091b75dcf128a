// In one or more worker processes.
import { createCapiWorker } from '@capi-kit/outbox-bullmq';

const worker = createCapiWorker({
  connection: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
  pixelId: process.env.META_PIXEL_ID,
  accessToken: process.env.META_ACCESS_TOKEN, // or pixels: [{ pixelId, accessToken }, …]
  logger: console, // or any pino-compatible logger: pino()
});
worker.on('deadLetter', (info) => console.error('dead letter:', info.error.message));
process.on('SIGTERM', () => void worker.close());
