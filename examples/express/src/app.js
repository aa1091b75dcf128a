// @ts-check
import { once } from 'node:events';
import { STANDARD_EVENTS } from '@capi-kit/core';
import { capi, trackConversion } from '@capi-kit/express';
import {
  bodyParserJsonOptions,
  bodyParserRejection,
  destinationsFromEnv,
  landingPage,
  parseTrustProxy,
  purchaseDataOf,
  purchaseEventId,
  readLead,
  readPurchase,
  tiktokPixelFromEnv,
  userDataOf,
} from 'capi-kit-example-shared';
import express from 'express';

/** The custom event the example's relay accepts besides Meta's standard events. */
export const RELAY_CUSTOM_EVENT = 'CtaClick';

/**
 * The example app. `env` holds the contract's variables (examples/README.md); capi-kit reads
 * META_PIXEL_ID, META_ACCESS_TOKEN, META_GRAPH_URL and META_TEST_EVENT_CODE from it, and with
 * TIKTOK_PIXEL_CODE and TIKTOK_ACCESS_TOKEN every event goes to TikTok too, with the same event ID.
 * @param {Record<string, string | undefined>} env
 */
export function createApp(env = process.env) {
  const tiktok = tiktokPixelFromEnv(env);
  const tracking = capi({
    env,
    trustProxy: parseTrustProxy(env.TRUST_PROXY),
    // [] or [tiktok(…)] from the TIKTOK_* variables (examples/shared); TikTok's ttclid cookie and
    // _ttp come with it, with no other change here.
    destinations: destinationsFromEnv(env),
    // POST /capi/events: @capi-kit/browser's first-party relay. Each Pixel event the page fires is
    // forwarded through CAPI with the same event ID, so Meta dedups it and ad blockers lose nothing.
    relay: { allowEvents: [...STANDARD_EVENTS, RELAY_CUSTOM_EVENT] },
  });
  const app = express();
  // The contract's JSON (examples/shared): UTF-8 only, at most 100 KB, an empty body and
  // prototype-poisoning keys refused, as in every example; answerRefusedBody answers the refusals.
  app.use(express.json(bodyParserJsonOptions));
  app.use(tracking);

  app.get('/', (req, res) => {
    // One ID for both copies: rendered into the page's Pixel call and sent through CAPI.
    const event_id = req.capi.eventId();
    req.capi.track('PageView', { event_id });
    res.type('html').send(
      landingPage({
        pixelId: env.META_PIXEL_ID ?? '',
        eventId: event_id,
        scriptUrl: env.META_PIXEL_SCRIPT_URL,
        framework: 'Express',
        tiktok,
      }),
    );
  });

  app.post('/lead', (req, res) => {
    const parsed = readLead({ contentType: req.get('content-type'), body: req.body });
    if ('rejection' in parsed) {
      res.status(parsed.rejection.status).json(parsed.rejection.body);
      return;
    }
    const { event_id } = req.capi.track('Lead', { user_data: userDataOf(parsed.lead) });
    res.json({ event_id });
  });

  // trackConversion sends the Purchase only once the response has finished with a status < 400.
  app.post(
    '/purchase',
    trackConversion('Purchase', (_req, res) => res.locals.purchase),
    (req, res) => {
      const parsed = readPurchase({ contentType: req.get('content-type'), body: req.body });
      if ('rejection' in parsed) {
        res.status(parsed.rejection.status).json(parsed.rejection.body);
        return;
      }
      const event_id = purchaseEventId(parsed.purchase.order_id);
      res.locals.purchase = {
        event_id,
        user_data: userDataOf(parsed.purchase),
        custom_data: purchaseDataOf(parsed.purchase),
      };
      res.json({ event_id });
    },
  );

  app.use(answerRefusedBody);

  return { app, tracking };
}

/**
 * A body express.json() refused (too large, broken or empty JSON, a `__proto__` key) gets the
 * contract's answer, the same as in every example, rather than Express's HTML error page; other
 * errors go on to Express.
 * @param {unknown} error
 * @param {import('express').Request} _req
 * @param {import('express').Response} res
 * @param {import('express').NextFunction} next
 */
function answerRefusedBody(error, _req, res, next) {
  const rejection = bodyParserRejection(error);
  if (rejection === undefined) next(error);
  else res.status(rejection.status).json(rejection.body);
}

/** How long requests in flight may take to finish after shutdown begins before they are cut. */
export const SHUTDOWN_GRACE_MS = 10_000;
/** close()'s budget for delivering what is queued once the server has stopped. */
export const CAPI_CLOSE_TIMEOUT_MS = 5_000;

/**
 * Stops `server` the graceful way: no new connections, idle keep-alive sockets closed at once, each
 * busy one closed as soon as its response is done, and only after `graceMs` are the stragglers cut.
 * Resolves when every connection is gone.
 * @param {import('node:http').Server} server
 * @param {{ graceMs: number }} options
 */
function stopServer(server, { graceMs }) {
  const stopped = new Promise((resolve) => server.close(() => resolve(undefined)));
  // Node's close() closes the sockets idle right now; a keep-alive socket still busy would stay
  // open for keepAliveTimeout after its response. Tell its client not to reuse it, and close it
  // the moment it falls idle, so shutdown waits for the requests, not for the timeout.
  const closeWhenDone = (/** @type {import('node:http').ServerResponse} */ res) => {
    if (!res.headersSent) res.setHeader('connection', 'close');
    res.once('finish', () => setImmediate(() => server.closeIdleConnections()));
  };
  for (const res of inFlight.get(server) ?? []) closeWhenDone(res);
  server.on('request', (_req, res) => closeWhenDone(res));
  server.closeIdleConnections();
  const cut = setTimeout(() => server.closeAllConnections(), graceMs);
  return stopped.finally(() => clearTimeout(cut));
}

/** The responses each server is still writing, so shutdown can find them. */
const inFlight = new WeakMap();

/**
 * @param {import('node:http').Server} server
 */
function trackResponses(server) {
  /** @type {Set<import('node:http').ServerResponse>} */
  const open = new Set();
  inFlight.set(server, open);
  server.on('request', (_req, res) => {
    open.add(res);
    res.once('close', () => open.delete(res));
  });
}

/**
 * Starts the example on `env.PORT` (default 3000).
 * @param {Record<string, string | undefined>} env
 */
export async function start(env = process.env) {
  const { app, tracking } = createApp(env);
  const server = app.listen(Number(env.PORT ?? 3000));
  trackResponses(server);
  await once(server, 'listening');
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : Number(env.PORT);
  return {
    url: `http://127.0.0.1:${port}`,
    client: tracking.client,
    flush: () => tracking.client.flush(),
    /**
     * Graceful shutdown, in the order that loses nothing: stop accepting and let the requests in
     * flight finish (they track their events, trackConversion's on 'finish'), then close the client,
     * which delivers what is queued within its deadline. Closing the client first would refuse
     * those events (`closed`); cutting connections first would reset the uploads.
     * @param {{ graceMs?: number, timeoutMs?: number }} [options]
     */
    close: async ({ graceMs = SHUTDOWN_GRACE_MS, timeoutMs = CAPI_CLOSE_TIMEOUT_MS } = {}) => {
      await stopServer(server, { graceMs });
      await tracking.close({ timeoutMs });
    },
  };
}
