import { routeConversion } from '@capi-kit/fastify';
import { app } from './usage.js';

app.post('/signup', {
  config: {
    capi: routeConversion('SignupStarted', () => ({
      custom_data: { custom_properties: { plan: 'pro' } },
    })),
  },
  handler: async () => ({ ok: true }),
});
