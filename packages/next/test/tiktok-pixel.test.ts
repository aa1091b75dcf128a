import { createContext, runInContext } from 'node:vm';
import { MetaPixel, TikTokPixel } from '@capi-kit/next/client';
import { createElement, Fragment } from 'react';
import { renderToString } from 'react-dom/server';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startPixel, trackPixel } from '../src/pixel-runtime.ts';
import { startTikTok } from '../src/tiktok-runtime.ts';

type Call = unknown[];
type Page = Record<string, unknown> & {
  ttq?: Call[] & { _i?: Record<string, { _u?: string }>; _o?: Record<string, unknown> };
  fbq?: { queue: Call[] };
};

const CODE = 'C4A0TIKTOK0CODE';
const EVENTS = [
  { event_name: 'PageView', event_id: 'pv-1' },
  {
    event_name: 'Lead',
    event_id: 'lead-1',
    custom_data: { content_name: '</script><script>alert(1)</script>', my_key: 'x' },
  },
  {
    event_name: 'Purchase',
    event_id: 'order-1',
    custom_data: { value: 10, currency: 'usd', contents: [{ id: 'sku-1', quantity: 1 }] },
  },
];

/** The calls queued on `ttq` (events.js never loads in these tests). */
const ttqCalls = (page: Page = globalThis as Page): Call[] =>
  Array.from(page.ttq ?? [], (call) => [...(call as Call)]);

/** The inline script of a server-rendered component, without its tag. */
const inlineCode = (html: string) => html.slice(html.indexOf('>') + 1, html.indexOf('</script>'));

/** A fresh realm with the little of a page the base code touches. */
function sandboxPage() {
  const scripts: { src?: string; type?: string; async?: boolean }[] = [];
  const sandbox: Record<string, unknown> = {
    document: {
      createElement: () => ({}),
      head: { appendChild: (el: { src?: string }) => scripts.push(el) },
    },
  };
  sandbox.window = sandbox;
  return { sandbox, scripts, context: createContext(sandbox) };
}

describe('<TikTokPixel/> server render', () => {
  const html = renderToString(
    createElement(TikTokPixel, {
      pixelCode: CODE,
      scriptUrl: 'http://127.0.0.1:9/events.js',
      events: EVENTS,
      nonce: 'abc123',
    }),
  );

  it('inlines one script with the nonce, escaped for a script element', () => {
    expect(html).toMatch(/^<script nonce="abc123">/);
    expect(html.match(/<\/script>/g)).toHaveLength(1);
    expect(html).not.toContain('</script><script>alert(1)');
  });

  it("run alone: TikTok's base code, load + page once, each event once in TikTok's names with its event_id", () => {
    const { sandbox, scripts, context } = sandboxPage();
    runInContext(inlineCode(html), context);
    // What the component does after hydration: the same again, which must change nothing.
    runInContext(inlineCode(html), context);
    expect(sandbox.TiktokAnalyticsObject).toBe('ttq');
    expect(scripts).toEqual([
      {
        type: 'text/javascript',
        async: true,
        src: `http://127.0.0.1:9/events.js?sdkid=${CODE}&lib=ttq`,
      },
    ]);
    const ttq = (sandbox as Page).ttq!;
    expect(ttq._i?.[CODE]?._u).toBe('http://127.0.0.1:9/events.js');
    expect(ttqCalls(sandbox as Page)).toEqual([
      ['page'],
      ['track', 'PageView', {}, { event_id: 'pv-1' }],
      [
        'track',
        'Lead',
        { description: '</script><script>alert(1)</script>' },
        { event_id: 'lead-1' },
      ],
      [
        'track',
        'Purchase',
        { contents: [{ content_id: 'sku-1', quantity: 1 }], value: 10, currency: 'USD' },
        { event_id: 'order-1' },
      ],
    ]);
  });

  it('next to <MetaPixel/>: both pixels get every server event with the same ID', () => {
    const both = renderToString(
      createElement(
        Fragment,
        null,
        createElement(MetaPixel, { pixelId: '1234567890', events: EVENTS }),
        createElement(TikTokPixel, { pixelCode: CODE, events: EVENTS }),
      ),
    );
    const { sandbox, context } = sandboxPage();
    for (const [, code] of both.matchAll(/<script>([\s\S]*?)<\/script>/g)) {
      runInContext(code!, context);
    }
    const metaIds = (sandbox as Page)
      .fbq!.queue.filter((call) => call[0] !== 'init')
      .map((call) => (call[3] as { eventID: string }).eventID);
    const tiktokIds = ttqCalls(sandbox as Page)
      .filter((call) => call[0] === 'track')
      .map((call) => (call[3] as { event_id: string }).event_id);
    expect(metaIds).toEqual(['pv-1', 'lead-1', 'order-1']);
    expect(tiktokIds).toEqual(metaIds);
  });

  it("keeps a pixel the page's own base code already loaded", () => {
    const { sandbox, scripts, context } = sandboxPage();
    const loads: unknown[] = [];
    const existing = Object.assign([] as Call[], {
      _i: { [CODE]: [] },
      load: (...args: unknown[]) => loads.push(args),
      page: () => loads.push('page'),
      track(...args: unknown[]) {
        existing.push(['track', ...args]);
      },
    });
    sandbox.ttq = existing;
    runInContext(inlineCode(html), context);
    expect(loads).toEqual([]);
    expect(scripts).toEqual([]);
    expect(ttqCalls(sandbox as Page)).toHaveLength(3);
  });

  it('takes pixel codes and overrides as data, never as code', () => {
    const hostile = renderToString(
      createElement(TikTokPixel, {
        pixelCode: `x');alert(1);//</script>`,
        eventNames: { Purchase: 'CompletePayment' },
        events: EVENTS.slice(2),
      }),
    );
    expect(hostile.match(/<\/script>/g)).toHaveLength(1);
    const { sandbox, scripts, context } = sandboxPage();
    runInContext(inlineCode(hostile), context);
    expect(scripts[0]?.src).toBe(
      `https://analytics.tiktok.com/i18n/pixel/events.js?sdkid=${encodeURIComponent(`x');alert(1);//</script>`)}&lib=ttq`,
    );
    expect(ttqCalls(sandbox as Page).at(-1)?.[1]).toBe('CompletePayment');
  });
});

