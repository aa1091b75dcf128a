import type {
  CapiClient,
  RequestCapi,
  RequestContext,
  TrackParams,
  TrackResult,
} from '@capi-kit/core';
import Fastify, {
  type FastifyContextConfig,
  type FastifyPluginCallback,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify';
import { describe, expectTypeOf, it } from 'vitest';
import {
  type CapiFastifyOptions,
  type CapiRouteConfig,
  type CheckedRouteConversion,
  capiPlugin,
  type RouteConversionMap,
  routeConversion,
  type StandardRouteConversion,
} from '../src/index.js';

// Compiled by `tsc -p tsconfig.json`; at run time these are no-ops.
describe('types users rely on', () => {
  it('request.capi is typed on every FastifyRequest through declaration merging', () => {
    expectTypeOf<FastifyRequest['capi']>().toEqualTypeOf<RequestCapi>();
    const app = Fastify();
    expectTypeOf(app.capiClient).toEqualTypeOf<CapiClient>();
    app.post<{ Body: { email: string } }>('/lead', (request) => {
      expectTypeOf(
        request.capi.track('Lead', { user_data: { em: request.body.email } }),
      ).toEqualTypeOf<TrackResult>();
      expectTypeOf(request.capi.track('Lead', () => undefined)).toEqualTypeOf<TrackResult>();
      expectTypeOf(request.capi.track({ event_name: 'Lead' })).toEqualTypeOf<TrackResult>();
      expectTypeOf(request.capi.eventId()).toEqualTypeOf<string>();
      expectTypeOf(request.capi.context).toEqualTypeOf<RequestContext>();
      // @ts-expect-error custom_data.value is a number
      request.capi.track('Purchase', { custom_data: { value: '9.99', currency: 'USD' } });
      request.capi.track('Purchase', { custom_data: { value: 9.99, currency: 'USD' } });
      request.capi.track('Purchase', () => ({ custom_data: { value: 9.99, currency: 'USD' } }));
      request.capi.track('InitiateCheckout');
      request.capi.track('MyCustomEvent', { custom_data: { custom_properties: { seats: 3 } } });
      // @ts-expect-error a Purchase needs custom_data with value and currency
      request.capi.track('Purchase', {});
      // @ts-expect-error the same in the object form
      request.capi.track({ event_name: 'Purchase' });
      // @ts-expect-error lazy params of a Purchase too
      request.capi.track('Purchase', () => ({ custom_data: { value: 1 } }));
      // @ts-expect-error misspelled documented key
      request.capi.track('Purchase', { custom_data: { value: 1, curency: 'USD' } });
      return {};
    });
  });

  it('route config.capi is typed', () => {
    expectTypeOf<FastifyContextConfig['capi']>().toEqualTypeOf<CapiRouteConfig | undefined>();
    expectTypeOf<CapiRouteConfig>().toEqualTypeOf<
      StandardRouteConversion | CheckedRouteConversion
    >();
    expectTypeOf<RouteConversionMap>().toEqualTypeOf<
      (request: FastifyRequest, reply: FastifyReply) => TrackParams | undefined
    >();
    expectTypeOf<RouteConversionMap<'Purchase'>>().returns.toEqualTypeOf<TrackParams<'Purchase'>>();
    const app = Fastify();
    app.post(
      '/purchase',
      {
        config: {
          capi: {
            event: 'Purchase',
            map: (request, reply) => {
              expectTypeOf(request).toEqualTypeOf<FastifyRequest>();
              expectTypeOf(reply).toEqualTypeOf<FastifyReply>();
              return { custom_data: { value: 1, currency: 'USD' } };
            },
          },
        },
      },
      () => ({}),
    );
    // @ts-expect-error the event name is required
    app.get('/a', { config: { capi: { map: () => undefined } } }, () => ({}));
    // @ts-expect-error map returns event params, not a promise
    const viaConst: CapiRouteConfig = { event: 'Lead', map: async () => ({ event_id: 'x' }) };
    expectTypeOf(viaConst).toEqualTypeOf<CapiRouteConfig>();
  });

  it('route config.capi is typed by the event name', () => {
    const route = (capi: CapiRouteConfig) => Fastify().post('/r', { config: { capi } }, () => ({}));
    route({ event: 'Lead' });
    route({ event: 'ViewContent', map: () => undefined });
    route({ event: 'Purchase', map: () => ({ custom_data: { value: 1, currency: 'USD' } }) });
    route(routeConversion('MyCustomEvent'));
    route(
      routeConversion('MyCustomEvent', (request) => ({
        custom_data: { custom_properties: { path: request.url } },
      })),
    );
    route(routeConversion('Purchase', () => ({ custom_data: { value: 1, currency: 'USD' } })));
    // @ts-expect-error a Purchase map must return currency
    route({ event: 'Purchase', map: () => ({ custom_data: { value: 1 } }) });
    // @ts-expect-error and must return something
    route({ event: 'Purchase', map: () => undefined });
    // @ts-expect-error a Purchase without a map has no value
    route({ event: 'Purchase' });
    // @ts-expect-error misspelled documented key
    route({ event: 'Lead', map: () => ({ custom_data: { curency: 'USD' } }) });
    // @ts-expect-error a custom name inline: custom events go through routeConversion
    route({ event: 'MyCustomEvent', map: () => ({}) });
    // @ts-expect-error routeConversion types the map by the name too
    route(routeConversion('Purchase', () => ({ custom_data: { value: 1 } })));
    // @ts-expect-error a Purchase needs its map
    route(routeConversion('Purchase'));
    // Inline, in the route options (contextually typed, as users write it).
    Fastify().post(
      '/inline',
      // @ts-expect-error a Purchase map without currency, written in the route options
      { config: { capi: { event: 'Purchase', map: () => ({ custom_data: { value: 1 } }) } } },
      () => ({}),
    );
  });

  it('the plugin takes the core options', () => {
    expectTypeOf(capiPlugin).toEqualTypeOf<FastifyPluginCallback<CapiFastifyOptions>>();
    expectTypeOf<CapiFastifyOptions>().toHaveProperty('trustProxy');
    expectTypeOf<CapiFastifyOptions>().toHaveProperty('consent');
    expectTypeOf<CapiFastifyOptions['client']>().toEqualTypeOf<CapiClient | undefined>();
    // Type-checked only: registering creates a client, which needs credentials.
    const calls = async () => {
      const app = Fastify();
      await app.register(capiPlugin, { pixelId: '1', accessToken: 't', trustProxy: 'loopback' });
      await app.register(capiPlugin, { client: app.capiClient });
      // @ts-expect-error a misspelled option is caught
      await app.register(capiPlugin, { pixelID: '1' });
    };
    expectTypeOf(calls).toBeFunction();
  });
});
