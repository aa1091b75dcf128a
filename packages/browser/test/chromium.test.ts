// The built module in a real browser: Debian's Chromium (through playwright-core) loads a page with
// a stub `fbq` and a `ttq` shaped like TikTok's base code (an array queue whose methods push
// `[method, ...args]`), both recording their calls, and a loopback server standing in for the
// relay. One click fires one event: the Meta Pixel, the TikTok Pixel and the relay POST must all
// carry the same ID.
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  haveChromium,
  launchChromium,
  noChromium,
} from '../../../scripts/test-support/chromium.ts';
import type { RelayPayload } from '../src/index.js';

declare module 'vitest' {
  interface TaskMeta {
    /** Why a skipped test did not run; `npm test` prints one line per reason before its totals. */
    skipReason?: string | undefined;
  }
}

// What ships: the ESM build (turbo builds the package before its tests).
const BUILT_MODULE = fileURLToPath(new URL('../dist/index.mjs', import.meta.url));
const PIXEL_ID = '1234567890';

const PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>pixels</title>
<script>
  // Meta: an fbq the page already has (createPixel then loads nothing), recording each call.
  window.__fbqCalls = [];
  window.fbq = function () { window.__fbqCalls.push(JSON.parse(JSON.stringify([].slice.call(arguments)))); };
  // TikTok: the base code's queue, before events.js arrives to replay it.
  var ttq = (window.ttq = []);
  ['page', 'track', 'identify'].forEach(function (method) {
    ttq[method] = function () { ttq.push(JSON.parse(JSON.stringify([method].concat([].slice.call(arguments))))); };
  });
  ttq.page();
</script></head>
<body>
<button id="buy">Buy</button>
<script type="module">
  import { createPixel } from '/capi-kit-browser.mjs';
  const pixel = createPixel({ pixelId: ${JSON.stringify(PIXEL_ID)} });
  document.getElementById('buy').addEventListener('click', () => {
    window.__eventId = pixel.track('Purchase', {
      value: 59.8,
      currency: 'eur',
      content_type: 'product',
      contents: [{ id: 'sku-1', quantity: 2, item_price: 29.9 }],
      order_id: 'order-1',
    });
  });
  window.__ready = true;
</script>
</body></html>`;

// Two events of 40 KB in one tick: two requests (64 KiB at most each), the first of which takes
// most of the 64 KiB a page may have in flight in beacons and keepalive fetches.
const BIG_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>big</title></head>
<body>
<script type="module">
  import { createPixel } from '/capi-kit-browser.mjs';
  const pixel = createPixel({ pixelId: ${JSON.stringify(PIXEL_ID)}, autoLoad: false });
  window.__fire = () => {
    const content_name = 'x'.repeat(40000);
    return [pixel.track('ViewContent', { content_name }), pixel.track('ViewContent', { content_name })];
  };
  window.__ready = true;
</script>
</body></html>`;

// A relay on another origin of the same site (pages on www., the relay on api.), which the server
// relay takes as first-party.
const API_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>api</title></head>
<body>
<script type="module">
  import { createPixel } from '/capi-kit-browser.mjs';
  const relay = 'http://api.shop.test:' + location.port + '/capi/events';
  const pixel = createPixel({ pixelId: ${JSON.stringify(PIXEL_ID)}, autoLoad: false, relay });
  window.__fire = () => pixel.track('Lead');
  window.__ready = true;
</script>
</body></html>`;

// The module twice: an app bundle and a widget's, each with its own copy (here one file under two
// URLs), each tracking its own pixel.
const TWO_COPIES_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>two copies</title>
<script>
  window.__fbqCalls = [];
  window.fbq = function () { window.__fbqCalls.push(JSON.parse(JSON.stringify([].slice.call(arguments)))); };
</script></head>
<body>
<script type="module">
  import { createPixel as app } from '/capi-kit-browser.mjs';
  import { createPixel as widget } from '/capi-kit-browser.mjs?copy=2';
  const shop = app({ pixelId: '111' });
  const partner = widget({ pixelId: '222' });
  window.__fire = () => [shop.track('AddToCart'), partner.track('Lead')];
  window.__ready = true;
</script>
</body></html>`;

