import { createContext, runInContext } from 'node:vm';
import { MetaPixel } from '@capi-kit/next/client';
import { createElement } from 'react';
import { renderToString } from 'react-dom/server';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { startPixel, trackPixel } from '../src/pixel-runtime.ts';

type Call = unknown[];
type PageGlobals = {
  fbq?: { queue: Call[]; callMethod?: unknown };
  __capiKitPixel?: unknown;
};

/** Calls made on the page's `fbq` (fbevents.js never loads in these tests, so all are queued). */
const fbqCalls = (page: PageGlobals = globalThis as PageGlobals): Call[] =>
  (page.fbq?.queue ?? []).map((args) => [...args]);

/** The globals of a page, on `globalThis` as in a browser (`window === globalThis`). */
function installPage() {
  const scripts: { src?: string }[] = [];
  const beacons: { url: string; body: Blob }[] = [];
  const element = () => ({}) as { src?: string };
  const page = {
    window: globalThis,
    document: {
      referrer: '',
      createElement: element,
      head: {
        appendChild: (el: { src?: string }) => scripts.push(el),
        append: (el: { src?: string }) => scripts.push(el),
      },
    },
    location: { href: 'https://shop.example.com/cart' },
  };
  Object.assign(globalThis, page);
  Object.defineProperty(globalThis, 'navigator', {
    configurable: true,
    value: { sendBeacon: (url: string, body: Blob) => beacons.push({ url, body }) > 0 },
  });
  return { scripts, beacons };
}

const original = Object.getOwnPropertyDescriptor(globalThis, 'navigator');
function removePage() {
  for (const key of ['window', 'document', 'location', 'fbq', '_fbq', '__capiKitPixel']) {
    delete (globalThis as Record<string, unknown>)[key];
  }
  if (original) Object.defineProperty(globalThis, 'navigator', original);
  else delete (globalThis as Record<string, unknown>).navigator;
}

describe('<MetaPixel/> server render', () => {
  const html = renderToString(
    createElement(MetaPixel, {
      pixelId: '1234567890',
      scriptUrl: 'http://127.0.0.1:9/fbevents.js',
      events: [
        { event_name: 'PageView', event_id: 'pv-1' },
        {
          event_name: 'WatchedDemo',
          event_id: 'wd-1',
          custom_data: { note: '</script><script>alert(1)</script>' },
        },
      ],
      nonce: 'abc123',
    }),
  );

  it('inlines the Pixel with the server event IDs, escaped for a script element', () => {
    expect(html).toMatch(/^<script nonce="abc123">/);
    expect(html).toContain('"eventID":"pv-1"');
    expect(html).toContain('http://127.0.0.1:9/fbevents.js');
    expect(html).not.toContain('</script><script>alert(1)');
    expect(html.match(/<\/script>/g)).toHaveLength(1);
  });

  it('is a self-contained script: run alone, it loads fbevents.js once and fires each event once', () => {
    const code = html.slice(html.indexOf('>') + 1, html.lastIndexOf('</script>'));
    const scripts: { src?: string }[] = [];
    const sandbox: Record<string, unknown> = {
      document: {
        createElement: () => ({}),
        head: { appendChild: (el: { src?: string }) => scripts.push(el) },
      },
    };
    sandbox.window = sandbox;
    const context = createContext(sandbox);
    runInContext(code, context);
    // What the client component does after hydration: the same again, which must change nothing.
    runInContext(code, context);
    expect(scripts).toEqual([{ async: true, src: 'http://127.0.0.1:9/fbevents.js' }]);
    expect(fbqCalls(sandbox as PageGlobals)).toEqual([
      ['init', '1234567890'],
      ['track', 'PageView', {}, { eventID: 'pv-1' }],
      [
        'trackCustom',
        'WatchedDemo',
        { note: '</script><script>alert(1)</script>' },
        { eventID: 'wd-1' },
      ],
    ]);
    expect((sandbox.fbq as { disablePushState?: boolean }).disablePushState).toBe(true);
  });

  it('renders nothing in relay mode (@capi-kit/browser loads the Pixel after hydration)', () => {
    expect(renderToString(createElement(MetaPixel, { pixelId: '1', relay: '/capi/events' }))).toBe(
      '',
    );
  });
});

