// The root README's "Fastify" block follows the "README below" line, as the README shows it:
// `tsc -p tsconfig.json` checks that it compiles, test/root-readme.test.ts that the README still
// shows it. The README leaves `app` and `checkout` to the reader: declared here.
declare const app: import('fastify').FastifyInstance;
declare const checkout: import('fastify').RouteHandlerMethod;

// README below
import { capiPlugin } from '@capi-kit/fastify';

await app.register(capiPlugin, {
  pixelId: '1234567890',
  accessToken: process.env.META_ACCESS_TOKEN,
});

app.post<{ Body: { email: string } }>('/lead', (request) => {
  const { event_id } = request.capi.track('Lead', { user_data: { em: request.body.email } });
  return { event_id };
});
app.post('/checkout', {
  config: {
    capi: { event: 'Purchase', map: () => ({ custom_data: { value: 49.9, currency: 'EUR' } }) },
  },
  handler: checkout, // tracked in onResponse, only for a status < 400
});
// the plugin's client is flushed and closed in onClose
