// @ts-check
import { capiPlugin } from '@capi-kit/fastify';
import {
  BODY_LIMIT_BYTES,
  bodyParserRejection,
  destinationsFromEnv,
  landingPage,
  parseFastifyJson,
  parseTrustProxy,
  purchaseDataOf,
  purchaseEventId,
  readLead,
  readPurchase,
  refuseNonUtf8Json,
  tiktokPixelFromEnv,
  userDataOf,
} from 'capi-kit-example-shared';
import Fastify from 'fastify';

/**
 * The example app. `env` holds the contract's variables (examples/README.md); capi-kit reads
 * META_PIXEL_ID, META_ACCESS_TOKEN, META_GRAPH_URL and META_TEST_EVENT_CODE from it, and with
 * TIKTOK_PIXEL_CODE and TIKTOK_ACCESS_TOKEN every event goes to TikTok too, with the same event ID.
 * @param {Record<string, string | undefined>} env
 */
export async function createApp(env = process.env) {
  const tiktok = tiktokPixelFromEnv(env);
  // One body limit for every example: 100 KB (examples/shared), Express's default.
  const app = Fastify({ bodyLimit: BODY_LIMIT_BYTES });
  await app.register(capiPlugin, {
    env,
    trustProxy: parseTrustProxy(env.TRUST_PROXY),
    // [] or [tiktok(…)] from the TIKTOK_* variables (examples/shared).
    destinations: destinationsFromEnv(env),
    // POST /capi/events: @capi-kit/browser's first-party relay, with the default rules.
    relay: true,
    // On app.close() (SIGTERM) the client gets 5 s, like the Express example, to deliver what the
    // last requests tracked: time for a Retry-After of a second or two on a busy host.
    shutdownTimeoutMs: 5_000,
  });

  // JSON only, parsed the contract's way (examples/shared): Fastify's text/plain parser goes, so
  // another content type is refused (415) before its body is read, as in every example; JSON in
  // another charset than UTF-8 is refused before it is read; an empty or broken body, or one with a
  // prototype-poisoning key, is refused while it is parsed.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'string' }, parseFastifyJson);
  app.addHook('onRequest', refuseNonUtf8Json);

  // A body Fastify refused (another content type, too large, broken or empty JSON) gets the
  // contract's answer rather than Fastify's own error object; every other error keeps Fastify's
  // handling.
  app.setErrorHandler((error, _request, reply) => {
    const rejection = bodyParserRejection(error);
    if (rejection === undefined) throw error;
    return reply.code(rejection.status).send(rejection.body);
  });

  app.get('/', (request, reply) => {
    // One ID for both copies: rendered into the page's Pixel call and sent through CAPI.
    const event_id = request.capi.eventId();
    request.capi.track('PageView', { event_id });
    reply.type('text/html').send(
      landingPage({
        pixelId: env.META_PIXEL_ID ?? '',
        eventId: event_id,
        scriptUrl: env.META_PIXEL_SCRIPT_URL,
        framework: 'Fastify',
        tiktok,
      }),
    );
  });

  app.post('/lead', (request, reply) => {
    const parsed = readLead({ contentType: request.headers['content-type'], body: request.body });
    if ('rejection' in parsed)
      return reply.code(parsed.rejection.status).send(parsed.rejection.body);
    const { event_id } = request.capi.track('Lead', { user_data: userDataOf(parsed.lead) });
    return { event_id };
  });

  /** @type {WeakMap<object, import('@capi-kit/core').TrackParams<'Purchase'>>} */
  const purchases = new WeakMap();
  // Route-level tracking: the plugin sends the Purchase in onResponse, only for a status < 400.
  app.post(
    '/purchase',
    {
      config: {
        capi: {
          event: 'Purchase',
          map: (request) => {
            const params = purchases.get(request);
            // Set for every reply below 400 (the only ones tracked); a Purchase map must return
            // value and currency, and a throw is reported with nothing tracked.
            if (params === undefined) throw new Error('no purchase for this request');
            return params;
          },
        },
      },
    },
    (request, reply) => {
      const parsed = readPurchase({
        contentType: request.headers['content-type'],
        body: request.body,
      });
      if ('rejection' in parsed) {
        return reply.code(parsed.rejection.status).send(parsed.rejection.body);
      }
      const event_id = purchaseEventId(parsed.purchase.order_id);
      purchases.set(request, {
        event_id,
        user_data: userDataOf(parsed.purchase),
        custom_data: purchaseDataOf(parsed.purchase),
      });
      return { event_id };
    },
  );

  return app;
}

/** How long requests in flight may take to finish after shutdown begins before they are cut. */
export const SHUTDOWN_GRACE_MS = 10_000;

/**
 * Starts the example on `env.PORT` (default 3000).
 * @param {Record<string, string | undefined>} env
 */
export async function start(env = process.env) {
  const app = await createApp(env);
  await app.listen({ port: Number(env.PORT ?? 3000), host: '0.0.0.0' });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : Number(env.PORT);
  return {
    url: `http://127.0.0.1:${port}`,
    client: app.capiClient,
    flush: () => app.capiClient.flush(),
    // Fastify stops accepting, closes idle keep-alive sockets, waits for the requests in flight
    // (their onResponse hooks track their events), and only then runs onClose, where the capi
    // plugin closes the client and delivers what is queued. A request still running after the
    // grace period is cut, so a stuck client cannot hold the shutdown forever.
    close: async () => {
      const cut = setTimeout(() => app.server.closeAllConnections(), SHUTDOWN_GRACE_MS);
      try {
        await app.close();
      } finally {
        clearTimeout(cut);
      }
    },
  };
}
