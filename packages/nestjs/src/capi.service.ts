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
   * explicit values win. Synchronous, never throws (unless `strict`).
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
   * `_fbp`/`_fbc` cookies (the global interceptor does this for every handler already).
   */
  forRequest(request: object, response?: object): RequestCapi {
    return bindRequestCapi(this.adapter, { request, response });
  }
}

Inject(CAPI_ADAPTER)(CapiService, undefined, 0);
Injectable()(CapiService);
