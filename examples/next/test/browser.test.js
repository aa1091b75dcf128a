// @ts-check
// The whole loop in a real browser: Debian's Chromium driven by playwright-core against
// `next build && next start`, the mock Graph API, and a stub fbevents.js served here that records
// every `fbq` call. One visit from an ad click, one signup: Meta must get each event from the
// server with the browser's cookies and user agent and the same event ID the Pixel fired. With
// TikTok configured too, the TikTok Pixel (the mock's stub) fires each event with the same IDs.
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import { startMockGraph } from '@capi-kit/testing';
import { ACCESS_TOKEN, bothPlatformsEnv, PIXEL_ID } from 'capi-kit-example-contract';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { haveChromium, launchChromium, noChromium } from './chromium.js';
import { startNext } from './next-server.js';

/**
 * The `eventID` of an `fbq('track', name, data, { eventID })` call.
 * @param {unknown[] | undefined} call
 */
const eventIdOf = (call) => /** @type {{ eventID?: string } | undefined} */ (call?.[3])?.eventID;

/** @param {string} s */
const sha256 = (s) => createHash('sha256').update(s).digest('hex');

// fbevents.js stand-in: takes over the queue stub the way Meta's library does (`callMethod`,
// replaying `fbq.queue`) and keeps every call in `window.__pixelCalls`.
const STUB_PIXEL = `(function () {
  var f = window.fbq, calls = (window.__pixelCalls = window.__pixelCalls || []);
  var copy = function (args) { return JSON.parse(JSON.stringify(Array.prototype.slice.call(args))); };
  f.callMethod = function () { calls.push(copy(arguments)); };
  for (var i = 0; i < f.queue.length; i++) calls.push(copy(f.queue[i]));
  f.queue = [];
})();`;

