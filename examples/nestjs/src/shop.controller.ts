import { CapiContext, type RequestCapi, TrackConversion } from '@capi-kit/nestjs';
import {
  Body,
  Controller,
  Get,
  Header,
  Headers,
  HttpCode,
  HttpException,
  Inject,
  Post,
} from '@nestjs/common';
import {
  landingPage,
  purchaseDataOf,
  purchaseEventId,
  type Rejection,
  readLead,
  readPurchase,
  userDataOf,
} from 'capi-kit-example-shared';
import { EXAMPLE_CONFIG, type ExampleConfig } from './config';

/** What `/lead` and `/purchase` answer. */
interface EventReply {
  event_id: string;
}

/** The contract's answer to a refused body (`{ error, field? }` with its status), as Nest throws it. */
const refuse = ({ status, body }: Rejection): HttpException => new HttpException(body, status);

@Controller()
export class ShopController {
  constructor(@Inject(EXAMPLE_CONFIG) private readonly config: ExampleConfig) {}

  /** The page: PageView tracked server-side, and the Pixel firing it with the same event ID. */
  @Get()
  @Header('content-type', 'text/html; charset=utf-8')
  home(@CapiContext() capi: RequestCapi): string {
    const { event_id } = capi.track('PageView');
    return landingPage({
      pixelId: this.config.pixelId,
      eventId: event_id,
      scriptUrl: this.config.pixelScriptUrl,
      framework: 'NestJS',
      tiktok: this.config.tiktok,
    });
  }

  /** A Lead, tracked by hand through the request-bound API. */
  @Post('lead')
  @HttpCode(200)
  lead(
    @Body() body: unknown,
    @Headers('content-type') contentType: string | undefined,
    @CapiContext() capi: RequestCapi,
  ): EventReply {
    const parsed = readLead({ contentType, body });
    if ('rejection' in parsed) throw refuse(parsed.rejection);
    const { event_id } = capi.track('Lead', { user_data: userDataOf(parsed.lead) });
    return { event_id };
  }

  /** A Purchase, tracked by the decorator once the handler succeeded (never on a 400 or 415). */
  @Post('purchase')
  @HttpCode(200)
  @TrackConversion('Purchase', {
    map: (reply: EventReply, request: { body: unknown; headers: Record<string, unknown> }) => {
      const parsed = readPurchase({
        contentType: request.headers['content-type'] as string | undefined,
        body: request.body,
      });
      // The handler only returns (and this map only runs) after readPurchase accepted the same
      // body; a Purchase map must return value and currency, and a throw tracks nothing.
      if ('rejection' in parsed) throw new Error('no valid purchase in the request body');
      return {
        event_id: reply.event_id,
        user_data: userDataOf(parsed.purchase),
        custom_data: purchaseDataOf(parsed.purchase),
      };
    },
  })
  purchase(
    @Body() body: unknown,
    @Headers('content-type') contentType: string | undefined,
  ): EventReply {
    const parsed = readPurchase({ contentType, body });
    if ('rejection' in parsed) throw refuse(parsed.rejection);
    return { event_id: purchaseEventId(parsed.purchase.order_id) };
  }
}
