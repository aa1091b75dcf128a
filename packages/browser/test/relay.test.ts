import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  DEFAULT_RELAY_MAX_BODY_BYTES as MAX_BYTES,
  DEFAULT_RELAY_MAX_EVENTS as MAX_EVENTS,
} from '../../core/src/relay/protocol.js';
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

describe('transport', () => {
  it('sends a same-origin beacon with a JSON Blob to /capi/events', async () => {
    createPixel({ pixelId: PIXEL }).track('Lead');
    expect(browser.sendBeacon).not.toHaveBeenCalled(); // batched until the tick ends
    await nextTick();
    expect(browser.sendBeacon).toHaveBeenCalledTimes(1);
    const [url, blob] = browser.sendBeacon.mock.calls[0]!;
    expect(url).toBe('/capi/events');
    expect(blob).toBeInstanceOf(Blob);
    expect(blob.type).toBe('application/json');
    expect(browser.fetch).not.toHaveBeenCalled();
  });

  it('posts to the relay URL it is given', async () => {
    createPixel({ pixelId: PIXEL, relay: '/api/meta' }).track('Lead');
    await nextTick();
    expect(browser.sendBeacon.mock.calls[0]![0]).toBe('/api/meta');
  });

  it("relay: '' (an empty environment variable) relays nothing, like false, never to the page's own URL", async () => {
    // An empty URL resolves to the page itself: every beacon was a POST to /checkout.
    const pixel = createPixel({ pixelId: PIXEL, relay: '' });
    pixel.track('Lead');
    await nextTick();
    expect(browser.sendBeacon).not.toHaveBeenCalled();
    expect(browser.fetch).not.toHaveBeenCalled();
  });

  it("relay: true (the server adapters' spelling, from JavaScript) relays to /capi/events", async () => {
    // As a URL, `true` is a path next to the page's (/products/true): a 404 for every relay copy.
    const pixel = createPixel({ pixelId: PIXEL, relay: true as unknown as string });
    const eventID = pixel.track('Lead');
    await nextTick();
    expect(browser.sendBeacon.mock.calls.map(([url]) => url)).toEqual(['/capi/events']);
    const [payload] = await browser.relayed();
    expect(payload!.events[0]!.event_id).toBe(eventID);
  });

  it('sends JSON to a same-origin relay and text/plain to another origin (no CORS preflight)', async () => {
    for (const relay of [
      '/capi/events',
      'https://shop.example/capi/events',
      'https://api.shop.example/capi/events',
      '//shop.example:8443/capi/events',
    ]) {
      createPixel({ pixelId: PIXEL, relay }).track('Lead');
    }
    await nextTick();
    expect(browser.sendBeacon.mock.calls.map(([, blob]) => blob.type)).toEqual([
      'application/json',
      'application/json',
      'text/plain',
      'text/plain',
    ]);
  });

  it('never throws into the page from its microtask: a relay URL that does not parse, a location without origin', async () => {
    const uncaught = vi.fn();
    process.on('uncaughtException', uncaught);
    try {
      createPixel({ pixelId: PIXEL, relay: 'http://[not-a-host/capi/events' }).track('Lead');
      await nextTick();
      expect(uncaught).not.toHaveBeenCalled();
      // A page stand-in with only `href` (as some test set-ups have): the event still leaves.
      vi.stubGlobal('location', { href: 'https://shop.example/' });
      const eventID = createPixel({ pixelId: PIXEL }).track('Lead');
      await nextTick();
      expect(uncaught).not.toHaveBeenCalled();
      const [, blob] = browser.sendBeacon.mock.calls.at(-1)!;
      expect(JSON.parse(await blob.text()).events[0].event_id).toBe(eventID);
    } finally {
      process.off('uncaughtException', uncaught);
    }
  });

  const fetchFallback = async (keepalive = true) => {
    const eventID = createPixel({ pixelId: PIXEL }).track('Lead');
    await nextTick();
    expect(browser.fetch).toHaveBeenCalledTimes(1);
    const [url, init] = browser.fetch.mock.calls[0]!;
    expect(url).toBe('/capi/events');
    expect(init).toMatchObject({ method: 'POST', keepalive, credentials: 'include' });
    expect(init.body).toBeInstanceOf(Blob);
    expect((init.body as Blob).type).toBe('application/json');
    const body = JSON.parse(await (init.body as Blob).text());
    expect(body).toMatchObject({ v: 1, pixel_id: PIXEL, events: [{ event_id: eventID }] });
  };

  it('falls back to fetch keepalive when sendBeacon is missing', async () => {
    vi.stubGlobal('navigator', {});
    await fetchFallback();
  });

  it('falls back to a plain fetch when sendBeacon returns false (keepalive budget used up)', async () => {
    browser.sendBeacon.mockReturnValue(false);
    await fetchFallback(false);
    expect(browser.sendBeacon).toHaveBeenCalledTimes(1);
  });

  it('falls back to fetch keepalive when sendBeacon throws', async () => {
    browser.sendBeacon.mockImplementation(() => {
      throw new TypeError('Illegal invocation');
    });
    await fetchFallback();
  });

  it('offline, holds the request until the browser is back online', async () => {
    // sendBeacon returns true offline too, and the request then fails: the relay copy was lost.
    const online = new EventTarget();
    const navigator = { sendBeacon: browser.sendBeacon, onLine: false };
    vi.stubGlobal('navigator', navigator);
    vi.stubGlobal('addEventListener', online.addEventListener.bind(online));
    const pixel = createPixel({ pixelId: PIXEL });
    const a = pixel.track('Lead');
    await nextTick();
    const b = pixel.track('Contact');
    await nextTick();
    expect(browser.sendBeacon).not.toHaveBeenCalled();
    navigator.onLine = true;
    online.dispatchEvent(new Event('online'));
    online.dispatchEvent(new Event('online')); // once each: nothing sent twice
    const payloads = await browser.relayed();
    expect(payloads.map((p) => p.events.map((e) => e.event_id))).toEqual([[a], [b]]);
  });

  it('sends a refused keepalive fetch once more without keepalive, and swallows that one failing too', async () => {
    // A keepalive fetch over the 64 KiB in flight is rejected like a network error (TypeError).
    vi.stubGlobal('navigator', {});
    browser.fetch.mockRejectedValue(new TypeError('Failed to fetch'));
    const unhandled = vi.fn();
    process.on('unhandledRejection', unhandled);
    try {
      createPixel({ pixelId: PIXEL }).track('Lead');
      await expect.poll(() => browser.fetch.mock.calls.length).toBe(2);
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(browser.fetch.mock.calls.map(([, init]) => init.keepalive)).toEqual([true, false]);
      const [first, second] = browser.fetch.mock.calls.map(([, init]) =>
        (init.body as Blob).text(),
      );
      expect(await second).toBe(await first);
      expect(unhandled).not.toHaveBeenCalled();
    } finally {
      process.off('unhandledRejection', unhandled);
    }
  });
});

