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
import { type CapiFastifyOptions, type CapiRouteConfig, capiPlugin } from '../src/index.js';

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
      return {};
    });
  });

  it('route config.capi is typed', () => {
    expectTypeOf<FastifyContextConfig['capi']>().toEqualTypeOf<CapiRouteConfig | undefined>();
    expectTypeOf<CapiRouteConfig['map']>().toEqualTypeOf<
      ((request: FastifyRequest, reply: FastifyReply) => TrackParams | undefined) | undefined
    >();
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
