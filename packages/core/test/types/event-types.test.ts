import { describe, expectTypeOf, it } from 'vitest';
import {
  type ACTION_SOURCES,
  type ActionSource,
  type BuildEventResult,
  buildEvent,
  type CustomData,
  type CustomDataFields,
  type CustomDataInput,
  type EventName,
  type PurchaseCustomData,
  type ServerEvent,
  type ServerEventInput,
  type STANDARD_EVENTS,
  type StandardEventName,
} from '../../src/event/index.js';
import {
  type HASHED_USER_DATA_KEYS,
  type HashedUserDataKey,
  hashUserData,
  type NormalizedUserData,
  normalizeUserData,
  type PLAIN_USER_DATA_KEYS,
  type PlainUserDataKey,
  type UserData,
  type UserDataInput,
} from '../../src/user-data/index.js';

// Checked by `tsc -p packages/core/tsconfig.json`: every `@ts-expect-error` below must be an error.
// At run time these calls only build (mostly rejected) events; nothing is sent.

const user_data = { em: 'a@example.com', client_user_agent: 'UA' };
const event_source_url = 'https://shop.example/';

describe('ServerEventInput', () => {
  it('types a Purchase custom_data: value (number) and currency required', () => {
    buildEvent({
      event_name: 'Purchase',
      event_source_url,
      user_data,
      custom_data: { value: 12.5, currency: 'EUR' },
    });

    // @ts-expect-error custom_data lacks value and currency
    buildEvent({ event_name: 'Purchase', event_source_url, user_data, custom_data: {} });

    // @ts-expect-error a Purchase needs custom_data
    buildEvent({ event_name: 'Purchase', event_source_url, user_data });

    buildEvent({
      event_name: 'Purchase',
      event_source_url,
      user_data,
      // @ts-expect-error value must be a number
      custom_data: { value: '12.50', currency: 'EUR' },
    });

    expectTypeOf<ServerEventInput<'Purchase'>['custom_data']>().toEqualTypeOf<PurchaseCustomData>();
    expectTypeOf<PurchaseCustomData['value']>().toEqualTypeOf<number>();
    expectTypeOf<PurchaseCustomData['currency']>().toEqualTypeOf<string>();
  });

  it('leaves other and custom event names free', () => {
    buildEvent({ event_name: 'Lead', event_source_url, user_data });
    buildEvent({
      event_name: 'MyCustomEvent',
      event_source_url,
      user_data,
      custom_data: { custom_properties: { plan: 'pro' } },
    });
    buildEvent({
      event_name: 'ViewContent',
      event_source_url,
      user_data,
      custom_data: { content_ids: ['a'] },
    });
    expectTypeOf<ServerEventInput<'Lead'>['custom_data']>().toEqualTypeOf<
      CustomDataInput | undefined
    >();
    expectTypeOf<ServerEventInput<'Signup'>['custom_data']>().toEqualTypeOf<
      CustomDataInput | undefined
    >();
  });

  it('takes custom parameters in custom_properties, and only there', () => {
    buildEvent({
      event_name: 'Purchase',
      event_source_url,
      user_data,
      custom_data: {
        value: 1,
        currency: 'USD',
        custom_properties: { coupon: 'SPRING', bundle: { size: 3 } },
      },
    });
    buildEvent({
      event_name: 'Purchase',
      event_source_url,
      user_data,
      // @ts-expect-error a custom key directly in custom_data (it goes in custom_properties)
      custom_data: { value: 1, currency: 'USD', coupon: 'SPRING' },
    });
    buildEvent({
      event_name: 'Purchase',
      event_source_url,
      user_data,
      // @ts-expect-error misspelled documented key
      custom_data: { value: 1, curency: 'USD' },
    });
    buildEvent({
      event_name: 'Lead',
      event_source_url,
      user_data,
      // @ts-expect-error misspelled documented key, on any event
      custom_data: { conten_ids: ['a'] },
    });
    buildEvent({
      event_name: 'Lead',
      event_source_url,
      user_data,
      // @ts-expect-error documented fields keep their types
      custom_data: { num_items: 'three' },
    });
    expectTypeOf<keyof CustomDataInput>().toEqualTypeOf<
      keyof CustomDataFields | 'custom_properties'
    >();
  });

  it('keeps the wire type open: Meta receives custom parameters as custom_data keys', () => {
    expectTypeOf<ServerEvent['custom_data']>().toEqualTypeOf<CustomData | undefined>();
    expectTypeOf<CustomData['coupon']>().toEqualTypeOf<unknown>();
    expectTypeOf<CustomData>().toExtend<CustomDataFields>();
  });

  it('rejects unknown keys in a user_data object literal', () => {
    // @ts-expect-error `email` is not a Meta key (it is `em`)
    buildEvent({ event_name: 'Lead', event_source_url, user_data: { email: 'a@example.com' } });
    // @ts-expect-error `phone` is not a Meta key (it is `ph`)
    hashUserData({ phone: '+1 650 555 1212' });
    // @ts-expect-error unknown key
    normalizeUserData({ em: 'a@example.com', first_name: 'Mary' });
  });

  it('types raw user_data values: strings or lists for hashed keys, Date for db', () => {
    hashUserData({
      em: ['a@example.com', 'b@example.com'],
      ph: '+1 650 555 1212',
      db: new Date('1997-02-16'),
      fn: undefined,
      ln: null,
      client_ip_address: '203.0.113.7',
      fb_login_id: 1234,
    });
    // @ts-expect-error client_ip_address is a single value, never a list
    hashUserData({ client_ip_address: ['203.0.113.7'] });
    // @ts-expect-error only db takes a Date
    hashUserData({ em: new Date() });
    expectTypeOf<UserDataInput['em']>().toEqualTypeOf<
      string | readonly string[] | null | undefined
    >();
  });

  it('checks action_source, LDU values and opt_out', () => {
    // @ts-expect-error not an action source
    buildEvent({ event_name: 'Lead', action_source: 'web', user_data });
    buildEvent({
      event_name: 'Lead',
      user_data,
      data_processing_options: ['LDU'],
      // @ts-expect-error country is 0 or 1
      data_processing_options_country: 2,
    });
    // @ts-expect-error opt_out is a boolean
    buildEvent({ event_name: 'Lead', user_data, opt_out: 'yes' });
    buildEvent({
      event_name: 'Lead',
      user_data,
      action_source: 'physical_store',
      event_time: new Date(),
      data_processing_options: ['LDU'],
      data_processing_options_country: 1,
      data_processing_options_state: 1000,
    });
  });

  it('accepts explicit undefined for optional fields (exactOptionalPropertyTypes)', () => {
    const maybeUrl: string | undefined = undefined;
    const maybeFbc: string | undefined = undefined;
    buildEvent({
      event_name: 'PageView',
      event_source_url: maybeUrl,
      user_data: { fbc: maybeFbc },
    });
  });

  it('keeps wide (non-literal) inputs usable, as adapters pass them', () => {
    const input: ServerEventInput = { event_name: 'Lead', user_data };
    buildEvent(input);
    const named = (name: EventName): ServerEventInput => ({ event_name: name, user_data });
    buildEvent(named('Purchase'));
  });
});