if (!haveChromium && process.env.CI) {
  describe('browser end-to-end', () => {
    // launchChromium() fails with what to install.
    it('needs Chromium', async () => {
      await launchChromium();
    });
  });
} else {
  describe('browser end-to-end (Chromium)', {
    skip: !haveChromium,
    meta: { skipReason: noChromium },
  }, () => {
    /** @type {Awaited<ReturnType<typeof startMockGraph>>} */
    let mock;
    /** @type {Awaited<ReturnType<typeof startNext>>} */
    let app;
    /** @type {import('node:http').Server} */
    let pixelServer;
    /** @type {import('playwright-core').Browser} */
    let browser;
    let scriptRequests = 0;

    beforeAll(async () => {
      mock = await startMockGraph({ accessToken: ACCESS_TOKEN });
      pixelServer = createServer((req, res) => {
        if (req.url !== '/fbevents.js') {
          res.writeHead(404).end();
          return;
        }
        scriptRequests++;
        res.writeHead(200, { 'content-type': 'text/javascript' }).end(STUB_PIXEL);
      });
      await new Promise((resolve) => pixelServer.listen(0, '127.0.0.1', () => resolve(undefined)));
      const address = pixelServer.address();
      const pixelPort = typeof address === 'object' && address ? address.port : 0;
      app = await startNext({
        META_PIXEL_ID: PIXEL_ID,
        META_ACCESS_TOKEN: ACCESS_TOKEN,
        META_GRAPH_URL: mock.url,
        META_PIXEL_SCRIPT_URL: `http://127.0.0.1:${pixelPort}/fbevents.js`,
        TRUST_PROXY: 'loopback',
      });
      browser = await launchChromium();
    });

    afterAll(async () => {
      await browser?.close();
      await app?.close();
      await new Promise((resolve) =>
        pixelServer ? pixelServer.close(resolve) : resolve(undefined),
      );
      await mock?.close();
    });

    it('an ad click lands, signs up, and each event reaches Meta once from both sides', async () => {
      const context = await browser.newContext();
      const page = await context.newPage();
      const fbclid = 'IwAR_e2e-Click_42';
      await page.goto(`${app.url}/?fbclid=${fbclid}`);
      const userAgent = await page.evaluate(() => navigator.userAgent);

      /** @returns {Promise<unknown[][]>} */
      const pixelCalls = () => page.evaluate('window.__pixelCalls || []');
      /** @param {string} name */
      const pixelEvent = async (name) => {
        await page.waitForFunction(
          `(window.__pixelCalls || []).some((call) => call[1] === ${JSON.stringify(name)})`,
        );
        return (await pixelCalls()).filter((call) => call[1] === name);
      };

      // Landing: the proxy set _fbp and _fbc (from fbclid) for the page and every later request.
      const cookies = Object.fromEntries((await context.cookies()).map((c) => [c.name, c.value]));
      expect(cookies._fbp).toMatch(/^fb\.0\.\d{13}\.\d+$/);
      expect(cookies._fbc).toMatch(new RegExp(`^fb\\.0\\.\\d{13}\\.${fbclid}$`));

      // The Pixel fired PageView once, with the ID the server used for its copy.
      const pageViews = await pixelEvent('PageView');
      expect(pageViews).toHaveLength(1);
      const pageViewId = eventIdOf(pageViews[0]);
      expect((await pixelCalls())[0]).toEqual(['init', PIXEL_ID]);
      const [serverPageView] = await mock.waitForEvents(1, {
        event_name: 'PageView',
        timeoutMs: 10_000,
      });
      expect(serverPageView?.event).toMatchObject({
        event_id: pageViewId,
        event_source_url: `${app.url}/?fbclid=${fbclid}`,
        user_data: { fbp: cookies._fbp, fbc: cookies._fbc, client_user_agent: userAgent },
      });

      // Signup through the Server Action: the browser copy carries the ID the action returned.
      await page.fill('input[name="email"]', ' E2E.User@Example.com ');
      await page.click('button[type="submit"]');
      await page.getByRole('status').waitFor();
      const registrations = await pixelEvent('CompleteRegistration');
      expect(registrations).toHaveLength(1);
      expect(registrations[0]?.[0]).toBe('track');
      const registrationId = eventIdOf(registrations[0]);
      const [serverRegistration] = await mock.waitForEvents(1, {
        event_name: 'CompleteRegistration',
        timeoutMs: 10_000,
      });
      expect(serverRegistration?.event).toMatchObject({
        event_id: registrationId,
        action_source: 'website',
        event_source_url: `${app.url}/?fbclid=${fbclid}`,
        user_data: {
          em: [sha256('e2e.user@example.com')],
          fbp: cookies._fbp,
          fbc: cookies._fbc,
          client_user_agent: userAgent,
        },
      });

      // The Server Action wrote no cookie (the proxy already had), so the page was not re-rendered:
      // one PageView, one CompleteRegistration, nothing twice, and fbevents.js loaded once.
      expect(
        mock
          .events()
          .map((e) => e.event.event_name)
          .sort(),
      ).toEqual(['CompleteRegistration', 'PageView']);
      expect(mock.duplicates()).toEqual([]);
      expect(scriptRequests).toBe(1);
      await context.close();
    });

    it("a <Link>'s prefetch tracks nothing, and its click is one page view of the new URL on both sides", async () => {
      mock.reset();
      const context = await browser.newContext();
      try {
        const page = await context.newPage();
        // Next's router prefetches `/about` while its <Link> is on screen (the default prefetch).
        const prefetched = page.waitForResponse(
          (response) =>
            new URL(response.url()).pathname === '/about' &&
            response.request().headers()['next-router-prefetch'] !== undefined,
        );
        await page.goto(`${app.url}/`);
        await prefetched;
        await page.waitForLoadState('networkidle');
        await app.flush();
        expect(mock.events().map((e) => e.event.event_source_url)).toEqual([`${app.url}/`]);

        // The click renders /about on the client (an RSC fetch): its own URL, the landing page as
        // referrer, and the ID <MetaPixel/> fires there.
        await page.getByRole('link', { name: 'About this example' }).click();
        await page.getByRole('heading', { name: 'About this example' }).waitFor();
        await page.waitForFunction(
          "(window.__pixelCalls || []).filter((call) => call[1] === 'PageView').length === 2",
        );
        /** @type {unknown[][]} */
        const calls = await page.evaluate('window.__pixelCalls');
        const aboutId = eventIdOf(calls.filter((call) => call[1] === 'PageView')[1]);
        await app.flush();
        const views = mock.events({ event_name: 'PageView' });
        expect(views).toHaveLength(2);
        expect(views[1]?.event).toMatchObject({
          event_id: aboutId,
          event_source_url: `${app.url}/about`,
          referrer_url: `${app.url}/`,
        });
      } finally {
        await context.close();
      }
    });

    it("with TikTok configured, <TikTokPixel/> and trackPixel fire TikTok's copy of each event with the server's event_id", async () => {
      mock.reset();
      // Both Pixels are the mock's stubs here, so both platforms' browser copies are recorded.
      const both = await startNext(
        bothPlatformsEnv(mock, { pixelId: PIXEL_ID, accessToken: ACCESS_TOKEN }),
      );
      const context = await browser.newContext();
      try {
        const page = await context.newPage();
        await page.goto(`${both.url}/?ttclid=E.C.P.next-e2e_1`);
        // The proxy, given the same destinations, kept TikTok's click ID for later requests.
        const cookies = Object.fromEntries((await context.cookies()).map((c) => [c.name, c.value]));
        expect(cookies.ttclid).toBe('E.C.P.next-e2e_1');
        await page.getByRole('button', { name: 'Sign up (Lead)' }).click();
        await page.getByText(/^Lead sent/).waitFor();
        await page.getByRole('button', { name: 'Buy (Purchase)' }).click();
        await page.getByText(/^Purchase sent/).waitFor();
        await both.flush();
        /** @param {{ event: string, event_id?: string }[]} events */
        const pairs = (events) => events.map((e) => `${e.event} ${e.event_id}`).sort();
        const server = pairs(mock.tiktok.events().map((e) => e.event));
        expect(server.map((pair) => pair.split(' ')[0])).toEqual(['Lead', 'PageView', 'Purchase']);
        // TikTok's own ttq.page() (no ID) comes besides the ttq.track copies.
        await expect
          .poll(() => pairs(mock.tiktok.browserEvents().filter((e) => e.method === 'track')), {
            timeout: 10_000,
          })
          .toEqual(server);
        // The same ids on Meta's side, from the server and the Meta Pixel.
        const metaIds = mock.events().map((e) => String(e.event.event_id));
        expect(server.map((pair) => pair.split(' ')[1]).sort()).toEqual([...metaIds].sort());
        expect(mock.tiktok.events()[0]?.event.user).toMatchObject({ ttclid: 'E.C.P.next-e2e_1' });
        expect(mock.tiktok.rejections()).toEqual([]);
      } finally {
        await context.close();
        await both.close();
      }
    });
  });
}
