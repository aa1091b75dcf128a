// The TikTok Pixel stub's script run in a small fake page (node:vm), for what a real browser makes
// hard to arrange: another global name, a second copy of the script, a beacon the browser refuses,
// a network that throws. The Chromium test (tiktok-pixel.browser.test.ts) covers the real thing.
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { TIKTOK_PIXEL_STUB_SCRIPT } from '../src/tiktok/pixel-stub.js';

/** The stub's `ttq`, as far as these tests call it. */
interface Ttq {
  load(code: string): void;
  track(...args: unknown[]): unknown;
  identify(user: unknown): unknown;
  ready(callback: () => void): unknown;
  holdConsent(): unknown;
  push(entry: unknown): unknown;
  instance(code: string): Ttq;
}

interface Sent {
  via: 'beacon' | 'fetch';
  url: string;
  body: Record<string, unknown>;
}

/** TikTok's base-code queue, as the base code leaves it before events.js arrives. */
const baseQueue = (codes: string[]) => {
  const methods = ['page', 'track', 'identify', 'ready', 'holdConsent'];
  const defer = (target: unknown[] & Record<string, unknown>, method: string) => {
    target[method] = (...args: unknown[]) => target.push([method, ...args]);
  };
  const ttq = [] as unknown as unknown[] & Record<string, unknown>;
  for (const m of methods) defer(ttq, m);
  ttq._i = Object.fromEntries(
    codes.map((code) => {
      const queue = [] as unknown as unknown[] & Record<string, unknown>;
      for (const m of methods) defer(queue, m);
      return [code, queue];
    }),
  );
  return ttq;
};

const fakePage = (
  options: {
    name?: string;
    ttq?: unknown;
    cookie?: string;
    href?: string;
    beacon?: (url: string, blob: Blob) => boolean;
    fetch?: (url: string, init: RequestInit) => Promise<unknown>;
  } = {},
) => {
  const sent: Promise<Sent>[] = [];
  const window: Record<string, unknown> = {};
  if (options.name) window.TiktokAnalyticsObject = options.name;
  if (options.ttq) window[options.name ?? 'ttq'] = options.ttq;
  const context = {
    window,
    document: {
      currentScript: { src: 'http://mock.test:4000/i18n/pixel/events.js?sdkid=C4A&lib=ttq' },
      cookie: options.cookie ?? '',
    },
    location: { href: options.href ?? 'https://shop.example/checkout' },
    navigator: {
      sendBeacon:
        options.beacon ??
        ((url: string, blob: Blob) => {
          sent.push(blob.text().then((t) => ({ via: 'beacon', url, body: JSON.parse(t) })));
          return true;
        }),
    },
    fetch:
      options.fetch ??
      ((url: string, init: RequestInit) => {
        sent.push(Promise.resolve({ via: 'fetch', url, body: JSON.parse(String(init.body)) }));
        return Promise.resolve({});
      }),
    Blob,
    URL,
  };
  const run = () => runInNewContext(TIKTOK_PIXEL_STUB_SCRIPT, context);
  return { window, run, sent: () => Promise.all(sent) };
};

describe('the TikTok Pixel stub script', () => {
  it('takes over the global TiktokAnalyticsObject names, once, however many copies load', async () => {
    const ttq = baseQueue(['C4A', 'C4B']);
    (ttq.page as () => void)();
    (ttq.identify as (u: unknown) => void)({ email: 'ada@example.com', phone_number: '' });
    (ttq._i as Record<string, Record<string, (...a: unknown[]) => void>>).C4B?.track?.(
      'ViewContent',
      {},
      { event_id: 'v-1' },
    );
    const page = fakePage({ name: 'tt2', ttq, cookie: '_ttp=2F7h37Yk; ttclid=E.C.P.abc' });
    page.run();
    page.run(); // the base code's second script tag
    expect(page.window.tt2).toBe(ttq); // the same object the page holds
    expect(Array.from(ttq)).toEqual([]); // the queue is drained
    const sent = await page.sent();
    expect(sent.map((s) => [s.via, s.url, s.body.code, s.body.ev, s.body.eid ?? '-'])).toEqual([
      ['beacon', 'http://mock.test:4000/tiktok/pixel', 'C4A', 'Pageview', '-'],
      ['beacon', 'http://mock.test:4000/tiktok/pixel', 'C4B', 'Pageview', '-'],
      ['beacon', 'http://mock.test:4000/tiktok/pixel', 'C4B', 'ViewContent', 'v-1'],
    ]);
    // Replayed in order: page() came before identify(); identify holds for every pixel after it,
    // names only (the empty phone_number is not a key).
    expect(sent.map((s) => s.body.user)).toEqual([[], [], ['email']]);
    expect(JSON.stringify(sent)).not.toContain('ada@example.com');
    expect(sent[0]?.body).toMatchObject({
      ttp: true,
      ttclid: true,
      url: 'https://shop.example/checkout',
    });
  });

  it('works without any base code, and answers calls directly once loaded', async () => {
    const page = fakePage({ href: 'https://shop.example/?ttclid=E.C.P.x' });
    page.run();
    const ttq = page.window.ttq as Ttq;
    ttq.load('C4NEW');
    ttq.track('AddToCart', { value: 2 }, { event_id: 'a-1' });
    ttq.instance('C4NEW').track('Search', {});
    const sent = await page.sent();
    expect(sent.map((s) => [s.body.code, s.body.ev, s.body.p, s.body.ttclid, s.body.ttp])).toEqual([
      ['C4NEW', 'AddToCart', { value: 2 }, true, false],
      ['C4NEW', 'Search', {}, true, false],
    ]);
  });

  it('falls back to fetch when the browser refuses the beacon, and never throws into the page', async () => {
    const refused = fakePage({ ttq: baseQueue(['C4A']), beacon: () => false });
    refused.run();
    (refused.window.ttq as Ttq).track(
      'Lead',
      {},
      {
        event_id: 'l-1',
      },
    );
    expect((await refused.sent()).map((s) => [s.via, s.body.ev, s.body.eid])).toEqual([
      ['fetch', 'Lead', 'l-1'],
    ]);

    const broken = fakePage({
      ttq: baseQueue(['C4A']),
      beacon: () => {
        throw new Error('beacon');
      },
      fetch: () => {
        throw new Error('fetch');
      },
    });
    broken.run();
    const ttq = broken.window.ttq as Ttq;
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    expect(() => {
      ttq.track('Lead', {}, { event_id: 'l-2' });
      ttq.track('Lead', circular);
      ttq.track();
      ttq.identify(null);
      ttq.ready(() => {
        throw new Error('ready');
      });
      ttq.holdConsent();
      ttq.push(['track', 'Lead']);
      ttq.push(null);
    }).not.toThrow();
  });
});
