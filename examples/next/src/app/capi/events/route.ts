import { createRelayRoute } from '@capi-kit/next';
import { capi } from '../../../lib/capi';

// The first-party relay: `@capi-kit/browser` posts each Pixel event here (same event ID), and it
// is forwarded through CAPI with this request's IP, user agent and _fbp/_fbc. Same-site requests
// only, standard events only, no customer data from the page.
export const { POST } = createRelayRoute({ capi });