describe('names and wire types', () => {
  it('autocompletes standard names but accepts any string', () => {
    expectTypeOf<'Purchase'>().toExtend<EventName>();
    expectTypeOf<string>().toExtend<EventName>();
    expectTypeOf<(typeof STANDARD_EVENTS)[number]>().toEqualTypeOf<StandardEventName>();
    expectTypeOf<(typeof ACTION_SOURCES)[number]>().toEqualTypeOf<ActionSource>();
  });

  it('lists every user_data key exactly once', () => {
    expectTypeOf<(typeof HASHED_USER_DATA_KEYS)[number]>().toEqualTypeOf<HashedUserDataKey>();
    expectTypeOf<(typeof PLAIN_USER_DATA_KEYS)[number]>().toEqualTypeOf<PlainUserDataKey>();
    expectTypeOf<HashedUserDataKey | PlainUserDataKey>().toEqualTypeOf<keyof UserData>();
    expectTypeOf<keyof UserDataInput>().toEqualTypeOf<keyof UserData>();
  });

  it('returns the wire event: hashed keys as string lists', () => {
    expectTypeOf(buildEvent).returns.toEqualTypeOf<BuildEventResult>();
    expectTypeOf<BuildEventResult['event']>().toEqualTypeOf<ServerEvent | undefined>();
    expectTypeOf<ServerEvent['user_data']>().toEqualTypeOf<UserData>();
    expectTypeOf<UserData['em']>().toEqualTypeOf<string[] | undefined>();
    expectTypeOf<UserData['client_ip_address']>().toEqualTypeOf<string | undefined>();
    expectTypeOf<ServerEvent['event_time']>().toEqualTypeOf<number>();
    expectTypeOf<ServerEvent['event_id']>().toEqualTypeOf<string>();
    expectTypeOf<ServerEvent['action_source']>().toEqualTypeOf<ActionSource>();
    expectTypeOf(hashUserData).returns.toEqualTypeOf<UserData>();
    expectTypeOf(normalizeUserData).returns.toEqualTypeOf<NormalizedUserData>();
  });
});
