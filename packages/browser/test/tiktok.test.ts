import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { STANDARD_EVENTS } from '../../core/src/event/standard-event-names.js';
import { TIKTOK_EVENT_NAMES, tiktokEventName } from '../../tiktok/src/event-names.js';
import { toTikTokProperties } from '../../tiktok/src/properties.js';
import type { CustomData, PixelOptions, PurchaseData } from '../src/index.js';
import {
  type FakeBrowser,
  fakeBrowser,
  freshModule,
  nextTick,
  resetBrowser,
} from './fake-browser.js';
import { serverRelay } from './server-relay.js';

const PIXEL = '1234567890';
let browser: FakeBrowser;
let module: Awaited<ReturnType<typeof freshModule>>;

/** A TikTok Pixel stand-in on `window.ttq` that records every `track` call. */
function installTtq(track: (...args: unknown[]) => void = () => {}) {
  const calls: unknown[][] = [];
  (globalThis as { ttq?: unknown }).ttq = {
    track: (...args: unknown[]) => {
      calls.push(args);
      track(...args);
    },
  };
  return calls;
}

beforeEach(async () => {
  browser = fakeBrowser();
  module = await freshModule();
});
afterEach(() => {
  delete (globalThis as { ttq?: unknown }).ttq;
  resetBrowser();
});

/** The eventID of each `fbq('track…')` call, in order (the first queued call is `init`). */
const fbqEventIds = () =>
  browser
    .fbq()
    .queue.filter(([method]) => String(method).startsWith('track'))
    .map((call) => (call.at(-1) as { eventID: string }).eventID);

