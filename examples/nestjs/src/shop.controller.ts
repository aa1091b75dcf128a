import { createHash } from 'node:crypto';
import { pixelSnippet } from '@capi-kit/core';
import { CapiContext, type RequestCapi, TrackConversion } from '@capi-kit/nestjs';
import { Body, Controller, Get, Header, HttpCode, Inject, Post } from '@nestjs/common';
import { EXAMPLE_CONFIG, type ExampleConfig } from './config';
import { type PurchaseInput, parseLead, parsePurchase } from './inputs';

/** What `/lead` and `/purchase` answer. */
interface EventReply {
  event_id: string;
}

/**
 * The same order always gives the same event ID, so Meta counts a retried checkout once (it
 * deduplicates on event_name + event_id).
 */
const purchaseEventId = (orderId: string): string =>
  createHash('sha256').update(`Purchase:${orderId}`).digest('hex').slice(0, 32);

const page = (head: string): string => `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>capi-kit NestJS example</title>
${head}
</head>
<body>
<h1>capi-kit NestJS example</h1>
<p>This page fired a PageView from the Pixel and the same event, with the same ID, through the Conversions API.</p>
</body>
</html>
`;

@Controller()
export class ShopController {
  constructor(@Inject(EXAMPLE_CONFIG) private readonly config: ExampleConfig) {}

  /** The page: PageView tracked server-side, and the Pixel firing it with the same event ID. */
  @Get()
  @Header('content-type', 'text/html; charset=utf-8')
  home(@CapiContext() capi: RequestCapi): string {
    const { event_id } = capi.track('PageView');
    const { pixelId, pixelScriptUrl } = this.config;
    return page(
      pixelSnippet({
        pixelId,
        events: [{ event_name: 'PageView', event_id }],
        ...(pixelScriptUrl === undefined ? {} : { scriptUrl: pixelScriptUrl }),
      }),
    );
  }

  /** A Lead, tracked by hand through the request-bound API. */
  @Post('lead')
  @HttpCode(200)
  lead(@Body() body: unknown, @CapiContext() capi: RequestCapi): EventReply {
    const lead = parseLead(body);
    const { event_id } = capi.track('Lead', {
      user_data: {
        em: lead.email,
        ph: lead.phone,
        fn: lead.first_name,
        ln: lead.last_name,
        country: lead.country,
      },
    });
    return { event_id };
  }

  /** A Purchase, tracked by the decorator once the handler succeeded (never on a 400). */
  @Post('purchase')
  @HttpCode(200)
  @TrackConversion('Purchase', {
    // The handler only returns after `parsePurchase` accepted the body, so here it is valid.
    map: (reply: EventReply, request: { body: PurchaseInput }) => {
      const { email, value, currency, order_id, contents } = request.body;
      return {
        event_id: reply.event_id,
        user_data: { em: email },
        custom_data: { value, currency, order_id, contents },
      };
    },
  })
  purchase(@Body() body: unknown): EventReply {
    return { event_id: purchaseEventId(parsePurchase(body).order_id) };
  }
}
