import { app } from './usage.js';

interface Order {
  id: string;
  email: string;
  total: number;
}
// What each request's handler produced, for `map` to read once the reply is sent.
const orders = new WeakMap<object, Order>();

app.post<{ Body: { email: string } }>(
  '/checkout',
  {
    config: {
      capi: {
        event: 'Purchase',
        map: (request) => {
          const order = orders.get(request);
          // A Purchase map returns value and currency (a compile error otherwise); a throw is
          // reported through the client's `error` hook and nothing is tracked.
          if (order === undefined) throw new Error('no order for this request');
          // The same order always gives the same event_id, so a retried checkout is counted once.
          return {
            event_id: `order-${order.id}`,
            user_data: { em: order.email },
            custom_data: { value: order.total, currency: 'EUR', order_id: order.id },
          };
        },
      },
    },
  },
  async (request, reply) => {
    const order = { id: '42', email: request.body.email, total: 59.9 }; // your checkout logic
    orders.set(request, order);
    return reply.code(201).send(order);
  },
);
