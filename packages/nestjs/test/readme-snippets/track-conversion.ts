import { CapiContext, type RequestCapi, TrackConversion } from '@capi-kit/nestjs';
import { Body, Controller, Post } from '@nestjs/common';

interface Order {
  id: string;
  email: string;
  total: number;
  currency: string;
}

@Controller()
export class CheckoutController {
  @Post('checkout')
  @TrackConversion('Purchase', {
    // The same order always gives the same event_id, so a retried checkout is counted once.
    map: (order: Order) => ({
      event_id: `order-${order.id}`,
      user_data: { em: order.email },
      custom_data: { value: order.total, currency: order.currency, order_id: order.id },
    }),
  })
  async checkout(@Body() order: Order): Promise<Order> {
    return order; // tracked after this resolves; not when it throws or answers ≥ 400
  }

  @Post('lead')
  lead(@Body() body: { email: string }, @CapiContext() capi: RequestCapi) {
    const { event_id } = capi.track('Lead', { user_data: { em: body.email } });
    return { event_id };
  }
}
