import type {
  CapiClient,
  RequestCapi,
  TrackParams,
  TrackParamsOrNone,
  TrackResult,
} from '@capi-kit/core';
import type { DynamicModule } from '@nestjs/common';
import { describe, expectTypeOf, it } from 'vitest';
import {
  CapiModule,
  type CapiModuleAsyncOptions,
  type CapiModuleRootOptions,
  type CapiService,
  TrackConversion,
  type TrackConversionOptions,
} from '../src/index.js';

interface Order {
  id: string;
  total: number;
}
interface ExpressLikeRequest {
  headers: Record<string, string | string[] | undefined>;
}

describe('types users rely on', () => {
  it('forRoot takes the core options plus isGlobal and shutdownTimeoutMs', () => {
    expectTypeOf(CapiModule.forRoot)
      .parameter(0)
      .toEqualTypeOf<CapiModuleRootOptions | undefined>();
    expectTypeOf(CapiModule.forRoot).returns.toEqualTypeOf<DynamicModule>();
    expectTypeOf<CapiModuleRootOptions['isGlobal']>().toEqualTypeOf<boolean | undefined>();
    expectTypeOf<CapiModuleRootOptions['shutdownTimeoutMs']>().toEqualTypeOf<number | undefined>();
    expectTypeOf<CapiModuleRootOptions['client']>().toEqualTypeOf<CapiClient | undefined>();
    expectTypeOf<CapiModuleRootOptions>().toHaveProperty('pixelId');
    expectTypeOf<CapiModuleRootOptions>().toHaveProperty('trustProxy');
    expectTypeOf<CapiModuleRootOptions>().toHaveProperty('consent');
    CapiModule.forRoot({
      pixelId: '1',
      accessToken: 't',
      trustProxy: ['loopback'],
      isGlobal: true,
    });
    // @ts-expect-error a misspelled option is caught
    CapiModule.forRoot({ pixelID: '1' });
    // @ts-expect-error milliseconds, not a string
    CapiModule.forRoot({ shutdownTimeoutMs: '5s' });
  });

  it('forRootAsync factories must produce module options', () => {
    expectTypeOf(CapiModule.forRootAsync).parameter(0).toEqualTypeOf<CapiModuleAsyncOptions>();
    CapiModule.forRootAsync({ useFactory: async () => ({ pixelId: '1' }) });
    // @ts-expect-error useClass must implement CapiOptionsFactory
    CapiModule.forRootAsync({ useClass: class NotAFactory {} });
  });

  it('@TrackConversion map returns event fields (TrackParams) and gets the typed result', () => {
    type Map = NonNullable<TrackConversionOptions<Order, ExpressLikeRequest>['map']>;
    expectTypeOf<Map>().parameters.toEqualTypeOf<[Order, ExpressLikeRequest]>();
    expectTypeOf<Map>().returns.toEqualTypeOf<TrackParams | undefined>();
    expectTypeOf<TrackParams>().toHaveProperty('user_data');
    expectTypeOf<TrackParams>().toHaveProperty('custom_data');
    expectTypeOf<TrackParams['event_id']>().toEqualTypeOf<string | undefined>();
    expectTypeOf(TrackConversion('Lead')).toEqualTypeOf<MethodDecorator & ClassDecorator>();

    TrackConversion('Purchase', {
      map: (order: Order) => ({
        event_id: order.id,
        custom_data: { value: order.total, currency: 'EUR' },
      }),
      when: (order: Order) => order.total > 0,
    });
    // @ts-expect-error the result is `unknown` until typed
    TrackConversion('Purchase', { map: (order) => ({ event_id: order.id }) });
    // @ts-expect-error map returns event fields, not custom_data's
    TrackConversion('Purchase', { map: () => ({ value: 1 }) });
    // @ts-expect-error user_data keys are Meta's (em), not `email`
    TrackConversion('Lead', { map: () => ({ user_data: { email: 'a@example.com' } }) });
    // @ts-expect-error event_name comes from the decorator
    TrackConversion('Lead', { map: () => ({ event_name: 'Purchase' }) });
    // @ts-expect-error when returns a boolean
    TrackConversion('Lead', { when: () => 'yes' });
  });

  it('@TrackConversion is typed by the event name', () => {
    expectTypeOf<
      NonNullable<TrackConversionOptions<Order, ExpressLikeRequest, 'Purchase'>['map']>
    >().returns.toEqualTypeOf<TrackParamsOrNone<'Purchase'>>();
    TrackConversion('Lead');
    TrackConversion('ViewContent', { when: () => true });
    TrackConversion('MyCustomEvent', {
      map: (order: Order) => ({ custom_data: { custom_properties: { order_total: order.total } } }),
    });
    // Explicit type arguments keep compiling (the name is then not inferred).
    TrackConversion<Order>('Lead', { map: (order) => ({ event_id: order.id }) });
    TrackConversion('Purchase', {
      // @ts-expect-error a Purchase map must return currency
      map: (order: Order) => ({ custom_data: { value: order.total } }),
    });
    // @ts-expect-error nor may it return nothing
    TrackConversion('Purchase', { map: () => undefined });
    // @ts-expect-error a Purchase needs a map
    TrackConversion('Purchase');
    // @ts-expect-error misspelled documented key
    TrackConversion('Lead', { map: () => ({ custom_data: { curency: 'EUR' } }) });
    // @ts-expect-error custom keys go in custom_properties
    TrackConversion('MyCustomEvent', { map: () => ({ custom_data: { plan: 'pro' } }) });
  });

  it('@CapiContext() capi.track is generic over the event name', () => {
    const handler = (capi: RequestCapi) => {
      capi.track('Purchase', { custom_data: { value: 1, currency: 'EUR' } });
      capi.track('MyCustomEvent', { custom_data: { custom_properties: { plan: 'pro' } } });
      capi.track('Lead', () => undefined);
      // @ts-expect-error a Purchase needs custom_data with value and currency
      capi.track('Purchase', {});
      // @ts-expect-error the same in the object form
      capi.track({ event_name: 'Purchase' });
      // @ts-expect-error lazy params of a Purchase too
      capi.track('Purchase', () => ({ custom_data: { value: 1 } }));
      // @ts-expect-error misspelled documented key
      capi.track('Purchase', { custom_data: { value: 1, curency: 'EUR' } });
    };
    expectTypeOf(handler).toBeFunction();
  });

  it('CapiService.track checks Purchase data and returns a TrackResult', () => {
    expectTypeOf<CapiService['track']>().returns.toEqualTypeOf<TrackResult>();
    const capi = {} as CapiService;
    const purchase = () =>
      capi.track({ event_name: 'Purchase', custom_data: { value: 1, currency: 'EUR' } });
    // @ts-expect-error a Purchase needs value and currency
    const incomplete = () => capi.track({ event_name: 'Purchase', custom_data: { value: 1 } });
    const calls = (request: object) => {
      capi.track({ event_name: 'MyCustomEvent', custom_data: { custom_properties: { a: 1 } } });
      capi.track({ event_name: 'Lead' }, request);
      // @ts-expect-error a Purchase needs custom_data
      capi.track({ event_name: 'Purchase' }, request);
      // @ts-expect-error misspelled documented key
      capi.track({ event_name: 'Lead', custom_data: { curency: 'EUR' } });
    };
    expectTypeOf(calls).toBeFunction();
    expectTypeOf(purchase).returns.toEqualTypeOf<TrackResult>();
    expectTypeOf(incomplete).toBeFunction();
  });
});
