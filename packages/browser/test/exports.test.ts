import { describe, expect, expectTypeOf, it } from 'vitest';
import type {
  CustomData,
  EventName,
  Pixel,
  PixelOptions,
  RelayEvent,
  RelayPayload,
  StandardEventName,
  TikTokOptions,
  TikTokPixelProperties,
  TrackOptions,
} from '../src/index.js';
import * as browser from '../src/index.js';

describe('public API', () => {
  it('exports these runtime names, no more', () => {
    expect(Object.keys(browser).sort()).toEqual([
      'DEFAULT_RELAY_PATH',
      'DEFAULT_SCRIPT_URL',
      'RELAY_PROTOCOL_VERSION',
      'createPixel',
      'eventId',
      'toTikTokPixelEvent',
      'trackTikTok',
    ]);
    expect(browser.DEFAULT_RELAY_PATH).toBe('/capi/events');
    expect(browser.DEFAULT_SCRIPT_URL).toBe('https://connect.facebook.net/en_US/fbevents.js');
    expect(browser.RELAY_PROTOCOL_VERSION).toBe(1);
  });

  it('types what users rely on', () => {
    expectTypeOf(browser.createPixel).parameter(0).toEqualTypeOf<PixelOptions>();
    expectTypeOf(browser.createPixel).returns.toEqualTypeOf<Pixel>();
    expectTypeOf<Pixel['pageView']>().returns.toBeString();
    expectTypeOf<Pixel['eventId']>().returns.toBeString();
    expectTypeOf<PixelOptions['relay']>().toEqualTypeOf<string | false | undefined>();
    expectTypeOf<'Purchase'>().toExtend<StandardEventName>();
    expectTypeOf<'purchase'>().not.toExtend<StandardEventName>();
    expectTypeOf<'MyCustomEvent'>().toExtend<EventName>();
    expectTypeOf<RelayPayload['v']>().toEqualTypeOf<1>();
    expectTypeOf<RelayEvent['custom_data']>().toEqualTypeOf<CustomData | undefined>();
    expectTypeOf<PixelOptions['tiktok']>().toEqualTypeOf<boolean | TikTokOptions | undefined>();
    expectTypeOf<TrackOptions['tiktok']>().toEqualTypeOf<boolean | undefined>();
    expectTypeOf(browser.trackTikTok).returns.toBeBoolean();
    expectTypeOf(browser.toTikTokPixelEvent).returns.toEqualTypeOf<{
      event: string;
      properties: TikTokPixelProperties;
    }>();
    expectTypeOf<CustomData['content_type']>().toEqualTypeOf<
      'product' | 'product_group' | undefined
    >();
  });

  it('checks custom_data at compile time', () => {
    // Type-level only: the calls are never made.
    const typeCheck = (pixel: Pixel) => {
      pixel.track('Purchase', { value: 10, currency: 'USD', contents: [{ id: 'a', quantity: 2 }] });
      // @ts-expect-error Meta requires value and currency on Purchase
      pixel.track('Purchase');
      // @ts-expect-error Meta requires value and currency on Purchase
      pixel.track('Purchase', { value: 10 });
      // @ts-expect-error value is a number
      pixel.track('AddToCart', { value: '10' });
      // @ts-expect-error content_ids are strings
      pixel.track('ViewContent', { content_ids: [1] });
      pixel.track('Lead');
      pixel.track('Search', { search_string: 'shoes', my_param: true }, { eventID: 'id' });
      pixel.track('SomethingCustom', { anything: 1 });
      pixel.trackCustom('SomethingCustom');
      // @ts-expect-error eventID is a string
      pixel.pageView({ eventID: 1 });
    };
    expect(typeCheck).toBeTypeOf('function');
  });
});