describe('the TikTok Pixel copy of each event', () => {
  it('gets the same event_id as fbq and the relay, with TikTok names and properties', async () => {
    const ttq = installTtq();
    const pixel = module.createPixel({ pixelId: PIXEL });
    const cart = pixel.track('AddToCart', {
      contents: [{ id: 'sku-1', quantity: 2, item_price: 4.75, title: 'Socks' }],
      content_type: 'product',
      value: 9.5,
      currency: 'eur',
      num_items: 2,
    });
    const lead = pixel.track('Lead', { content_name: 'newsletter' });
    const view = pixel.pageView();
    await nextTick();

    expect(ttq).toEqual([
      [
        'AddToCart',
        {
          contents: [{ content_id: 'sku-1', quantity: 2, price: 4.75, content_name: 'Socks' }],
          content_type: 'product',
          value: 9.5,
          currency: 'EUR',
        },
        { event_id: cart },
      ],
      ['Lead', { description: 'newsletter' }, { event_id: lead }],
      ['PageView', {}, { event_id: view }],
    ]);
    expect(fbqEventIds()).toEqual([cart, lead, view]);
    const [payload] = await browser.relayed();
    // The relay keeps Meta's names: the server maps them for each destination.
    expect(payload!.events.map((e) => [e.event_name, e.event_id])).toEqual([
      ['AddToCart', cart],
      ['Lead', lead],
      ['PageView', view],
    ]);
  });

  it('keeps a given eventID, and maps by name whichever method fired it', () => {
    const ttq = installTtq();
    const pixel = module.createPixel({ pixelId: PIXEL });
    pixel.track(
      'Purchase',
      { value: 42, currency: 'USD', order_id: '77' },
      { eventID: 'order-77' },
    );
    pixel.trackCustom('Lead', undefined, { eventID: 'x' });
    pixel.track('WatchedDemo', { minutes: 3 }, { eventID: 'y' });
    expect(ttq).toEqual([
      ['Purchase', { value: 42, currency: 'USD', order_id: '77' }, { event_id: 'order-77' }],
      // The relay sends `Lead`, which the server's TikTok destination renames: so does the Pixel.
      ['Lead', {}, { event_id: 'x' }],
      // Unknown names pass unchanged (TikTok files them as custom events); custom keys stay out.
      ['WatchedDemo', {}, { event_id: 'y' }],
    ]);
  });

  it("sends decimal text (a data layer's '19.90') as numbers, as the server relay reads it", async () => {
    const ttq = installTtq();
    const purchase: PurchaseData = {
      value: '19.90' as never,
      currency: 'USD',
      contents: [{ id: 'a', quantity: '2' as never, item_price: ' 9.95 ' as never }],
    };
    const copy = structuredClone(purchase);
    const pixel = module.createPixel({ pixelId: PIXEL });
    const eventID = pixel.track('Purchase', purchase);
    const properties = {
      contents: [{ content_id: 'a', quantity: 2, price: 9.95 }],
      value: 19.9,
      currency: 'USD',
    };
    expect(ttq).toEqual([['Purchase', properties, { event_id: eventID }]]);
    // Meta's Pixel gets the text as given (it sends every parameter as text, Meta reads it), and
    // the page's object is left as it was.
    expect(browser.fbq().queue.at(-1)).toEqual(['track', 'Purchase', copy, { eventID }]);
    expect(purchase).toEqual(copy);
    // The server copy with the same event_id: the relay reads the text as numbers, and the
    // server's TikTok destination maps them to the same properties.
    await nextTick();
    const bodies = await Promise.all(browser.sendBeacon.mock.calls.map(([, blob]) => blob.text()));
    const inputs: Record<string, unknown>[] = [];
    expect((await serverRelay(bodies, [PIXEL], inputs)).tracked).toEqual([eventID]);
    expect(toTikTokProperties(inputs[0]!.custom_data as never).properties).toEqual(properties);
  });

  it('finds a ttq added after createPixel (a tag manager, or consent given later)', () => {
    const pixel = module.createPixel({ pixelId: PIXEL });
    pixel.track('Lead');
    const ttq = installTtq();
    const later = pixel.track('Contact');
    expect(ttq).toEqual([['Contact', {}, { event_id: later }]]);
  });

  it('renames events and addresses one TikTok pixel when told to', () => {
    const ttq = installTtq();
    const pixel = module.createPixel({
      pixelId: PIXEL,
      tiktok: { eventNames: { Purchase: 'CompletePayment' }, pixelCode: 'C4A0TIKTOK' },
    });
    pixel.track('Purchase', { value: 1, currency: 'USD' }, { eventID: 'p-1' });
    pixel.track('Lead', {}, { eventID: 'l-1' });
    expect(ttq).toEqual([
      [
        'CompletePayment',
        { value: 1, currency: 'USD' },
        { event_id: 'p-1', pixel_code: 'C4A0TIKTOK' },
      ],
      ['Lead', {}, { event_id: 'l-1', pixel_code: 'C4A0TIKTOK' }],
    ]);
  });

  it('is off with tiktok: false, for the tracker or for one event', async () => {
    const ttq = installTtq();
    module.createPixel({ pixelId: '111', tiktok: false }).track('Lead');
    const pixel = module.createPixel({ pixelId: '222' });
    const skipped = pixel.track('Lead', {}, { tiktok: false });
    const sent = pixel.track('Lead');
    expect(ttq).toEqual([['Lead', {}, { event_id: sent }]]);
    await nextTick();
    // Only the TikTok copy is skipped: the Meta Pixel and the relay still get the event.
    expect(fbqEventIds()).toHaveLength(3);
    const payloads = await browser.relayed();
    expect(payloads.flatMap((p) => p.events.map((e) => e.event_id))).toContain(skipped);
  });
});