describe('batching', () => {
  it('sends the events of one tick in one beacon, in order', async () => {
    const pixel = createPixel({ pixelId: PIXEL });
    const ids = [pixel.pageView(), pixel.track('ViewContent'), pixel.trackCustom('Scrolled')];
    await nextTick();
    const later = pixel.track('AddToCart');
    await nextTick();

    expect(browser.sendBeacon).toHaveBeenCalledTimes(2);
    const payloads = await browser.relayed();
    expect(payloads.map((p) => p.events.map((e) => e.event_id))).toEqual([ids, [later]]);
    expect(payloads[0]!.events.map((e) => e.event_name)).toEqual([
      'PageView',
      'ViewContent',
      'Scrolled',
    ]);
  });

  it('sends one payload per pixel', async () => {
    const a = createPixel({ pixelId: '111' });
    const b = createPixel({ pixelId: '222' });
    a.track('Lead');
    b.track('Lead');
    a.track('Contact');
    await nextTick();
    const payloads = await browser.relayed();
    expect(payloads.map((p) => [p.pixel_id, p.events.length])).toEqual([
      ['111', 2],
      ['222', 1],
    ]);
  });
});

// The server's default caps: a request over either is refused whole (413), none of its events tracked.
describe("within the server relay's caps (20 events, 64 KiB a request)", () => {
  const bodies = async () =>
    Promise.all(browser.sendBeacon.mock.calls.map(([, blob]) => blob.text()));

  it('splits a tick of more than 20 events into requests of at most 20, in order', async () => {
    const pixel = createPixel({ pixelId: PIXEL });
    const ids = Array.from({ length: 2 * MAX_EVENTS + 5 }, (_, i) =>
      pixel.track('ViewContent', { n: i }),
    );
    await nextTick();
    const payloads = await browser.relayed();
    expect(payloads.map((p) => p.events.length)).toEqual([MAX_EVENTS, MAX_EVENTS, 5]);
    expect(payloads.flatMap((p) => p.events.map((e) => e.event_id))).toEqual(ids);
    expect(payloads.every((p) => p.v === 1 && p.pixel_id === PIXEL)).toBe(true);
    // The server relay takes every one of them.
    const server = await serverRelay(await bodies(), [PIXEL]);
    expect(server).toEqual({ statuses: [204, 204, 204], tracked: ids });
  });

  it('keeps each request within 64 KiB, counted in UTF-8 bytes', async () => {
    const pixel = createPixel({ pixelId: PIXEL });
    // 3 bytes a character in UTF-8: each event is over half the cap, two of them do not fit.
    const ids = [0, 1, 2].map((i) =>
      pixel.track('ViewContent', { content_name: '€'.repeat(MAX_BYTES / 4), n: i }),
    );
    await nextTick();
    const sizes = (await bodies()).map((body) => new Blob([body]).size);
    expect(sizes).toHaveLength(3);
    for (const size of sizes) expect(size).toBeLessThanOrEqual(MAX_BYTES);
    const payloads = await browser.relayed();
    expect(payloads.flatMap((p) => p.events.map((e) => e.event_id))).toEqual(ids);
    expect((await serverRelay(await bodies(), [PIXEL])).tracked).toEqual(ids);
  });

  it('sends an event too large for the relay alone, so the events fired with it still arrive', async () => {
    const pixel = createPixel({ pixelId: PIXEL });
    const before = pixel.pageView();
    const huge = pixel.track('Purchase', {
      value: 1,
      currency: 'USD',
      content_name: 'x'.repeat(MAX_BYTES),
    });
    const after = pixel.track('Lead');
    await nextTick();
    const payloads = await browser.relayed();
    expect(payloads.map((p) => p.events.map((e) => e.event_id))).toEqual([
      [before],
      [huge],
      [after],
    ]);
  });
});

