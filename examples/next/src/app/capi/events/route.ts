import { createRelayRoute } from '@capi-kit/next';
import { capi } from '../../../lib/capi';
import { capiOptions } from '../../../lib/capi-options';

// The first-party relay: `@capi-kit/browser` posts each Pixel event here (same event ID), and it
// is forwarded through CAPI with this request's IP, user agent and _fbp/_fbc (and, with TikTok,
// _ttp and the ttclid cookie) to Meta and every other destination. Same-site requests only,
// standard events only, no customer data from the page. The route reads its requests with its own
// options, not the binding's: give it the same ones (`capiOptions`).
export const { POST } = createRelayRoute({ ...capiOptions, capi });
