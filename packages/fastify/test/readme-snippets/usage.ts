import { capiPlugin } from '@capi-kit/fastify';
import Fastify from 'fastify';

export const app = Fastify();
// pixelId and accessToken default to META_PIXEL_ID and META_ACCESS_TOKEN.
await app.register(capiPlugin, { trustProxy: 'loopback' });

app.post<{ Body: { email: string } }>('/lead', async (request) => {
  const { event_id } = request.capi.track('Lead', { user_data: { em: request.body.email } });
  return { event_id }; // give it to the browser Pixel too, so Meta deduplicates
});
