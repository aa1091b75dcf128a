import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  type FakeBrowser,
  fakeBrowser,
  freshModule,
  nextTick,
  resetBrowser,
  UUID_V4,
} from './fake-browser.js';
import { serverRelay } from './server-relay.js';

const PIXEL = '1234567890';
let browser: FakeBrowser;
let createPixel: Awaited<ReturnType<typeof freshModule>>['createPixel'];

beforeEach(async () => {
  browser = fakeBrowser();
  ({ createPixel } = await freshModule());
});
afterEach(resetBrowser);

describe('eventID shared by the Pixel and the relay', () => {
  it('generates one and sends the same ID to fbq and to the relay', async () => {
    const pixel = createPixel({ pixelId: PIXEL });
    const data = {
      value: 9.5,
      currency: 'EUR',
      content_ids: ['sku-1'],
      content_type: 'product' as const,
    };
    const eventID = pixel.track('AddToCart', data);
    expect(eventID).toMatch(UUID_V4);
    expect(browser.fbq().queue).toContainEqual(['track', 'AddToCart', data, { eventID }]);

    await nextTick();
    const [payload] = await browser.relayed();
    expect(payload).toEqual({
      v: 1,
      pixel_id: PIXEL,
      events: [
        {
          event_name: 'AddToCart',
          event_id: eventID,
          event_time: expect.any(Number),
          event_source_url: 'https://shop.example/products/1?utm_source=fb',
          referrer_url: 'https://www.facebook.com/',
          custom_data: data,
        },
      ],
    });
    const now = Date.now() / 1000;
    const eventTime = payload!.events[0]!.event_time;
    expect(Number.isInteger(eventTime)).toBe(true);
    expect(eventTime).toBeGreaterThan(now - 5);
    expect(eventTime).toBeLessThanOrEqual(now);
  });

  it('keeps the eventID it is given', async () => {
    const pixel = createPixel({ pixelId: PIXEL });
    const eventID = pixel.track(
      'Purchase',
      { value: 42, currency: 'USD' },
      { eventID: 'order-77' },
    );
    expect(eventID).toBe('order-77');
    expect(browser.fbq().queue.at(-1)).toEqual([
      'track',
      'Purchase',
      { value: 42, currency: 'USD' },
      { eventID: 'order-77' },
    ]);
    await nextTick();
    const [payload] = await browser.relayed();
    expect(payload!.events[0]).toMatchObject({ event_name: 'Purchase', event_id: 'order-77' });
  });

  it('sends a numeric eventID (an order number, from JavaScript) as a string everywhere', async () => {
    (globalThis as { ttq?: unknown }).ttq = { track: vi.fn() };
    try {
      const pixel = createPixel({ pixelId: PIXEL });
      // The relay drops an event whose event_id is not a string: only the Pixel had it.
      const options = { eventID: 98765 } as unknown as { eventID: string };
      const eventID = pixel.track('Purchase', { value: 42, currency: 'USD' }, options);
      expect(eventID).toBe('98765');
      expect(browser.fbq().queue.at(-1)![3]).toEqual({ eventID: '98765' });
      const ttq = (globalThis as unknown as { ttq: { track: ReturnType<typeof vi.fn> } }).ttq;
      expect(ttq.track.mock.calls[0]![2]).toEqual({ event_id: '98765' });
      await nextTick();
      const [payload] = await browser.relayed();
      expect(payload!.events[0]!.event_id).toBe('98765');
    } finally {
      delete (globalThis as { ttq?: unknown }).ttq;
    }
  });

  it('an eventID of 0 (an order number) is sent as "0"; an empty one gets a fresh ID', async () => {
    const pixel = createPixel({ pixelId: PIXEL });
    const zero = { eventID: 0 } as unknown as { eventID: string };
    expect(pixel.track('Purchase', { value: 1, currency: 'USD' }, zero)).toBe('0');
    expect(browser.fbq().queue.at(-1)![3]).toEqual({ eventID: '0' });
    expect(pixel.track('Lead', {}, { eventID: '' })).toMatch(/^[0-9a-f-]{36}$/);
    await nextTick();
    const [payload] = await browser.relayed();
    expect(payload!.events[0]!.event_id).toBe('0');
  });

  it('an eventID with no string form (a Symbol, a prototype-less object) gets a fresh ID, never a throw into the page', async () => {
    const pixel = createPixel({ pixelId: PIXEL });
    const ids: string[] = [];
    for (const eventID of [Symbol('order'), Object.create(null)]) {
      const options = { eventID } as unknown as { eventID: string };
      expect(() => ids.push(pixel.track('Lead', {}, options))).not.toThrow();
    }
    expect(ids).toHaveLength(2);
    for (const id of ids) expect(id).toMatch(UUID_V4);
    // The Pixel copy and the relay copy have the ID the page got back.
    expect(
      browser
        .fbq()
        .queue.slice(-2)
        .map((call) => call[3]),
    ).toEqual(ids.map((eventID) => ({ eventID })));
    await nextTick();
    const [payload] = await browser.relayed();
    expect(payload!.events.map((e) => e.event_id)).toEqual(ids);
  });

  it('relays a pixelId given as a number (a JSON config) as the string the server relay takes', async () => {
    const pixel = createPixel({ pixelId: 1234567890 as unknown as string });
    const eventID = pixel.track('Lead');
    expect(browser.fbq().queue[0]).toEqual(['init', PIXEL]);
    await nextTick();
    const bodies = await Promise.all(browser.sendBeacon.mock.calls.map(([, blob]) => blob.text()));
    expect(await serverRelay(bodies, [PIXEL])).toEqual({ statuses: [204], tracked: [eventID] });
  });

  it('sends a relay payload, refused as an unknown pixel, when pixelId is unset (a missing env variable)', async () => {
    const pixel = createPixel({ pixelId: undefined as unknown as string });
    pixel.track('Lead');
    await nextTick();
    // JSON the server can read, so its refusal (logged) says what to fix: the pixel ID.
    const [payload] = await browser.relayed();
    expect(payload!.pixel_id).toBe('undefined');
    const bodies = await Promise.all(browser.sendBeacon.mock.calls.map(([, blob]) => blob.text()));
    expect((await serverRelay(bodies, [PIXEL])).statuses).toEqual([403]);
  });

  it('gives every event its own ID', () => {
    const pixel = createPixel({ pixelId: PIXEL });
    const ids = new Set([
      pixel.track('Lead'),
      pixel.track('Lead'),
      pixel.pageView(),
      pixel.eventId(),
    ]);
    expect(ids.size).toBe(4);
  });

  it('omits custom_data and referrer_url from the relay when there are none, but passes {} to fbq', async () => {
    browser.document.referrer = '';
    const pixel = createPixel({ pixelId: PIXEL });
    const eventID = pixel.track('Contact');
    expect(browser.fbq().queue.at(-1)).toEqual(['track', 'Contact', {}, { eventID }]);
    await nextTick();
    const [payload] = await browser.relayed();
    expect(Object.keys(payload!.events[0]!).sort()).toEqual([
      'event_id',
      'event_name',
      'event_source_url',
      'event_time',
    ]);
  });

  it('relays custom_data as it was when the event fired', async () => {
    const pixel = createPixel({ pixelId: PIXEL });
    const data = { value: 1, currency: 'USD' };
    pixel.track('Purchase', data);
    data.value = 999;
    await nextTick();
    const [payload] = await browser.relayed();
    expect(payload!.events[0]!.custom_data).toEqual({ value: 1, currency: 'USD' });
  });
});

