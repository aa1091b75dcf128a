import {
  purchaseDataOf,
  purchaseEventId,
  readJsonRequest,
  readPurchase,
  userDataOf,
} from 'capi-kit-example-shared';
import { withCapi } from '@/lib/capi';

/** The purchase in a request, read the way every example reads it (see `readPurchase`). */
const readPurchaseRequest = async (request: Request) => {
  // readJsonRequest applies the rules Express's and Fastify's parsers apply in the other examples
  // (UTF-8 JSON only, 100 KB, no prototype-poisoning keys): request.json() applies none of them.
  const json = await readJsonRequest(request);
  if ('rejection' in json) return json;
  return readPurchase({ contentType: request.headers.get('content-type'), body: json.body });
};

/**
 * `POST /purchase`: `withCapi` tracks the Purchase only after a response below 400, from `map`,
 * which reads its own copy of the request body.
 */
export const POST = withCapi(
  async (request: Request) => {
    const parsed = await readPurchaseRequest(request);
    if ('rejection' in parsed) {
      return Response.json(parsed.rejection.body, { status: parsed.rejection.status });
    }
    return Response.json({ event_id: purchaseEventId(parsed.purchase.order_id) });
  },
  {
    event: 'Purchase',
    map: async (request) => {
      const parsed = await readPurchaseRequest(request);
      // A Purchase map must return value and currency; map only runs after the handler's 2xx,
      // which a valid body alone gets (a throw here is reported and nothing is tracked).
      if ('rejection' in parsed) throw new Error('no valid purchase in the request body');
      const { purchase } = parsed;
      return {
        event_id: purchaseEventId(purchase.order_id),
        user_data: userDataOf(purchase),
        custom_data: purchaseDataOf(purchase),
      };
    },
  },
);