describe('relay: false', () => {
  it('fires the Pixel only', async () => {
    const pixel = createPixel({ pixelId: PIXEL, relay: false });
    const eventID = pixel.track('Lead');
    await nextTick();
    expect(browser.fbq().queue.at(-1)).toEqual(['track', 'Lead', {}, { eventID }]);
    expect(browser.sendBeacon).not.toHaveBeenCalled();
    expect(browser.fetch).not.toHaveBeenCalled();
  });
});

describe('works when the Pixel is blocked', () => {
  it('relays when fbevents.js never loads (blocked script)', async () => {
    const pixel = createPixel({ pixelId: PIXEL });
    expect(browser.scripts).toHaveLength(1); // its load fails: fbq stays a stub
    const eventID = pixel.track('Lead');
    await nextTick();
    const [payload] = await browser.relayed();
    expect(payload!.events[0]!.event_id).toBe(eventID);
  });

  it('relays when a blocker replaces fbq with something that throws', async () => {
    (globalThis as { fbq?: unknown }).fbq = () => {
      throw new Error('blocked');
    };
    const pixel = createPixel({ pixelId: PIXEL });
    const eventID = pixel.track('Lead');
    await nextTick();
    const [payload] = await browser.relayed();
    expect(payload!.events[0]!.event_id).toBe(eventID);
  });

  it('relays when fbq disappears after createPixel', async () => {
    const pixel = createPixel({ pixelId: PIXEL });
    delete (globalThis as { fbq?: unknown }).fbq;
    const eventID = pixel.track('Lead');
    await nextTick();
    const [payload] = await browser.relayed();
    expect(payload!.events[0]!.event_id).toBe(eventID);
  });

  it('relays when injecting the script throws', async () => {
    vi.stubGlobal('document', { referrer: '' });
    const pixel = createPixel({ pixelId: PIXEL });
    const eventID = pixel.track('Lead');
    await nextTick();
    const [payload] = await browser.relayed();
    expect(payload!.events[0]!.event_id).toBe(eventID);
  });
});

describe('never throws into the page', () => {
  it('returns an eventID with no document, location, navigator, fetch, crypto or fbq', async () => {
    for (const name of ['document', 'location', 'navigator', 'fetch', 'crypto']) {
      vi.stubGlobal(name, undefined);
    }
    const pixel = createPixel({ pixelId: PIXEL });
    expect(pixel.track('Lead')).toMatch(UUID_V4);
    expect(pixel.trackCustom('X', { a: 1 })).toMatch(UUID_V4);
    expect(pixel.pageView()).toMatch(UUID_V4);
    expect(pixel.eventId()).toMatch(UUID_V4);
    await nextTick();
  });

  it('skips the relay copy of an event it cannot serialize and still fires the Pixel', async () => {
    const pixel = createPixel({ pixelId: PIXEL });
    const eventID = pixel.track('Lead', { big: 1n });
    expect(browser.fbq().queue.at(-1)).toEqual(['track', 'Lead', { big: 1n }, { eventID }]);
    pixel.track('Contact');
    await nextTick();
    const [payload] = await browser.relayed();
    expect(payload!.events.map((e) => e.event_name)).toEqual(['Contact']);
  });

  it('survives createPixel on the server (SSR): no window at all', async () => {
    resetBrowser();
    for (const name of ['document', 'location', 'navigator']) vi.stubGlobal(name, undefined);
    const fetch = vi.fn();
    vi.stubGlobal('fetch', fetch);
    const pixel = createPixel({ pixelId: PIXEL });
    expect(pixel.pageView()).toMatch(UUID_V4);
    await nextTick();
    expect(fetch).not.toHaveBeenCalled();
    expect(globalThis).not.toHaveProperty('fbq');
  });
});