describe('standard and custom events', () => {
  it('sends standard names with track and other names with trackCustom', () => {
    const pixel = createPixel({ pixelId: PIXEL });
    const lead = pixel.track('Lead');
    const custom = pixel.track('WatchedDemo', { minutes: 3 });
    pixel.trackCustom('Lead', undefined, { eventID: 'x' });
    expect(browser.fbq().queue.slice(1)).toEqual([
      ['track', 'Lead', {}, { eventID: lead }],
      ['trackCustom', 'WatchedDemo', { minutes: 3 }, { eventID: custom }],
      ['trackCustom', 'Lead', {}, { eventID: 'x' }],
    ]);
  });

  it('treats every one of the 18 standard names as standard', () => {
    const pixel = createPixel({ pixelId: PIXEL });
    const names = [
      'AddPaymentInfo',
      'AddToCart',
      'AddToWishlist',
      'CompleteRegistration',
      'Contact',
      'CustomizeProduct',
      'Donate',
      'FindLocation',
      'InitiateCheckout',
      'Lead',
      'PageView',
      'Schedule',
      'Search',
      'StartTrial',
      'SubmitApplication',
      'Subscribe',
      'ViewContent',
    ] as const;
    for (const name of names) pixel.track(name);
    pixel.track('Purchase', { value: 1, currency: 'USD' });
    const methods = browser
      .fbq()
      .queue.slice(1)
      .map(([method]) => method);
    expect(methods).toEqual(Array(18).fill('track'));
    // Names are case-sensitive on Meta's side.
    pixel.track('purchase');
    expect(browser.fbq().queue.at(-1)![0]).toBe('trackCustom');
  });

  it('relays custom events under their own name', async () => {
    const pixel = createPixel({ pixelId: PIXEL });
    const eventID = pixel.trackCustom('WatchedDemo');
    await nextTick();
    const [payload] = await browser.relayed();
    expect(payload!.events[0]).toMatchObject({ event_name: 'WatchedDemo', event_id: eventID });
  });
});

