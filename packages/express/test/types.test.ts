import type {
  CapiClient,
  RequestCapi,
  RequestContext,
  TrackParams,
  TrackParamsOrNone,
  TrackResult,
} from '@capi-kit/core';
import express, { type Request, type RequestHandler, type Response } from 'express';
import { describe, expectTypeOf, it } from 'vitest';
import {
  type CapiExpressOptions,
  type CapiMiddleware,
  capi,
  trackConversion,
} from '../src/index.js';

// Compiled by `tsc -p tsconfig.json`; at run time these are no-ops.
describe('types users rely on', () => {
  it('req.capi is typed on every express.Request through declaration merging', () => {
    expectTypeOf<Request['capi']>().toEqualTypeOf<RequestCapi>();
    expectTypeOf<Express.Request['capi']>().toEqualTypeOf<RequestCapi>();
    const app = express();
    app.post('/lead', (req, res) => {
      expectTypeOf(req.capi.track('Lead')).toEqualTypeOf<TrackResult>();
      expectTypeOf(
        req.capi.track('Lead', { user_data: { em: 'a@b.c' } }),
      ).toEqualTypeOf<TrackResult>();
      expectTypeOf(req.capi.track('Lead', () => undefined)).toEqualTypeOf<TrackResult>();
      expectTypeOf(req.capi.track({ event_name: 'Lead' })).toEqualTypeOf<TrackResult>();
      expectTypeOf(req.capi.eventId()).toEqualTypeOf<string>();
      expectTypeOf(req.capi.context).toEqualTypeOf<RequestContext>();
      // @ts-expect-error custom_data.value is a number
      req.capi.track('Purchase', { custom_data: { value: '9.99', currency: 'USD' } });
      // @ts-expect-error the name is the first argument, not a params field
      req.capi.track('Lead', { event_name: 'Purchase' });
      res.end();
    });
  });

  it('capi() takes the core options and returns a middleware with its client', () => {
    expectTypeOf(capi).parameter(0).toEqualTypeOf<CapiExpressOptions | undefined>();
    expectTypeOf(capi).returns.toEqualTypeOf<CapiMiddleware>();
    expectTypeOf<CapiMiddleware>().toExtend<RequestHandler>();
    expectTypeOf<CapiMiddleware['client']>().toEqualTypeOf<CapiClient>();
    expectTypeOf<CapiMiddleware['close']>().returns.toEqualTypeOf<Promise<void>>();
    expectTypeOf<CapiExpressOptions>().toHaveProperty('trustProxy');
    expectTypeOf<CapiExpressOptions>().toHaveProperty('consent');
    expectTypeOf<CapiExpressOptions['client']>().toEqualTypeOf<CapiClient | undefined>();
    // Type-checked only: creating a client needs credentials.
    const calls = () => {
      capi({ pixelId: '1', accessToken: 't', trustProxy: ['loopback', '10.0.0.0/8'] });
      capi({ client: capi().client });
      // @ts-expect-error a misspelled option is caught
      capi({ pixelID: '1' });
      // @ts-expect-error trustProxy takes a boolean, a hop count or addresses
      capi({ trustProxy: { loopback: true } });
    };
    expectTypeOf(calls).toBeFunction();
  });

  it('req.capi.track is generic over the event name', () => {
    const app = express();
    app.post('/checkout', (req, res) => {
      req.capi.track('Purchase', { custom_data: { value: 9.99, currency: 'USD' } });
      req.capi.track({ event_name: 'Purchase', custom_data: { value: 9.99, currency: 'USD' } });
      req.capi.track('Purchase', () => ({ custom_data: { value: 9.99, currency: 'USD' } }));
      req.capi.track('AddToCart');
      req.capi.track('ViewContent', { event_id: 'e1' });
      req.capi.track('MyCustomEvent', { custom_data: { custom_properties: { plan: 'pro' } } });
      req.capi.track('Lead', {
        custom_data: { value: 1, currency: 'EUR', custom_properties: { source: 'footer' } },
      });
      // @ts-expect-error a Purchase needs custom_data with value and currency
      req.capi.track('Purchase', {});
      // @ts-expect-error the same in the object form
      req.capi.track({ event_name: 'Purchase' });
      // @ts-expect-error lazy params of a Purchase too
      req.capi.track('Purchase', () => ({ custom_data: { value: 1 } }));
      // @ts-expect-error misspelled documented key
      req.capi.track('Purchase', { custom_data: { value: 1, curency: 'USD' } });
      // @ts-expect-error custom keys go in custom_data.custom_properties
      req.capi.track('Lead', { custom_data: { plan: 'pro' } });
      res.end();
    });
  });

  it('trackConversion maps (req, res) to event params', () => {
    type Map = NonNullable<Parameters<typeof trackConversion>[1]>;
    expectTypeOf<Map>().parameters.toEqualTypeOf<[Request, Response]>();
    expectTypeOf<Map>().returns.toEqualTypeOf<TrackParams | undefined>();
    expectTypeOf<
      NonNullable<Parameters<typeof trackConversion<'Purchase'>>[1]>
    >().returns.toEqualTypeOf<TrackParamsOrNone<'Purchase'>>();
    trackConversion('Purchase', () => ({ custom_data: { value: 1, currency: 'USD' } }));
    trackConversion('Lead', () => undefined);
    trackConversion('MyCustomEvent', (req) => ({
      custom_data: { custom_properties: { path: req.path } },
    }));
    // @ts-expect-error a Purchase map must return value and currency
    trackConversion('Purchase', () => ({ custom_data: { value: 1 } }));
    // @ts-expect-error and must return them: not nothing
    trackConversion('Purchase', () => undefined);
    // @ts-expect-error misspelled documented key in a map
    trackConversion('Lead', () => ({ custom_data: { curency: 'USD' } }));
    expectTypeOf(trackConversion('Lead')).toEqualTypeOf<RequestHandler>();
    trackConversion('Purchase', (_req, res) => res.locals.purchase);
    trackConversion('MyCustomEvent');
    // @ts-expect-error a Purchase needs a map: its value and currency come from the request
    trackConversion('Purchase');
    // @ts-expect-error map returns event params, not a promise
    trackConversion('Purchase', async () => ({ event_id: 'x' }));
  });
});
