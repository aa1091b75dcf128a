import type { RequestCapi } from '@capi-kit/core';
import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { boundRequestCapi, httpExchangeOf } from './request-capi.js';

function requestCapiOf(_data: unknown, context: ExecutionContext): RequestCapi {
  const exchange = httpExchangeOf(context);
  // The global interceptor binds every http and graphql call before parameters are resolved.
  const capi = exchange && boundRequestCapi(exchange.request);
  if (capi === undefined) {
    throw new Error(
      exchange === undefined
        ? `capi-kit: @CapiContext() needs an HTTP request; '${context.getType()}' calls have none`
        : 'capi-kit: @CapiContext() found no request context: import CapiModule.forRoot() or forRootAsync()',
    );
  }
  return capi;
}

/**
 * Handler parameter decorator: the request-bound `RequestCapi` (`track`, `eventId`, `context`),
 * one per request, without making anything request-scoped.
 * @example @Post('lead') lead(@Body() dto: LeadDto, @CapiContext() capi: RequestCapi) { return capi.track('Lead', { user_data: { em: dto.email } }) }
 */
export const CapiContext: () => ParameterDecorator = createParamDecorator(requestCapiOf);
