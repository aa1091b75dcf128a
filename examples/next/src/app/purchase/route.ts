import {
  parsePurchase,
  purchaseDataOf,
  purchaseEventId,
  userDataOf,
} from 'capi-kit-example-shared';
import { withCapi } from '@/lib/capi';

const purchaseOf = (body: unknown) => {
  const parsed = parsePurchase(body);
  return 'error' in parsed ? undefined : parsed.purchase;
};

/**
 * `POST /purchase`: `withCapi` tracks the Purchase only after a response below 400, from `map`,
 * which reads its own copy of the request body.
 */
export const POST = withCapi(
  async (request: Request) => {
    const parsed = parsePurchase(await request.json().catch(() => undefined));
    if ('error' in parsed) return Response.json(parsed, { status: 400 });
    return Response.json({ event_id: purchaseEventId(parsed.purchase.order_id) });
  },
  {
    event: 'Purchase',
    map: async (request) => {
      const purchase = purchaseOf(await request.json());
      // A Purchase map must return value and currency; map only runs after the handler's 2xx,
      // which a valid body alone gets (a throw here is reported and nothing is tracked).
      if (purchase === undefined) throw new Error('no valid purchase in the request body');
      return {
        event_id: purchaseEventId(purchase.order_id),
        user_data: userDataOf(purchase),
        custom_data: purchaseDataOf(purchase),
      };
    },
  },
);
