/**
 * Meta Conversions API for Fastify. Built only from `@capi-kit/core`'s public exports, the same a
 * third-party adapter would use: request → `getRequestContext` → `track`.
 */
import {
  type CapiAdapterOptions,
  type CapiClient,
  createCapiAdapter,
  type EventName,
  fromIncomingMessage,
  type RequestCapi,
  type TrackParams,
} from '@capi-kit/core';
import type { FastifyPluginCallback, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';

/** Route-level tracking: `config: { capi: { event: 'Purchase', map } }` tracks after a < 400 reply. */
export interface CapiRouteConfig {
  /** The event to track once the reply has been sent with a status below 400. */
  event: EventName;
  /** Event data from the request and reply, e.g. what the handler stored on the request. */
  map?: (request: FastifyRequest, reply: FastifyReply) => TrackParams | undefined;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** capi-kit's request-bound tracker, set by the `capiPlugin` for every request. */
    capi: RequestCapi;
  }
  interface FastifyInstance {
    /** The delivery client behind the plugin. */
    capiClient: CapiClient;
  }
  interface FastifyContextConfig {
    /** Track a conversion for this route after a successful reply. */
    capi?: CapiRouteConfig;
  }
}

/** Options of {@link capiPlugin}: `createCapi`'s and the request-context options, or a shared `client`. */
export type CapiFastifyOptions = CapiAdapterOptions;

const plugin: FastifyPluginCallback<CapiFastifyOptions> = (app, options, done) => {
  const adapter = createCapiAdapter(options);
  app.decorate('capiClient', adapter.client);
  app.decorateRequest('capi', null as unknown as RequestCapi);

  app.addHook('onRequest', (request, reply, next) => {
    const context = adapter.contextOf(fromIncomingMessage(request.raw));
    for (const cookie of context.cookiesToSet) reply.header('set-cookie', cookie.header);
    request.capi = adapter.bind(context);
    next();
  });

  app.addHook('onResponse', (request, reply, next) => {
    const route = request.routeOptions.config?.capi;
    if (route && reply.statusCode < 400) {
      request.capi.track(route.event, () => route.map?.(request, reply));
    }
    next();
  });

  app.addHook('onClose', async () => {
    await adapter.close();
  });
  done();
};

/**
 * Fastify plugin: computes each request's context (client IP, user agent, page URL, `_fbp`/`_fbc`),
 * writes the cookies, decorates `request.capi`, tracks route-level `config.capi` conversions in
 * `onResponse`, and closes its client in `onClose`.
 * @example await app.register(capiPlugin, { pixelId, accessToken, trustProxy: 'loopback' })
 */
export const capiPlugin = fp(plugin, { fastify: '4.x || 5.x', name: '@capi-kit/fastify' });

export default capiPlugin;
