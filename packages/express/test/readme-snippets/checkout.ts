import { trackConversion } from '@capi-kit/express';
import { app } from './usage.js';

app.post(
  '/checkout',
  trackConversion('Purchase', (_req, res) => res.locals.purchase),
  (req, res) => {
    const order = { id: '42', email: req.body.email, total: 59.9 }; // your checkout logic
    // The same order always gives the same event_id, so a retried checkout is counted once.
    res.locals.purchase = {
      event_id: `order-${order.id}`,
      user_data: { em: order.email },
      custom_data: { value: order.total, currency: 'EUR', order_id: order.id },
    };
    res.status(201).json(order);
  },
);
