import {
  type CapiAdapter,
  createRelay,
  fromIncomingMessage,
  type IncomingMessageLike,
  type Relay,
  type RelayInput,
} from '@capi-kit/core';
import { Inject, Injectable, type NestMiddleware } from '@nestjs/common';
import type { CapiModuleOptions } from './options.js';
import { bindRequestCapi } from './request-capi.js';
import { CAPI_ADAPTER, CAPI_OPTIONS } from './tokens.js';

/** The Node request and response a Nest middleware gets (Express's, or Fastify's raw ones). */
interface NodeRequest extends IncomingMessageLike {
  originalUrl?: string | undefined;
  body?: unknown;
  /** Set by Nest with `NestFactory.create(…, { rawBody: true })`. */
  rawBody?: unknown;
  readableEnded?: boolean;
}
interface NodeResponse {
  statusCode: number;
  setHeader(name: string, value: string | readonly string[]): unknown;
  end(body?: string): unknown;
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

  use(req: NodeRequest, res: NodeResponse, next: (error?: unknown) => void): void {
    if (this.relay === undefined) {
      next();
      return;
    }
    const input: RelayInput<IncomingMessageLike> = {
      request: fromIncomingMessage(req, req.originalUrl ?? req.url),
      appRequest: req,
    };
    try {
      // The same cached context (and cookies) as the interceptor and `@CapiContext()` would use.
      input.context = bindRequestCapi(this.adapter, { request: req, response: res }).context;
    } catch (error) {
      this.adapter.client.reportError(error, 'capi relay context');
    }
    const { body, rawBody } = req;
    if (rawBody instanceof Uint8Array) input.body = rawBody;
    else if (typeof body === 'string' || body instanceof Uint8Array) input.body = body;
    else if (req.readableEnded !== true) input.body = req as unknown as AsyncIterable<Uint8Array>;
    else input.parsedBody = body; // Nest's JSON body parser read the stream (Express platform)
    // handle() never rejects.
    void this.relay.handle(input).then((answer) => {
      res.statusCode = answer.status;
      for (const [name, value] of Object.entries(answer.headers)) res.setHeader(name, value);
      res.end(answer.body);
    });
  }
}

Inject(CAPI_ADAPTER)(CapiRelayMiddleware, undefined, 0);
Inject(CAPI_OPTIONS)(CapiRelayMiddleware, undefined, 1);
Injectable()(CapiRelayMiddleware);
