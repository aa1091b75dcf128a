// @ts-check
import { once } from 'node:events';
import { STANDARD_EVENTS } from '@capi-kit/core';
import { capi, trackConversion } from '@capi-kit/express';
import {
  landingPage,
  parseLead,
  parsePurchase,
  parseTrustProxy,
  purchaseDataOf,
  purchaseEventId,
  userDataOf,
} from 'capi-kit-example-shared';
import express from 'express';

/** The custom event the example's relay accepts besides Meta's standard events. */
export const RELAY_CUSTOM_EVENT = 'CtaClick';

/**
 * The example app. `env` holds the contract's variables (examples/README.md); capi-kit reads
 * META_PIXEL_ID, META_ACCESS_TOKEN, META_GRAPH_URL and META_TEST_EVENT_CODE from it.
 * @param {Record<string, string | undefined>} env
 */
export function createApp(env = process.env) {
  const tracking = capi({
    env,
    trustProxy: parseTrustProxy(env.TRUST_PROXY),
    // POST /capi/events: @capi-kit/browser's first-party relay. Each Pixel event the page fires is
    // forwarded through CAPI with the same event ID, so Meta dedups it and ad blockers lose nothing.
    relay: { allowEvents: [...STANDARD_EVENTS, RELAY_CUSTOM_EVENT] },
  });
  const app = express();
  app.use(express.json());
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
      }),
    );
  });

  app.post('/lead', (req, res) => {
    const parsed = parseLead(req.body);
    if ('error' in parsed) {
      res.status(400).json(parsed);
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
      const parsed = parsePurchase(req.body);
      if ('error' in parsed) {
        res.status(400).json(parsed);
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

  return { app, tracking };
}

/**
 * Starts the example on `env.PORT` (default 3000).
 * @param {Record<string, string | undefined>} env
 */
export async function start(env = process.env) {
  const { app, tracking } = createApp(env);
  const server = app.listen(Number(env.PORT ?? 3000));
  await once(server, 'listening');
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : Number(env.PORT);
  return {
    url: `http://127.0.0.1:${port}`,
    client: tracking.client,
    flush: () => tracking.client.flush(),
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await tracking.close();
    },
  };
}