describe('pageView', () => {
  it('fires PageView with a fresh eventID for the current URL on each SPA route', async () => {
    const pixel = createPixel({ pixelId: PIXEL });
    const first = pixel.pageView();
    await nextTick();
    browser.location.href = 'https://shop.example/cart';
    const second = pixel.pageView();
    await nextTick();

    expect(first).not.toBe(second);
    expect(browser.fbq().queue.slice(1)).toEqual([
      ['track', 'PageView', {}, { eventID: first }],
      ['track', 'PageView', {}, { eventID: second }],
    ]);
    const payloads = await browser.relayed();
    expect(payloads.map((p) => p.events[0])).toMatchObject([
      {
        event_name: 'PageView',
        event_id: first,
        event_source_url: 'https://shop.example/products/1?utm_source=fb',
      },
      { event_name: 'PageView', event_id: second, event_source_url: 'https://shop.example/cart' },
    ]);
  });

  it('keeps a given eventID', () => {
    const pixel = createPixel({ pixelId: PIXEL });
    expect(pixel.pageView({ eventID: 'from-server' })).toBe('from-server');
  });

  it("turns off the Pixel's own history-change PageViews, which the relay would never see", () => {
    createPixel({ pixelId: PIXEL });
    const fbq = browser.fbq();
    expect([fbq.disablePushState, fbq.allowDuplicatePageViews]).toEqual([true, true]);
  });
});

