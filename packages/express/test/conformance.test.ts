import { createCapi } from '@capi-kit/core';
import * as kit from '@capi-kit/testing/adapter-kit';
import type { ErrorRequestHandler } from 'express';
import { type CapiExpressOptions, capi, trackConversion } from '../src/index.js';
import { finishTracker, listen, MAJORS } from './fixtures.js';

// The behaviour every adapter shares, from @capi-kit/testing's conformance kit, on both majors.
// This file is only the translation: the kit's routes written the Express way.

const WITHOUT_PARSER = 'without a body parser';

const expressDriver = ({ name, express }: (typeof MAJORS)[number]): kit.AdapterDriver => ({
  name,
  // csrf and session before capi() (a raw setHeader and res.cookie), theme and lang after it.
  cookieOrder: ['csrf', 'session', '_fbp', '_fbc', 'theme', 'lang'],
  relayVariants: [
    { name: WITHOUT_PARSER, parsesJsonFirst: false },
    // express.json() keeps no bytes: the relay can only measure what it parsed.
    { name: 'after express.json()', parsesJsonFirst: true },
  ],
  errorSources: { map: 'Purchase params', track: 'Purchase track' },
  createClient: (options) => createCapi(options),
  async start({ capi: options, variant }): Promise<kit.KitApp> {
    const tracking = capi(options as CapiExpressOptions);
    const finished = finishTracker();
    const app = express();
    if (variant !== WITHOUT_PARSER) app.use(express.json());
    app.use('/kit/cookies', (_req, res, next) => {
      res.setHeader('Set-Cookie', ['csrf=1; Path=/']);
      res.cookie('session', 'abc', { httpOnly: true });
      next();
    });
    app.use(tracking);
    // The relay answers before the app's own routes on its path.
    app.get('/capi/events', (_req, res) => {
      res.send('never reached');
    });
    app.all('/kit/call', async (req, res) => {
      res.json(await kit.answerKitCall(req.get('x-kit-call'), req.capi));
    });
    app.get('/kit/cookies', (_req, res) => {
      res.cookie('theme', 'dark');
      res.append('Set-Cookie', 'lang=en; Path=/');
      res.send('ok');
    });
    const purchase = trackConversion('Purchase', (_req, res) => res.locals.purchase);
    app.post('/kit/purchase', purchase, finished.middleware, (req, res) => {
      const status = Number(req.query.status ?? 200);
      res.locals.purchase = kit.KIT_PURCHASE;
      res.status(status).json({ ok: status < 400 });
    });
    app.post('/kit/throws', purchase, finished.middleware, () => {
      throw new Error('handler failed');
    });
    const badMap = trackConversion('Purchase', () => {
      throw new Error('map exploded');
    });
    app.post('/kit/bad-map', badMap, finished.middleware, (_req, res) => {
      res.status(201).json({ created: true });
    });
    app.get('/kit/view', trackConversion('ViewContent'), finished.middleware, (_req, res) => {
      res.type('text/plain').send('view');
    });
    const noMap = trackConversion('CompleteRegistration');
    app.post('/kit/no-map', noMap, finished.middleware, (_req, res) => {
      res.json({ ok: true });
    });
    // The types reject a Purchase without currency; JavaScript callers reach this run-time path.
    const invalid = trackConversion('Purchase', () => kit.KIT_INVALID_PURCHASE as never);
    app.post('/kit/invalid-purchase', invalid, finished.middleware, (_req, res) => {
      res.json({ ok: true });
    });
    app.post('/capi/other', express.json(), (req, res) => {
      res.json({ n: req.body.n });
    });
    app.use(((_error, _req, res, _next) => {
      res.status(500).json({ error: 'internal' });
    }) as ErrorRequestHandler);
    const running = await listen(app);
    return {
      url: running.url,
      client: tracking.client,
      settled: async () => {
        await finished.settled();
      },
      close: async () => {
        await running.close();
        await tracking.close();
      },
    };
  },
});

for (const major of MAJORS) kit.describeAdapterConformance(expressDriver(major));
