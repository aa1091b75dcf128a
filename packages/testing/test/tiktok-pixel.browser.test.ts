// The TikTok Pixel stub in a real browser: Debian's Chromium (through playwright-core) loads a shop
// page, on its own origin, carrying TikTok's base code with events.js pointed at the mock's stub
// (the one change a developer makes, as `<TikTokPixel scriptUrl>` does). The page loads two pixels,
// identifies the visitor, and on a click fires `ttq.track('CompletePayment', …, { event_id: 'X' })`;
// the server copy with `event_id: 'X'` goes to the Events API endpoint. The mock's Events Manager
// page, open in another tab, must show the pair as one deduplicated TikTok row, live (SSE).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  haveChromium,
  launchChromium,
  noChromium,
} from '../../../scripts/test-support/chromium.ts';
// <TikTokPixel/>'s own loader (read, not changed): its inline script is this function's source.
import { bootTikTok, type TikTokBootConfig } from '../../next/src/boot-tiktok.js';
import { type MockGraph, startMockGraph } from '../src/index.js';
import { PIXEL_CODE, postTikTok, tiktokBody, validTikTokEvent } from './tiktok-fixtures.js';

declare module 'vitest' {
  interface TaskMeta {
    /** Why a skipped test did not run; `npm test` prints one line per reason before its totals. */
    skipReason?: string | undefined;
  }
}

const SECOND_CODE = 'C4SECONDPIXEL0000000';
/** A value given to `ttq.identify`: it must never leave the page. */
const EMAIL = 'ada@example.com';

/**
 * A shop page with TikTok's base code (the shape TikTok's Events Manager hands out: an array queue
 * named by `TiktokAnalyticsObject`, `setAndDefer`, `instance`, and a `load` that adds
 * `events.js?sdkid=<code>&lib=ttq`, one script per pixel), written out here with `src` on the mock.
 */
const shopPage = (src: string) => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>shop</title>
<script>
(function (w, d, t) {
  w.TiktokAnalyticsObject = t;
  var ttq = (w[t] = w[t] || []);
  ttq.methods = ['page', 'track', 'identify', 'instances', 'debug', 'on', 'off', 'once', 'ready', 'alias', 'group',
    'enableCookie', 'disableCookie', 'holdConsent', 'revokeConsent', 'grantConsent'];
  ttq.setAndDefer = function (target, method) {
    target[method] = function () { target.push([method].concat(Array.prototype.slice.call(arguments, 0))); };
  };
  for (var i = 0; i < ttq.methods.length; i++) ttq.setAndDefer(ttq, ttq.methods[i]);
  ttq.instance = function (code) {
    var queue = ttq._i[code] || [];
    for (var n = 0; n < ttq.methods.length; n++) ttq.setAndDefer(queue, ttq.methods[n]);
    return queue;
  };
  ttq.load = function (code, options) {
    var url = ${JSON.stringify(src)};
    ttq._i = ttq._i || {}; ttq._i[code] = []; ttq._i[code]._u = url;
    ttq._t = ttq._t || {}; ttq._t[code] = +new Date();
    ttq._o = ttq._o || {}; ttq._o[code] = options || {};
    var s = d.createElement('script');
    s.type = 'text/javascript'; s.async = true; s.src = url + '?sdkid=' + code + '&lib=' + t;
    var first = d.getElementsByTagName('script')[0];
    first.parentNode.insertBefore(s, first);
  };
  ttq.load(${JSON.stringify(PIXEL_CODE)});
  ttq.load(${JSON.stringify(SECOND_CODE)});
  ttq.page();
  ttq.identify({ email: ${JSON.stringify(EMAIL)}, phone_number: '+442079460958' });
  // Queued on one pixel before events.js arrives.
  ttq.instance(${JSON.stringify(SECOND_CODE)}).track('ViewContent', { contents: [{ content_id: 'sku-1' }] }, { event_id: 'vc-1' });
})(window, document, 'ttq');
</script></head>
<body>
<button id="buy">Buy</button>
<script>
  var circular = {}; circular.self = circular;
  document.getElementById('buy').addEventListener('click', function () {
    window.__returned = [];
    // A page's mistakes: nothing may throw into it.
    window.__returned.push(typeof ttq.track());
    window.__returned.push(typeof ttq.track('Broken', circular, { event_id: 'never' }));
    window.__returned.push(typeof ttq.identify(null));
    window.__returned.push(typeof ttq.holdConsent());
    ttq.ready(function () { throw new Error('a ready callback that throws'); });
    // The purchase, on the first pixel only, with the id the server copy carries.
    ttq.track('CompletePayment', { value: 49.9, currency: 'GBP', contents: [{ content_id: 'sku-1', quantity: 1, price: 49.9 }] },
      { event_id: 'X', pixel_code: ${JSON.stringify(PIXEL_CODE)} });
    window.__clicked = true;
  });