describe('trackPixel', () => {
  let page: ReturnType<typeof installPage>;
  beforeEach(() => {
    page = installPage();
  });
  afterEach(removePage);

  it('does nothing but return an ID during a server render or before <MetaPixel/> ran', () => {
    removePage();
    expect(trackPixel('Lead', {}, { eventID: 'x-1' })).toBe('x-1');
    page = installPage();
    expect(trackPixel('Lead')).toMatch(/^[0-9a-f-]{36}$/);
    expect(fbqCalls()).toEqual([]);
  });

  it("fires the browser copy with the server's event ID, once per ID", () => {
    startPixel({
      pixelId: '111',
      scriptUrl: '/stub.js',
      events: [{ event_name: 'PageView', event_id: 'pv-9' }],
    });
    startPixel({
      pixelId: '111',
      scriptUrl: '/stub.js',
      events: [{ event_name: 'PageView', event_id: 'pv-9' }],
    });
    expect(trackPixel('CompleteRegistration', {}, { eventID: 'srv-1' })).toBe('srv-1');
    trackPixel('CompleteRegistration', {}, { eventID: 'srv-1' });
    trackPixel('BookedCall', { slot: 'am' }, { eventID: 'srv-2' });
    expect(page.scripts).toHaveLength(1);
    expect(fbqCalls()).toEqual([
      ['init', '111'],
      ['track', 'PageView', {}, { eventID: 'pv-9' }],
      ['track', 'CompleteRegistration', {}, { eventID: 'srv-1' }],
      ['trackCustom', 'BookedCall', { slot: 'am' }, { eventID: 'srv-2' }],
    ]);
  });

  it('sends to one pixel with trackSingle when several are on the page', () => {
    startPixel({ pixelId: '111' });
    startPixel({ pixelId: '222' });
    trackPixel('Lead', {}, { eventID: 'e-1', pixelId: '222' });
    expect(fbqCalls().at(-1)).toEqual(['trackSingle', '222', 'Lead', {}, { eventID: 'e-1' }]);
  });

  it('fires each event on every pixel of the page (two <MetaPixel/> with one events list, trackPixel without pixelId)', () => {
    const events = [{ event_name: 'PageView', event_id: 'pv-two' }];
    startPixel({ pixelId: '555', scriptUrl: '/stub.js', events });
    startPixel({ pixelId: '666', scriptUrl: '/stub.js', events });
    expect(trackPixel('Lead', {}, { eventID: 'lead-two' })).toBe('lead-two');
    trackPixel('Lead', {}, { eventID: 'lead-two' });
    expect(fbqCalls()).toEqual([
      ['init', '555'],
      ['track', 'PageView', {}, { eventID: 'pv-two' }],
      ['init', '666'],
      ['trackSingle', '666', 'PageView', {}, { eventID: 'pv-two' }],
      ['trackSingle', '555', 'Lead', {}, { eventID: 'lead-two' }],
      ['trackSingle', '666', 'Lead', {}, { eventID: 'lead-two' }],
    ]);
  });

  it('relay mode: server events go to the Pixel only, browser-only events also to the relay', async () => {
    startPixel({
      pixelId: '333',
      scriptUrl: '/stub.js',
      relay: '/capi/events',
      events: [{ event_name: 'PageView', event_id: 'pv-r' }],
    });
    trackPixel('Lead', {}, { eventID: 'srv-r' });
    const cartId = trackPixel('AddToCart', { value: 9.5, currency: 'EUR' });
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(fbqCalls().filter((call) => call[0] === 'init')).toEqual([['init', '333']]);
    expect(fbqCalls().filter((call) => call[0] === 'track')).toEqual([
      ['track', 'PageView', {}, { eventID: 'pv-r' }],
      ['track', 'Lead', {}, { eventID: 'srv-r' }],
      ['track', 'AddToCart', { value: 9.5, currency: 'EUR' }, { eventID: cartId }],
    ]);
    expect(page.beacons).toHaveLength(1);
    expect(page.beacons[0]?.url).toBe('/capi/events');
    const payload = JSON.parse(await page.beacons[0]!.body.text());
    expect(payload).toMatchObject({
      v: 1,
      pixel_id: '333',
      events: [
        { event_name: 'AddToCart', event_id: cartId, custom_data: { value: 9.5, currency: 'EUR' } },
      ],
    });
  });

  it('never throws into the page', () => {
    startPixel({ pixelId: '444' });
    (globalThis as Record<string, unknown>).fbq = vi.fn(() => {
      throw new Error('blocked');
    });
    expect(() => trackPixel('Lead', {}, { eventID: 'boom' })).not.toThrow();
  });
});