describe('never throws into the page', () => {
  it('without ttq: fbq and the relay still get the event', async () => {
    const pixel = module.createPixel({ pixelId: PIXEL });
    const eventID = pixel.track('Lead');
    expect(module.trackTikTok('Lead', undefined, { eventID })).toBe(false);
    await nextTick();
    expect(fbqEventIds()).toEqual([eventID]);
    const [payload] = await browser.relayed();
    expect(payload!.events[0]!.event_id).toBe(eventID);
  });

  it('when ttq.track throws, or ttq is not what it should be', async () => {
    installTtq(() => {
      throw new Error('blocked');
    });
    const pixel = module.createPixel({ pixelId: PIXEL });
    const a = pixel.track('Purchase', { value: 1, currency: 'USD' });
    (globalThis as { ttq?: unknown }).ttq = { track: 'not a function' };
    const b = pixel.track('Lead');
    Object.defineProperty(globalThis, 'ttq', {
      configurable: true,
      get() {
        throw new Error('hostile getter');
      },
    });
    const c = pixel.track('Contact');
    expect(module.trackTikTok('Contact', undefined, { eventID: 'z' })).toBe(false);
    await nextTick();
    expect(fbqEventIds()).toEqual([a, b, c]);
    const [payload] = await browser.relayed();
    expect(payload!.events.map((e) => e.event_id)).toEqual([a, b, c]);
  });

  it('when options.tiktok, or an option inside it, throws when read', async () => {
    const ttq = installTtq();
    const hostile = { pixelId: PIXEL } as PixelOptions;
    Object.defineProperty(hostile, 'tiktok', {
      enumerable: true,
      get() {
        throw new Error('hostile tiktok option');
      },
    });
    const inside = {
      get eventNames(): never {
        throw new Error('hostile eventNames');
      },
    };
    // Created, and each event reaches fbq and the relay, never the TikTok Pixel under names it
    // cannot know the server uses (the server's copy still reaches TikTok).
    const a = module.createPixel(hostile).track('Purchase', { value: 1, currency: 'USD' });
    const b = module.createPixel({ pixelId: PIXEL, tiktok: inside }).track('Lead');
    expect(ttq).toEqual([]);
    await nextTick();
    expect(fbqEventIds()).toEqual([a, b]);
    const relayed = (await browser.relayed()).flatMap((p) => p.events.map((e) => e.event_id));
    expect(relayed.sort()).toEqual([a, b].sort());
  });

  it('when custom_data holds what the types forbid', () => {
    const ttq = installTtq();
    const hostile = {
      contents: [null, 7, { id: ' sku ' }, { id: 12, quantity: Number.NaN }],
      content_ids: 'not-an-array',
      content_type: 'flight',
      value: '1e1',
      currency: 5,
    } as unknown as CustomData;
    module.createPixel({ pixelId: PIXEL }).track('AddToCart', hostile, { eventID: 'h' });
    expect(ttq).toEqual([
      ['AddToCart', { contents: [{ content_id: 'sku' }, { content_id: '12' }] }, { event_id: 'h' }],
    ]);
    expect(module.toTikTokPixelEvent('Lead', null as unknown as CustomData)).toEqual({
      event: 'Lead',
      properties: {},
    });
  });
});