</script>
</body></html>`;

/** A page rendered by `<TikTokPixel pixelCode events scriptUrl>`: its inline boot script. */
const nextPage = (config: TikTokBootConfig) => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>next</title>
<script>(${bootTikTok.toString()})(${JSON.stringify(config).replaceAll('<', '\\u003c')});</script>
</head><body>next</body></html>`;

async function startShop(scriptUrl: string): Promise<{ url: string; server: Server }> {
  const page = shopPage(scriptUrl);
  const next = nextPage({
    code: 'C4NEXTPIXEL000000000',
    src: scriptUrl,
    ev: [{ name: 'CompletePayment', data: { value: 12, currency: 'USD' }, id: 'next-1' }],
  });
  const server = createServer((req, res) => {
    if (req.url === '/') res.writeHead(200, { 'content-type': 'text/html' }).end(page);
    else if (req.url === '/next') res.writeHead(200, { 'content-type': 'text/html' }).end(next);
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, server };
}

if (!haveChromium && process.env.CI) {
  describe('the TikTok Pixel stub in a real browser', () => {
    it('needs Chromium', () => {
      throw new Error(`${noChromium}. CI must run this test.`);
    });
  });
} else {
  describe('the TikTok Pixel stub in a real browser (Chromium)', {
    skip: !haveChromium,
    meta: { skipReason: noChromium },
  }, () => {
    let mock: MockGraph;
    let shop: Awaited<ReturnType<typeof startShop>>;
    let browser: Browser;

    beforeAll(async () => {
      mock = await startMockGraph();
      shop = await startShop(mock.tiktok.pixelScriptUrl);
      browser = await launchChromium();
    }, 30_000);

    afterAll(async () => {
      await browser?.close();
      shop?.server.closeAllConnections();
      await new Promise((resolve) => shop?.server.close(resolve));
      await mock?.close();
    });

    it('pairs the Pixel’s CompletePayment with the Events API copy of the same event_id, live on the page', async () => {
      const context = await browser.newContext();
      // The mock's Events Manager page, open before anything happens: it must update itself.
      const manager = await context.newPage();
      const managerErrors: string[] = [];
      manager.on('pageerror', (e) => managerErrors.push(String(e)));
      await manager.goto(`${mock.url}/`);
      await manager.waitForSelector('#status:has-text("Live")');

      const shopTab = await context.newPage();
      const shopErrors: string[] = [];
      shopTab.on('pageerror', (e) => shopErrors.push(String(e)));
      const bodies: string[] = [];
      shopTab.on('request', (r) => {
        if (r.url().startsWith(mock.url)) bodies.push(`${r.url()} ${r.postData() ?? ''}`);
      });
      await shopTab.goto(`${shop.url}/`);
      // Two loads, two script tags; the first copy takes over, the second stops.
      await expect
        .poll(() => mock.tiktok.browserEvents().length, { timeout: 5000 })
        .toBeGreaterThanOrEqual(3);
      await shopTab.click('#buy');
      await shopTab.waitForFunction('window.__clicked === true');
      expect(await shopTab.evaluate('window.__returned')).toEqual([
        'object',
        'object',
        'object',
        'object',
      ]);
      await expect
        .poll(() => mock.tiktok.browserEvents({ event: 'CompletePayment' }).length, {
          timeout: 5000,
        })
        .toBe(1);

      const seen = mock.tiktok
        .browserEvents()
        .map((e) => [e.pixelCode, e.method, e.event, e.event_id ?? '-'].join(' '))
        .sort();
      expect(seen).toEqual(
        [
          `${PIXEL_CODE} page Pageview -`,
          `${PIXEL_CODE} track CompletePayment X`,
          `${SECOND_CODE} page Pageview -`,
          `${SECOND_CODE} track ViewContent vc-1`,
        ].sort(),
      );
      const [purchase] = mock.tiktok.browserEvents({ event: 'CompletePayment' });
      expect(purchase).toMatchObject({
        platform: 'tiktok',
        source: 'browser',
        properties: { value: 49.9, currency: 'GBP' },
        page_url: `${shop.url}/`,
        matchKeys: ['email', 'phone', 'ip', 'user_agent'],
      });
      // identify's values stayed in the page: only key names went out.
      expect(bodies.length).toBeGreaterThan(0);
      expect(bodies.join('\n')).not.toContain(EMAIL);
      expect(bodies.join('\n')).not.toContain('7946');
      expect(shopErrors).toEqual([]);

      // The server copy, as @capi-kit/tiktok would send it.
      const server = await postTikTok(
        mock,
        tiktokBody([validTikTokEvent({ event: 'CompletePayment', event_id: 'X' })]),
      );
      expect(server.json).toMatchObject({ code: 0 });

      const row = manager.locator('tbody[data-dedup="deduplicated"]');
      await row.waitFor({ timeout: 5000 });
      expect(await row.count()).toBe(1);
      const text = (await row.textContent()) ?? '';
      expect(text).toContain('CompletePayment');
      expect(text).toContain(`TikTok pixel ${PIXEL_CODE}`);
      expect(text).toContain('browser (TikTok Pixel)');
      expect(text).toContain('server (TikTok Events API)');
      expect(await row.locator('tr.copy').count()).toBe(2);
      expect(managerErrors).toEqual([]);

      // The same pairing in the JSON the page reads.
      const view = mock.eventsManager({ pixelId: PIXEL_CODE, event_name: 'CompletePayment' });
      expect(view.rows).toHaveLength(1);
      expect(view.rows[0]).toMatchObject({
        platform: 'tiktok',
        eventId: 'X',
        dedup: 'deduplicated',
      });
      await context.close();
    }, 30_000);

    it('works behind <TikTokPixel scriptUrl>: its boot script loads the stub, which replays its queue', async () => {
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(String(e)));
      await page.goto(`${shop.url}/next`);
      await expect
        .poll(() => mock.tiktok.browserEvents({ pixelCode: 'C4NEXTPIXEL000000000' }).length, {
          timeout: 5000,
        })
        .toBe(2);
      expect(
        mock.tiktok
          .browserEvents({ pixelCode: 'C4NEXTPIXEL000000000' })
          .map((e) => [e.event, e.event_id ?? '-'].join(' ')),
      ).toEqual(['Pageview -', 'CompletePayment next-1']);
      // After the take-over, ttq answers directly: a later track is sent at once.
      await page.evaluate(
        "ttq.track('AddToCart', { value: 3, currency: 'USD' }, { event_id: 'next-2' })",
      );
      await expect
        .poll(() => mock.tiktok.browserEvents({ event: 'AddToCart' }).length, { timeout: 5000 })
        .toBe(1);
      expect(errors).toEqual([]);
      await page.close();
    }, 30_000);
  });
}