describe('trackPixel with the TikTok Pixel on the page', () => {
  const page = globalThis as unknown as Page;
  beforeEach(() => {
    Object.assign(globalThis, {
      window: globalThis,
      document: {
        referrer: '',
        createElement: () => ({}),
        head: { appendChild: () => 0, append: () => 0 },
      },
      location: { href: 'https://shop.example.com/cart' },
    });
    Object.defineProperty(globalThis, 'navigator', {
      configurable: true,
      value: { sendBeacon: () => true },
    });
  });
  afterEach(() => {
    for (const key of [
      'window',
      'document',
      'location',
      'fbq',
      '_fbq',
      '__capiKitPixel',
      'ttq',
      'TiktokAnalyticsObject',
      '__capiKitTikTok',
    ]) {
      delete (globalThis as Record<string, unknown>)[key];
    }
  });

  const tracked = () => ttqCalls().filter((call) => call[0] === 'track');

  it("fires the TikTok copy with the server's event ID, once per ID, beside the Meta copy", () => {
    startPixel({ pixelId: '111' });
    startTikTok({ pixelCode: CODE, eventNames: { Purchase: 'CompletePayment' } });
    trackPixel('Lead', { content_name: 'demo' }, { eventID: 'srv-1' });
    trackPixel('Lead', { content_name: 'demo' }, { eventID: 'srv-1' });
    trackPixel('Purchase', { value: 5, currency: 'EUR' }, { eventID: 'srv-2' });
    const generated = trackPixel('WatchedDemo');
    expect(tracked()).toEqual([
      ['track', 'Lead', { description: 'demo' }, { event_id: 'srv-1' }],
      ['track', 'CompletePayment', { value: 5, currency: 'EUR' }, { event_id: 'srv-2' }],
      ['track', 'WatchedDemo', {}, { event_id: generated }],
    ]);
    const metaIds = page
      .fbq!.queue.slice(1)
      .map((call) => (call[3] as { eventID: string }).eventID);
    expect(metaIds).toEqual(['srv-1', 'srv-2', generated]);
  });

  it('relay mode: one TikTok copy per event (not one per tracker)', () => {
    startTikTok({ pixelCode: CODE });
    startPixel({ pixelId: '333', relay: '/capi/events', events: EVENTS.slice(0, 1) });
    trackPixel('Lead', {}, { eventID: 'srv-r' });
    const cart = trackPixel('AddToCart', { value: 9.5, currency: 'EUR' });
    expect(tracked()).toEqual([
      ['track', 'Lead', {}, { event_id: 'srv-r' }],
      ['track', 'AddToCart', { value: 9.5, currency: 'EUR' }, { event_id: cart }],
    ]);
  });

  it('skips TikTok with tiktok: false, and without a TikTok Pixel on the page', () => {
    startTikTok({ pixelCode: CODE });
    trackPixel('Lead', {}, { eventID: 'a', tiktok: false });
    expect(tracked()).toEqual([]);
    delete page.ttq;
    expect(trackPixel('Lead', {}, { eventID: 'b' })).toBe('b');
    expect(page.ttq).toBeUndefined();
  });

  it('never throws into the page when ttq throws', () => {
    page.ttq = Object.assign([], {
      track: () => {
        throw new Error('blocked');
      },
    });
    expect(() => trackPixel('Lead', {}, { eventID: 'boom' })).not.toThrow();
    expect(() => startTikTok({ pixelCode: CODE, events: EVENTS })).not.toThrow();
  });
});