// One Lead per call, for the offline test.
const LEAD_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>lead</title></head>
<body>
<script type="module">
  import { createPixel } from '/capi-kit-browser.mjs';
  const pixel = createPixel({ pixelId: ${JSON.stringify(PIXEL_ID)}, autoLoad: false });
  window.__fire = () => pixel.track('Lead');
  window.__ready = true;
</script>
</body></html>`;

// A page under Trusted Types (served with CSP `require-trusted-types-for 'script'`) and no policy:
// setting a script's `src` throws, so createPixel cannot inject fbevents.js. The page loads it
// itself, later (a tag manager, or an async tag that runs after the module); until then the stub
// must hold the pixel's init and its events.
const TRUSTED_TYPES_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>trusted types</title></head>
<body>
<script type="module">
  import { createPixel } from '/capi-kit-browser.mjs';
  const pixel = createPixel({ pixelId: ${JSON.stringify(PIXEL_ID)} });
  window.__fire = () => pixel.track('Lead');
  window.__ready = true;
</script>
</body></html>`;

type RelayPost = { headers: IncomingHttpHeaders; body: RelayPayload };

async function startSite(): Promise<{ url: string; posts: RelayPost[]; server: Server }> {
  const moduleCode = await readFile(BUILT_MODULE, 'utf8');
  const posts: RelayPost[] = [];
  const server = createServer((req, res) => {
    if (req.method === 'POST' && req.url === '/capi/events') {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        posts.push({
          headers: req.headers,
          body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as RelayPayload,
        });
        res.writeHead(204).end();
      });
      return;
    }
    if (req.url?.startsWith('/capi-kit-browser.mjs')) {
      res.writeHead(200, { 'content-type': 'text/javascript' }).end(moduleCode);
    } else if (req.url === '/' || req.url === '/big') {
      res.writeHead(200, { 'content-type': 'text/html' }).end(req.url === '/' ? PAGE : BIG_PAGE);
    } else if (req.url === '/lead') {
      res.writeHead(200, { 'content-type': 'text/html' }).end(LEAD_PAGE);
    } else if (req.url === '/two-copies') {
      res.writeHead(200, { 'content-type': 'text/html' }).end(TWO_COPIES_PAGE);
    } else if (req.url === '/trusted-types') {
      res
        .writeHead(200, {
          'content-type': 'text/html',
          'content-security-policy': "require-trusted-types-for 'script'",
        })
        .end(TRUSTED_TYPES_PAGE);
    } else if (req.url === '/api') {
      // The Pixel's first-party cookie, set on the site (as fbevents.js does) for the relay to read.
      res
        .writeHead(200, {
          'content-type': 'text/html',
          'set-cookie': '_fbp=fb.1.1767225600000.42; Domain=shop.test; Path=/',
        })
        .end(API_PAGE);
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, posts, server };
}

