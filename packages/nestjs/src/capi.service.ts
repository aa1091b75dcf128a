import {
  type CapiAdapter,
  type CapiClient,
  type EventName,
  newEventId,
  type RequestCapi,
  type ServerEventInput,
  type TrackResult,
} from '@capi-kit/core';
import { Inject, Injectable } from '@nestjs/common';
import { bindRequestCapi } from './request-capi.js';
import { CAPI_ADAPTER } from './tokens.js';

/**
 * Tracks Conversions API events from anywhere in the app: with a request, its context (IP, user
 * agent, `_fbp`/`_fbc`, page URL, consent) is filled in. Singleton-scoped; nothing request-scoped.
 * @example this.capi.track({ event_name: 'Lead', user_data: { em: dto.email } }, request)
 */
export class CapiService {
  constructor(private readonly adapter: CapiAdapter) {}

  /** The delivery client (`flush()`, `stats()`, `on('error', …)`). */
  get client(): CapiClient {
    return this.adapter.client;
  }

  /**
   * Tracks `event`; with `request` (Express, Fastify or Node request) its context is filled in,
   * explicit values win. Synchronous, never throws (unless `strict`); with something that is not a
   * request (`null`, a GraphQL context) the event is dropped and the mistake reported.
   */
  track<Name extends EventName>(event: ServerEventInput<Name>, request?: object): TrackResult {
    if (request === undefined) return this.adapter.client.track(event);
    return this.forRequest(request).track(event);
  }

  /** A fresh event ID, to render into the page's Pixel call before tracking the server copy. */
  eventId(): string {
    return newEventId();
  }

  /**
   * The request-bound API (`track`, `eventId`, `context`) that `@CapiContext()` gives handlers;
   * the same object for every call with the same request. Pass `response` to also write the
   * `_fbp`/`_fbc` cookies (the global interceptor does this for every handler already). Never
   * throws: given something that is not a request, its `track()` reports that and drops the event.
   */
  forRequest(request: object, response?: object): RequestCapi {
    try {
      return bindRequestCapi(this.adapter, { request, response });
    } catch (error) {
      // Not a request (or one that cannot be read): a binding whose context fails, which the core
      // reports on first use and tracks nothing with (consent `denied`, failing closed), rather
      // than a throw into the caller's request.
      return this.adapter.bind(() => {
        throw error;
      });
    }
  }
}

Inject(CAPI_ADAPTER)(CapiService, undefined, 0);
Injectable()(CapiService);
