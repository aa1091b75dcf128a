// Anything with Web `Request`/`Response` (Bun, Workers, Deno); with Hono:
// app.post('/capi/events', (c) => relay.handleRequest(c.req.raw))
import { createCapi, createRelay } from '@capi-kit/core';

const relay = createRelay({ client: createCapi(), requestContext: { platform: 'cloudflare' } });
export default {
  fetch: (request: Request) =>
    new URL(request.url).pathname === '/capi/events'
      ? relay.handleRequest(request)
      : new Response('Not found', { status: 404 }),
};
