import { describe, expectTypeOf, it } from 'vitest';
import {
  type BuildEventOptions,
  buildEvent,
  type CapiOptions,
  createCapi,
  type DateOrder,
  normalizeDateOfBirth,
  normalizeUserData,
  type TrackOptions,
  type UserDataOptions,
} from '../../src/index.js';

// Checked by `tsc -p packages/core/tsconfig.json`: every `@ts-expect-error` below must be an error.

describe('dateOrder types', () => {
  it('DateOrder is exactly the three orders', () => {
    expectTypeOf<DateOrder>().toEqualTypeOf<'dmy' | 'mdy' | 'ymd'>();
  });

  it('is optional wherever dates of birth are read, and takes only a DateOrder', () => {
    expectTypeOf<NonNullable<CapiOptions['buildOptions']>['dateOrder']>().toEqualTypeOf<
      DateOrder | undefined
    >();
    expectTypeOf<TrackOptions['dateOrder']>().toEqualTypeOf<DateOrder | undefined>();
    expectTypeOf<BuildEventOptions['dateOrder']>().toEqualTypeOf<DateOrder | undefined>();
    expectTypeOf<UserDataOptions['dateOrder']>().toEqualTypeOf<DateOrder | undefined>();

    const client = createCapi({
      pixelId: '1',
      accessToken: 'EAAtypes',
      env: false,
      buildOptions: { defaultCountry: 'GB', dateOrder: 'dmy' },
    });
    client.track(
      { event_name: 'Lead', action_source: 'system_generated', user_data: { db: '05/06/1990' } },
      { dateOrder: 'mdy' },
    );
    const lead = {
      event_name: 'Lead',
      action_source: 'system_generated',
      user_data: { db: '05/06/1990' },
    } as const;
    client.track(lead, {
      // @ts-expect-error: 'DMY' is not one of the orders
      dateOrder: 'DMY',
    });
    createCapi({
      pixelId: '1',
      accessToken: 'EAAtypes',
      env: false,
      buildOptions: {
        // @ts-expect-error: neither is a locale
        dateOrder: 'en-GB',
      },
    });
    buildEvent(lead, {
      // @ts-expect-error: nor a format string
      dateOrder: 'DD/MM/YYYY',
    });
    // @ts-expect-error: nor here
    normalizeUserData({ db: '05/06/1990' }, { dateOrder: 'md' });
    void client.close({ timeoutMs: 0 });
  });

  it('normalizeDateOfBirth takes the order as its third argument', () => {
    expectTypeOf(normalizeDateOfBirth).parameters.toEqualTypeOf<
      [value: string | Date, now?: number, dateOrder?: DateOrder]
    >();
    expectTypeOf(normalizeDateOfBirth('05/06/1990', Date.now(), 'dmy')).toEqualTypeOf<
      string | undefined
    >();
    // @ts-expect-error: not an order
    normalizeDateOfBirth('05/06/1990', Date.now(), 'yyyy');
  });
});