describe('the same mapping as the server copy (@capi-kit/tiktok)', () => {
  it('names every Meta standard event as TIKTOK_EVENT_NAMES does, and custom names unchanged', () => {
    expect(Object.keys(TIKTOK_EVENT_NAMES).sort()).toEqual([...STANDARD_EVENTS].sort());
    for (const name of [...STANDARD_EVENTS, 'WatchedDemo', 'purchase', 'toString', '']) {
      expect(module.toTikTokPixelEvent(name).event, name).toBe(tiktokEventName(name));
    }
    const overrides = { Purchase: 'CompletePayment', Lead: '', toString: 'x' };
    for (const name of ['Purchase', 'Lead', 'toString', 'hasOwnProperty', 'ViewContent']) {
      expect(module.toTikTokPixelEvent(name, undefined, overrides).event, name).toBe(
        tiktokEventName(name, overrides),
      );
    }
  });

  it('trims eventNames overrides as the server copy does, and reads a blank one as none', () => {
    // The server's tiktokEventName trims an override and reads white space alone as none; an
    // untrimmed ' Purchase ' fired ttq.track(' Purchase '), a name the server copy never carries,
    // so TikTok could not pair the two, and '  ' fired an event with a blank name.
    const overrides = { Purchase: ' Purchase ', AddToCart: '\tAddToBasket\n', Lead: '  ' };
    for (const name of ['Purchase', 'AddToCart', 'Lead']) {
      expect(module.toTikTokPixelEvent(name, undefined, overrides).event, name).toBe(
        tiktokEventName(name, overrides),
      );
    }
    const ttq = installTtq();
    const pixel = module.createPixel({ pixelId: PIXEL, tiktok: { eventNames: overrides } });
    pixel.track('Purchase', { value: 1, currency: 'USD' }, { eventID: 'p' });
    pixel.track('Lead', {}, { eventID: 'l' });
    expect(ttq.map(([event]) => event)).toEqual(['Purchase', 'Lead']);
  });

  it('trims names as the server copy does, so TikTok can pair the two', () => {
    for (const name of [' Lead', 'Purchase  ', '\tWatchedDemo ']) {
      expect(module.toTikTokPixelEvent(name).event, name).toBe(tiktokEventName(name.trim()));
    }
  });

  it('sends only currency codes of three letters (what the server checks against ISO 4217)', () => {
    for (const [currency, sent] of [
      [' usd ', 'USD'],
      ['dollars', undefined],
      ['US$', undefined],
      ['EURO', undefined],
    ] as const) {
      expect(
        module.toTikTokPixelEvent('Purchase', { value: 1, currency }).properties.currency,
      ).toBe(sent);
    }
  });

  // The server copy leaves out a quantity, price or value outside its bounds (one bad number would
  // fail a batch of events); the Pixel sends one event per call and keeps them (the 2 KB budget).
  const withinServerBounds = (properties: Record<string, unknown>) => {
    const amount = (v: unknown) =>
      typeof v === 'number' && (v === 0 || (v >= 1e-6 && v <= Number.MAX_SAFE_INTEGER))
        ? v
        : undefined;
    const out: Record<string, unknown> = { ...properties };
    if (amount(out.value) === undefined) delete out.value;
    if (Array.isArray(out.contents)) {
      out.contents = (out.contents as Record<string, unknown>[]).map((item) => {
        const c = { ...item };
        const q = c.quantity;
        if (!(Number.isInteger(q) && (q as number) >= 0 && (q as number) <= 2 ** 31 - 1))
          delete c.quantity;
        if (amount(c.price) === undefined) delete c.price;
        return c;
      });
    }
    return out;
  };

  it('maps custom_data to the properties toTikTokProperties gives, for any input', async () => {
    const junk = fc.oneof(
      fc.constant(undefined),
      fc.constant(null),
      fc.boolean(),
      fc.double(),
      fc.integer(),
      fc.constantFrom('', '  ', ' sku-1 ', 'eur', 'USD', 'product', 'product_group', 'Socks'),
      // Numbers as a data layer writes them, and text that is not a plain decimal.
      fc.constantFrom('19.90', ' 2 ', '-0', '.5', '7.', '1e3', '0x10', '1,000', 'Infinity', '- 1'),
      fc.constantFrom('1234567890123456', '0.1234567890123456', '\u00a03\n'),
      fc.stringMatching(/^-?[0-9]{0,3}\.?[0-9]{0,3}$/),
      fc.array(fc.string(), { maxLength: 3 }),
    );
    const content = fc.oneof(
      junk,
      fc.record(
        {
          id: junk,
          quantity: junk,
          item_price: junk,
          title: junk,
          category: junk,
          brand: junk,
          delivery_category: junk,
        },
        { requiredKeys: [] },
      ),
    );
    const customData = fc.record(
      {
        contents: fc.oneof(junk, fc.array(content, { maxLength: 4 })),
        content_ids: fc.oneof(junk, fc.array(junk, { maxLength: 4 })),
        content_type: junk,
        value: junk,
        currency: junk,
        order_id: junk,
        search_string: junk,
        content_name: junk,
        content_category: junk,
        num_items: junk,
        my_custom_key: junk,
      },
      { requiredKeys: [] },
    );
    // The server copy is the relay's reading of the page's custom_data (every key allowed): core's
    // relayEventInput, imported past this package's type check (core's relay module reaches its
    // `#platform` layer, which this tsconfig does not resolve).
    const relayModule = new URL('../../core/src/relay/relay-event.ts', import.meta.url).href;
    const { relayEventInput } = (await import(relayModule)) as {
      relayEventInput: (
        ...args: [raw: unknown, rules: object, url: undefined, now: number, userData: undefined]
      ) => { input: { custom_data?: Record<string, unknown> } } | { drop: string };
    };
    const relayed = (data: Record<string, unknown>) => {
      const rules = {
        allowEvent: () => true,
        customDataKeys: new Set(Object.keys(data)),
        allowUserData: false,
        maxSkewSeconds: 300,
      };
      const event = { event_name: 'AddToCart', event_id: 'e', event_time: 0, custom_data: data };
      const read = relayEventInput(event, rules, undefined, 0, undefined);
      if ('drop' in read) throw new Error(`relay dropped the event: ${read.drop}`);
      return read.input.custom_data;
    };
    fc.assert(
      fc.property(customData, (data) => {
        const server = toTikTokProperties(relayed(data)).properties ?? {};
        const pixel = module.toTikTokPixelEvent('AddToCart', data as unknown as CustomData);
        expect(withinServerBounds(pixel.properties as Record<string, unknown>)).toEqual(server);
      }),
      { numRuns: 2000 },
    );
  });

  it('maps this table of examples', () => {
    const table: [CustomData | undefined, object][] = [
      [undefined, {}],
      [{}, {}],
      [{ content_ids: ['a', ' b ', ''] }, { contents: [{ content_id: 'a' }, { content_id: 'b' }] }],
      // numeric ids, as a Pixel's custom_data often has them: strings, as the server sends them
      [
        { content_ids: [1077218] as never, order_id: 98765 as never },
        { contents: [{ content_id: '1077218' }], order_id: '98765' },
      ],
      // contents win over content_ids, even when none of them has an id
      [{ contents: [{ id: '' }], content_ids: ['a'] }, {}],
      [
        {
          contents: [{ id: 'a', category: 'shoes', brand: 'Acme', delivery_category: 'in_store' }],
        },
        { contents: [{ content_id: 'a', content_category: 'shoes', brand: 'Acme' }] },
      ],
      [{ content_type: 'product_group' }, { content_type: 'product_group' }],
      [
        { value: 0, currency: ' usd ' },
        { value: 0, currency: 'USD' },
      ],
      [{ search_string: 'red shoes' }, { query: 'red shoes' }],
      [
        { content_name: 'Pro plan', content_category: 'plans', num_items: 2 },
        { description: 'Pro plan' },
      ],
      [{ order_id: 'A-1', predicted_ltv: 100, status: 'paid' }, { order_id: 'A-1' }],
    ];
    for (const [data, properties] of table) {
      expect(module.toTikTokPixelEvent('Purchase', data).properties).toEqual(properties);
    }
  });
});

describe('trackTikTok', () => {
  it("fires the TikTok copy of a server event with the server's event ID", () => {
    const ttq = installTtq();
    expect(
      module.trackTikTok('Lead', { content_name: 'demo' }, { eventID: 'srv-1', pixelCode: 'C1' }),
    ).toBe(true);
    expect(ttq).toEqual([
      ['Lead', { description: 'demo' }, { event_id: 'srv-1', pixel_code: 'C1' }],
    ]);
    // The TikTok copy alone: nothing is relayed (the server already has this event).
    expect(browser.sendBeacon).not.toHaveBeenCalled();
    expect(browser.fetch).not.toHaveBeenCalled();
  });
});