if (!haveChromium && process.env.CI) {
  describe('pixels in a real browser', () => {
    it('needs Chromium', () => {
      throw new Error(`${noChromium}. CI must run this test.`);
    });
  });
} else {
  describe('pixels in a real browser (Chromium)', {
    skip: !haveChromium,
    meta: { skipReason: noChromium },
  }, () => {
    let site: Awaited<ReturnType<typeof startSite>>;
    let browser: Browser;

    beforeAll(async () => {
      site = await startSite();
      // www.shop.test and api.shop.test: two origins of one site, both on the loopback server.
      browser = await launchChromium(['--host-resolver-rules=MAP *.shop.test 127.0.0.1']);
    }, 30_000);

    afterAll(async () => {
      await browser?.close();
      site?.server.closeAllConnections();
      await new Promise((resolve) => site?.server.close(resolve));
    });

    it('one click: fbq, ttq and the relay POST get the same event ID', async () => {
      const page = await browser.newPage();
      await page.goto(`${site.url}/`);
      await page.waitForFunction('window.__ready === true');
      await page.click('#buy');
      const eventId = (await page.evaluate('window.__eventId')) as string;
      expect(eventId).toMatch(/^[0-9a-f-]{36}$/);

      const fbqCalls = (await page.evaluate('window.__fbqCalls')) as unknown[][];
      expect(fbqCalls).toEqual([
        ['init', PIXEL_ID],
        [
          'track',
          'Purchase',
          {
            value: 59.8,
            currency: 'eur',
            content_type: 'product',
            contents: [{ id: 'sku-1', quantity: 2, item_price: 29.9 }],
            order_id: 'order-1',
          },
          { eventID: eventId },
        ],
      ]);

      // The base code's own page() stays first; then the event, in TikTok's names.
      const ttqQueue = (await page.evaluate('Array.from(window.ttq)')) as unknown[][];
      expect(ttqQueue).toEqual([
        ['page'],
        [
          'track',
          'Purchase',
          {
            contents: [{ content_id: 'sku-1', quantity: 2, price: 29.9 }],
            content_type: 'product',
            value: 59.8,
            currency: 'EUR',
            order_id: 'order-1',
          },
          { event_id: eventId },
        ],
      ]);

      await expect.poll(() => site.posts.length, { timeout: 5000 }).toBe(1);
      const [post] = site.posts;
      expect(post!.headers['sec-fetch-site']).toBe('same-origin');
      expect(post!.body).toMatchObject({
        v: 1,
        pixel_id: PIXEL_ID,
        events: [{ event_name: 'Purchase', event_id: eventId }],
      });
      expect(post!.body.events).toHaveLength(1);
      await page.close();
    }, 30_000); // a real browser on a shared 2-core machine: the 5 s default is too tight under load

    it('a request the beacon budget has no room for still arrives (plain fetch)', async () => {
      site.posts.length = 0;
      const page = await browser.newPage();
      await page.goto(`${site.url}/big`);
      await page.waitForFunction('window.__ready === true');
      const ids = (await page.evaluate('window.__fire()')) as string[];
      await expect.poll(() => site.posts.length, { timeout: 5000 }).toBe(2);
      const relayed = site.posts.flatMap((post) => post.body.events.map((e) => e.event_id));
      expect(relayed.sort()).toEqual([...ids].sort());
      await page.close();
    }, 30_000);

    it('without sendBeacon, a keepalive fetch the budget has no room for is sent again as a plain fetch', async () => {
      site.posts.length = 0;
      // Firefox with beacon.enabled off, or an extension that removes it: keepalive fetches only.
      // The second 40 KB request does not fit the 64 KiB in flight, and Chromium rejects it.
      const context = await browser.newContext();
      await context.addInitScript('delete Navigator.prototype.sendBeacon');
      const page = await context.newPage();
      await page.goto(`${site.url}/big`);
      await page.waitForFunction('window.__ready === true');
      expect(await page.evaluate('typeof navigator.sendBeacon')).toBe('undefined');
      const ids = (await page.evaluate('window.__fire()')) as string[];
      await expect.poll(() => site.posts.length, { timeout: 5000 }).toBe(2);
      const relayed = site.posts.flatMap((post) => post.body.events.map((e) => e.event_id));
      expect(relayed.sort()).toEqual([...ids].sort());
      await context.close();
    }, 30_000);

    it('without sendBeacon, a relay on another origin of the site gets each event once', async () => {
      site.posts.length = 0;
      // The keepalive fetch arrives, and the relay's answer has no CORS headers: a CORS-mode fetch
      // then rejects as a refused one does, and sending it again would relay the event twice.
      const context = await browser.newContext();
      await context.addInitScript('delete Navigator.prototype.sendBeacon');
      const page = await context.newPage();
      await page.goto(`${site.url.replace('127.0.0.1', 'www.shop.test')}/api`);
      await page.waitForFunction('window.__ready === true');
      const eventId = (await page.evaluate('window.__fire()')) as string;
      await expect.poll(() => site.posts.length, { timeout: 5000 }).toBe(1);
      // A second copy would come right behind the first: give it time to arrive.
      await page.evaluate('fetch("/lead").then((r) => r.text())');
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(site.posts.map((post) => post.body.events[0]!.event_id)).toEqual([eventId]);
      expect(site.posts[0]!.headers['content-type']).toBe('text/plain');
      expect(site.posts[0]!.headers.cookie).toBe('_fbp=fb.1.1767225600000.42');
      await context.close();
    }, 30_000);

    it('two copies of the module: each pixel init once, each event on its own pixel only', async () => {
      site.posts.length = 0;
      const page = await browser.newPage();
      await page.goto(`${site.url}/two-copies`);
      await page.waitForFunction('window.__ready === true');
      const [a, b] = (await page.evaluate('window.__fire()')) as string[];
      // fbq('track') would reach both pixels, while the relay sends the event for one.
      expect(await page.evaluate('window.__fbqCalls')).toEqual([
        ['init', '111'],
        ['init', '222'],
        ['trackSingle', '111', 'AddToCart', {}, { eventID: a }],
        ['trackSingle', '222', 'Lead', {}, { eventID: b }],
      ]);
      await expect.poll(() => site.posts.length, { timeout: 5000 }).toBe(2);
      const relayed = site.posts.map((post) => [post.body.pixel_id, post.body.events[0]!.event_id]);
      expect(relayed.sort()).toEqual([
        ['111', a],
        ['222', b],
      ]);
      await page.close();
    }, 30_000);

    it('an event fired offline reaches the relay once the browser is back online', async () => {
      site.posts.length = 0;
      const context = await browser.newContext();
      const page = await context.newPage();
      await page.goto(`${site.url}/lead`);
      await page.waitForFunction('window.__ready === true');
      await context.setOffline(true);
      const offline = (await page.evaluate('window.__fire()')) as string;
      // Chromium's sendBeacon says true offline, then the request fails: the copy was lost. A
      // request made after it fails too before the browser goes back online.
      expect(await page.evaluate("fetch('/lead').then(() => 'sent', () => 'failed')")).toBe(
        'failed',
      );
      await context.setOffline(false);
      const online = (await page.evaluate('window.__fire()')) as string;
      await expect.poll(() => site.posts.length, { timeout: 5000 }).toBe(2);
      const relayed = site.posts.flatMap((post) => post.body.events.map((e) => e.event_id));
      expect(relayed.sort()).toEqual([offline, online].sort());
      await context.close();
    }, 30_000);

    it('under Trusted Types, where injecting fbevents.js throws, the stub still holds the init and the event', async () => {
      site.posts.length = 0;
      const page = await browser.newPage();
      await page.goto(`${site.url}/trusted-types`);
      await page.waitForFunction('window.__ready === true');
      const eventId = (await page.evaluate('window.__fire()')) as string;
      // What fbevents.js replays once the page loads it: before the fix, nothing (the throw left
      // the pixel un-init'ed, and every event after it skipped the Pixel).
      expect(await page.evaluate('JSON.parse(JSON.stringify(window.fbq.queue))')).toEqual([
        ['init', PIXEL_ID],
        ['track', 'Lead', {}, { eventID: eventId }],
      ]);
      expect(await page.evaluate('window.fbq.disablePushState')).toBe(true);
      await expect.poll(() => site.posts.length, { timeout: 5000 }).toBe(1);
      expect(site.posts[0]!.body.events.map((e) => e.event_id)).toEqual([eventId]);
      await page.close();
    }, 30_000);

    it('a relay on another origin of the site gets the event and the cookies', async () => {
      site.posts.length = 0;
      const page = await browser.newPage();
      await page.goto(`${site.url.replace('127.0.0.1', 'www.shop.test')}/api`);
      await page.waitForFunction('window.__ready === true');
      const eventId = (await page.evaluate('window.__fire()')) as string;
      await expect.poll(() => site.posts.length, { timeout: 5000 }).toBe(1);
      const [post] = site.posts;
      expect(post!.headers.host).toMatch(/^api\.shop\.test:/);
      expect(post!.headers['content-type']).toBe('text/plain');
      expect(post!.headers.cookie).toBe('_fbp=fb.1.1767225600000.42');
      expect(post!.body.events.map((e) => e.event_id)).toEqual([eventId]);
      await page.close();
    }, 30_000);
  });
}
