import type { CapiClient, TrackParams, TrackResult } from '@capi-kit/core';
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
    expectTypeOf(TrackConversion).returns.toEqualTypeOf<MethodDecorator & ClassDecorator>();

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

  it('CapiService.track checks Purchase data and returns a TrackResult', () => {
    expectTypeOf<CapiService['track']>().returns.toEqualTypeOf<TrackResult>();
    const capi = {} as CapiService;
    const purchase = () =>
      capi.track({ event_name: 'Purchase', custom_data: { value: 1, currency: 'EUR' } });
    // @ts-expect-error a Purchase needs value and currency
    const incomplete = () => capi.track({ event_name: 'Purchase', custom_data: { value: 1 } });
    expectTypeOf(purchase).returns.toEqualTypeOf<TrackResult>();
    expectTypeOf(incomplete).toBeFunction();
  });
});
