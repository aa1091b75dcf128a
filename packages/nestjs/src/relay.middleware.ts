import {
  type CapiAdapter,
  createRelay,
  type IncomingMessageLike,
  type NodeRelayRequest,
  type NodeRelayResponse,
  type Relay,
  type RequestContext,
  serveNodeRelay,
} from '@capi-kit/core';
import { Inject, Injectable, type NestMiddleware } from '@nestjs/common';
import type { CapiModuleOptions } from './options.js';
import { bindRequestCapi } from './request-capi.js';
import { CAPI_ADAPTER, CAPI_OPTIONS } from './tokens.js';

/** The Node request a Nest middleware gets (Express's, or Fastify's raw one). */
interface NodeRequest extends NodeRelayRequest {
  originalUrl?: string | undefined;
}

/**
 * Answers `@capi-kit/browser`'s relay requests (registered by `CapiModule` when `relay` is set):
 * the request context comes from the module's adapter, the rules and the answer from the core.
 */
export class CapiRelayMiddleware implements NestMiddleware {
  private readonly relay: Relay<IncomingMessageLike> | undefined;

  constructor(
    private readonly adapter: CapiAdapter,
    options: CapiModuleOptions,
  ) {
    const { relay, shutdownTimeoutMs: _, client: __, ...requestContext } = options;
    if (!relay) return;
    const { path: ___, ...rules } = relay === true ? {} : relay;
    this.relay = createRelay({ ...rules, client: adapter.client, requestContext });
  }

  use(req: NodeRequest, res: NodeRelayResponse, next: (error?: unknown) => void): void {
    if (this.relay === undefined) {
      next();
      return;
    }
    let context: RequestContext | undefined;
    try {
      // The same cached context (and cookies) as the interceptor and `@CapiContext()` would use.
      context = bindRequestCapi(this.adapter, { request: req, response: res }).context;
    } catch (error) {
      this.adapter.client.reportError(error, 'capi relay context');
    }
    serveNodeRelay(this.relay, this.adapter.client, req, res, {
      url: req.originalUrl ?? req.url,
      context,
      appRequest: req,
    });
  }
}

Inject(CAPI_ADAPTER)(CapiRelayMiddleware, undefined, 0);
Inject(CAPI_OPTIONS)(CapiRelayMiddleware, undefined, 1);
Injectable()(CapiRelayMiddleware);
