// Next.js: app/capi/events/route.ts
import { createRelayRoute } from '@capi-kit/next';

// identify: async (request) => ({ external_id: … }) adds the signed-in user from your session
export const { POST } = createRelayRoute({ trustProxy: 1 });