describe('fbq base code', () => {
  it('installs the queue stub and queues calls until fbevents.js loads', () => {
    const pixel = createPixel({ pixelId: PIXEL });
    const stub = browser.fbq();
    expect([stub.loaded, stub.version]).toEqual([true, '2.0']);
    expect(stub.push).toBe(stub);
    expect((globalThis as { _fbq?: unknown })._fbq).toBe(stub);

    const before = pixel.track('ViewContent');
    expect(stub.queue).toEqual([
      ['init', PIXEL],
      ['track', 'ViewContent', {}, { eventID: before }],
    ]);

    const fbevents = browser.loadFbevents();
    const after = pixel.track('Search', { search_string: 'shoes' });
    expect(stub.queue).toEqual([]);
    expect(fbevents.mock.calls).toEqual([
      ['init', PIXEL],
      ['track', 'ViewContent', {}, { eventID: before }],
      ['track', 'Search', { search_string: 'shoes' }, { eventID: after }],
    ]);
  });

  it('loads fbevents.js once, async, for two createPixel calls', () => {
    createPixel({ pixelId: PIXEL });
    createPixel({ pixelId: PIXEL, scriptUrl: 'https://elsewhere.example/fbevents.js' });
    expect(browser.scripts).toEqual([
      { tagName: 'script', async: true, src: 'https://connect.facebook.net/en_US/fbevents.js' },
    ]);
    // The same pixel is init'ed once: fbevents.js warns about duplicate IDs.
    expect(browser.fbq().queue).toEqual([['init', PIXEL]]);
  });

  it('loads the script from scriptUrl', () => {
    createPixel({ pixelId: PIXEL, scriptUrl: '/vendor/fbevents.js' });
    expect(browser.scripts.map((s) => s.src)).toEqual(['/vendor/fbevents.js']);
  });

  it('with autoLoad: false installs the stub but leaves loading the script to the page', () => {
    const pixel = createPixel({ pixelId: PIXEL, autoLoad: false });
    const eventID = pixel.track('Lead');
    expect(browser.scripts).toEqual([]);
    expect(browser.fbq().queue).toEqual([
      ['init', PIXEL],
      ['track', 'Lead', {}, { eventID }],
    ]);
  });

  it('uses an fbq the page already has, without loading the script again', () => {
    const calls: unknown[][] = [];
    const existing = Object.assign((...args: unknown[]) => void calls.push(args), { queue: [] });
    (globalThis as { fbq?: unknown }).fbq = existing;
    const pixel = createPixel({ pixelId: PIXEL });
    const eventID = pixel.track('Lead');
    expect(browser.fbq()).toBe(existing);
    expect(browser.scripts).toEqual([]);
    expect(existing).toHaveProperty('disablePushState', true);
    expect(calls).toEqual([
      ['init', PIXEL],
      ['track', 'Lead', {}, { eventID }],
    ]);
  });

  it('passes advancedMatching to init, never to the relay', async () => {
    const pixel = createPixel({
      pixelId: PIXEL,
      advancedMatching: { em: 'jane@example.com', external_id: 'u1' },
    });
    pixel.track('Lead');
    expect(browser.fbq().queue[0]).toEqual([
      'init',
      PIXEL,
      { em: 'jane@example.com', external_id: 'u1' },
    ]);
    await nextTick();
    const [body] = await Promise.all(browser.sendBeacon.mock.calls.map(([, blob]) => blob.text()));
    expect(body).not.toContain('jane@example.com');
    expect(body).not.toContain('u1');
  });

  it('switches to trackSingle once a second pixel ID is on the page, so each pixel gets only its own events', async () => {
    const shop = createPixel({ pixelId: '111' });
    const early = shop.track('Lead');
    const partner = createPixel({ pixelId: '222' });
    const a = shop.track('AddToCart');
    const b = partner.trackCustom('Referral');
    expect(browser.fbq().queue).toEqual([
      ['init', '111'],
      ['track', 'Lead', {}, { eventID: early }],
      ['init', '222'],
      ['trackSingle', '111', 'AddToCart', {}, { eventID: a }],
      ['trackSingleCustom', '222', 'Referral', {}, { eventID: b }],
    ]);
    await nextTick();
    const payloads = await browser.relayed();
    expect(payloads.map((p) => [p.pixel_id, p.events.map((e) => e.event_id)])).toEqual([
      ['111', [early, a]],
      ['222', [b]],
    ]);
  });

  it('two copies of the module on one page (two bundles) init each pixel once and use trackSingle', async () => {
    const other = await freshModule(); // a second bundle's copy: its own module state
    const shop = createPixel({ pixelId: '111' });
    const partner = other.createPixel({ pixelId: '222' });
    other.createPixel({ pixelId: '111' }); // the second bundle's tracker for the shop's pixel
    const a = shop.track('AddToCart');
    const b = partner.track('Lead');
    expect(browser.fbq().queue).toEqual([
      ['init', '111'],
      ['init', '222'],
      ['trackSingle', '111', 'AddToCart', {}, { eventID: a }],
      ['trackSingle', '222', 'Lead', {}, { eventID: b }],
    ]);
  });
});
