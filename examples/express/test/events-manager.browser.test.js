// @ts-check
// The mock's Events Manager page in a real browser (Debian's Chromium through playwright-core).
// The Express example runs with META_PIXEL_SCRIPT_URL pointing at the mock's Pixel stub, so its
// landing page's PageView reaches the mock from the browser as well as from the server. A checkout
// page using @capi-kit/browser (Pixel + first-party relay) sends Lead and Purchase with the ids the
// app answered. Then the mock's page must show each browser/server pair once, marked
// deduplicated, an invalid event with the rule it broke, the charts, and hostile text as text.
// Started with TikTok configured too, the landing page's TikTok Pixel (the mock's stub) must fire
// each event with the id of the server's TikTok copy.
// Screenshots go to .vitest/screenshots/ (gitignored).
import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { fileURLToPath } from 'node:url';
import { startMockGraph } from '@capi-kit/testing';
import {
  ACCESS_TOKEN,
  PIXEL_ID,
  TIKTOK_ACCESS_TOKEN,
  TIKTOK_PIXEL_CODE,
} from 'capi-kit-example-contract';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../src/app.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
const noChromium = `no Chromium at ${CHROMIUM}${process.env.CHROMIUM_PATH ? ' (CHROMIUM_PATH)' : ''}: apt-get install -y chromium, or set CHROMIUM_PATH`;
const BROWSER_MODULE = fileURLToPath(import.meta.resolve('@capi-kit/browser'));
const SCREENSHOTS = fileURLToPath(new URL('../.vitest/screenshots/', import.meta.url));
/** Attacker-controlled text: a browser event name the page must show as text. */
const HOSTILE = '<img src=x onerror="window.__pwned=1">';
const HOSTILE_NOTE = '<script>window.__pwned=2</script>';
/** A string as a JS literal that cannot end the page's own inline script. */
const inline = (/** @type {string} */ s) => JSON.stringify(s).replaceAll('<', '\\u003c');

/** A checkout page: the app answers each form with its event_id, the page fires the Pixel with it. */
const checkoutPage = (/** @type {string} */ scriptUrl) => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>checkout</title></head>
<body>
<button id="lead">Sign up</button> <button id="buy">Buy</button> <button id="hostile">Hostile</button>
<script type="module">
  import { createPixel } from '/capi-kit-browser.mjs';
  const pixel = createPixel({ pixelId: ${JSON.stringify(PIXEL_ID)}, scriptUrl: ${JSON.stringify(scriptUrl)} });
  const post = (path, body) => fetch(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }).then((r) => r.json());
  window.__done = [];
  document.getElementById('lead').onclick = async () => {
    const { event_id } = await post('/lead', { email: 'ada@example.com', phone: '+44 20 7946 0958' });
    window.__done.push(['Lead', pixel.track('Lead', {}, { eventID: event_id })]);
  };
  document.getElementById('buy').onclick = async () => {
    const order = { email: 'ada@example.com', value: 49.9, currency: 'GBP', order_id: 'ORD-7' };
    const { event_id } = await post('/purchase', order);
    window.__done.push(['Purchase', pixel.track('Purchase', { value: 49.9, currency: 'GBP' }, { eventID: event_id })]);
  };
  document.getElementById('hostile').onclick = () => {
    window.__done.push(['hostile', pixel.trackCustom(${inline(HOSTILE)}, { note: ${inline(HOSTILE_NOTE)} })]);
  };
</script>
</body></html>`;

/**
 * The Express example on loopback, plus the checkout page and the browser module.
 * @param {Record<string, string>} env
 */
async function startExample(env) {
  const { app, tracking } = createApp(env);
  app.get('/checkout', (_req, res) => {
    res.type('html').send(checkoutPage(env.META_PIXEL_SCRIPT_URL ?? ''));
  });
  app.get('/capi-kit-browser.mjs', async (_req, res) => {
    res.type('text/javascript').send(await readFile(BROWSER_MODULE, 'utf8'));
  });
  const server = createServer(app);
  await new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(undefined)));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    client: tracking.client,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await tracking.close();
    },
  };
}

if (!haveChromium && process.env.CI) {
  describe('Events Manager page in a real browser', () => {
    it('needs Chromium', () => {
      throw new Error(`Chromium not found at ${CHROMIUM}: CI must run this test.`);
    });
  });
} else {
  describe('Events Manager page in a real browser (Chromium)', {
    skip: !haveChromium,
    meta: { skipReason: noChromium },
  }, () => {
    /** @type {Awaited<ReturnType<typeof startMockGraph>>} */
    let mock;
    /** @type {Awaited<ReturnType<typeof startExample>>} */
    let example;
    /** @type {import('playwright-core').Browser} */
    let browser;

    beforeAll(async () => {
      mock = await startMockGraph({ accessToken: ACCESS_TOKEN });
      example = await startExample({
        META_PIXEL_ID: PIXEL_ID,
        META_ACCESS_TOKEN: ACCESS_TOKEN,
        META_GRAPH_URL: mock.url,
        META_PIXEL_SCRIPT_URL: `${mock.url}/fbevents.js`,
      });
      await mkdir(SCREENSHOTS, { recursive: true });
      const { chromium } = await import('playwright-core');
      browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: [
          '--headless',
          '--no-sandbox',
          '--disable-gpu',
          '--disable-quic',
          '--no-first-run',
          '--disable-background-networking',
          '--disable-component-update',
          '--disable-sync',
        ],
      });
    });

    afterAll(async () => {
      await browser?.close();
      await example?.close();
      await mock?.close();
    });

    it('shows PageView, Lead and Purchase once each, deduplicated, an invalid event with its rule, and the charts', async () => {
      const visitor = await browser.newContext();
      const app = await visitor.newPage();
      await app.goto(`${example.url}/`);
      await app.goto(`${example.url}/checkout`);
      await app.waitForFunction('window.__done !== undefined');
      await app.click('#lead');
      await app.waitForFunction('window.__done.length === 1');
      await app.click('#buy');
      await app.waitForFunction('window.__done.length === 2');
      await app.click('#hostile');
      /** @type {[string, string][]} */
      const done = await app.evaluate('window.__done');
      // Server copies: PageView, Lead and Purchase from the app, Lead and Purchase again through
      // the relay; browser copies: PageView, Lead, Purchase and the hostile custom event.
      await example.client.flush();
      await mock.waitForEvents(5, { timeoutMs: 10_000 });
      await expect.poll(() => mock.browserEvents().length, { timeout: 10_000 }).toBe(4);

      // An event some other server sends, which Meta would refuse: Purchase without currency.
      const refused = await fetch(mock.eventsUrl(PIXEL_ID), {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${ACCESS_TOKEN}` },
        body: JSON.stringify({
          data: [
            {
              event_name: 'Purchase',
              event_id: 'broken-1',
              event_time: Math.floor(Date.now() / 1000),
              action_source: 'website',
              event_source_url: `${example.url}/checkout`,
              user_data: { client_ip_address: '127.0.0.1', client_user_agent: 'Mozilla/5.0' },
              custom_data: { value: 5 },
            },
          ],
        }),
      });
      expect(refused.status).toBe(400);

      const viewer = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
      const page = await viewer.newPage();
      /** @type {string[]} */
      const problems = [];
      page.on('pageerror', (error) => problems.push(error.message));
      page.on('console', (message) => {
        if (message.type() === 'error') problems.push(message.text());
      });
      await page.goto(`${mock.url}/`);
      await page.waitForSelector('tbody.row[data-dedup="rejected"]');

      const rowsNamed = (/** @type {string} */ name) =>
        page.locator('tbody.row', { has: page.locator('td strong', { hasText: name }) });
      const leadId = done.find(([name]) => name === 'Lead')?.[1];
      const purchaseId = done.find(([name]) => name === 'Purchase')?.[1];
      expect(purchaseId).toBe('purchase-ORD-7');
      for (const [name, id] of [
        ['PageView', undefined],
        ['Lead', leadId],
        ['Purchase', purchaseId],
      ]) {
        const deduplicated = rowsNamed(/** @type {string} */ (name)).and(
          page.locator('[data-dedup="deduplicated"]'),
        );
        await expect.poll(() => deduplicated.count()).toBe(1);
        const row = deduplicated.first();
        expect(await row.locator('.badge').textContent()).toBe('deduplicated');
        expect(await row.locator('td', { hasText: 'browser (Pixel)' }).count()).toBe(1);
        expect(await row.locator('td', { hasText: 'server (CAPI)' }).count()).toBeGreaterThan(0);
        if (id) expect(await row.locator('code').first().textContent()).toBe(id);
      }
      // The app's own Lead and the relay's copy of the Pixel's Lead: one row, counted once.
      expect(await rowsNamed('Lead').first().textContent()).toContain(
        'server sent it 2×, counted once',
      );

      const rejected = page.locator('tbody.row[data-dedup="rejected"]');
      expect(await rejected.count()).toBe(1);
      expect(await rejected.locator('strong.bad').textContent()).toBe(
        'rejected: custom_data.currency is required',
      );

      // The charts: one card per event name, three SVG charts each, bars drawn to scale.
      const purchaseCard = page.locator('article.card', {
        has: page.locator('h3', { hasText: /^Purchase$/ }),
      });
      expect(await purchaseCard.locator('svg.chart').count()).toBe(3);
      const coverage = await purchaseCard.locator('svg.chart').nth(1).getAttribute('aria-label');
      expect(coverage).toBe('Dedup coverage 100 percent, goal 75 percent');
      const barWidth = await purchaseCard
        .locator('svg.chart')
        .nth(1)
        .locator('rect')
        .nth(1)
        .getAttribute('width');
      expect(Number(barWidth)).toBe(200);
      const quality = await purchaseCard.locator('svg.chart').first().getAttribute('aria-label');
      const view = mock.eventsManager();
      const figures = view.summaries.find((s) => s.eventName === 'Purchase');
      expect(quality).toBe(`Match quality ${figures?.matchQuality} of 10, target 6`);

      // Hostile text is text: the name shows as typed, nothing it carries ran or became an element.
      const hostileRow = rowsNamed(HOSTILE);
      expect(await hostileRow.count()).toBe(1);
      expect(await hostileRow.locator('td').nth(4).textContent()).toBe('browser (Pixel)');
      expect(await page.locator('tbody img, .card img').count()).toBe(0);
      expect(await page.evaluate('window.__pwned')).toBeUndefined();
      expect(await page.locator('td', { hasText: `note=${HOSTILE_NOTE}` }).count()).toBe(1);

      // The page and the JSON agree: one row per pixel + event_name + event_id.
      expect(await page.locator('tbody.row').count()).toBe(view.rows.length);
      await page.screenshot({ path: `${SCREENSHOTS}events-manager.png`, fullPage: true });

      // Live: a new event appears without a reload; the filters narrow what is shown.
      await app.goto(`${example.url}/`);
      await expect.poll(() => rowsNamed('PageView').count(), { timeout: 10_000 }).toBe(2);
      await page.selectOption('#f-source', 'browser');
      expect(await page.locator('tbody.row[data-dedup="rejected"]').count()).toBe(0);
      await page.selectOption('#f-source', '');
      await page.selectOption('#f-event', 'Purchase');
      expect(await page.locator('tbody.row').count()).toBe(2);
      expect(await page.locator('article.card').count()).toBe(1);
      await page.screenshot({ path: `${SCREENSHOTS}events-manager-filtered.png`, fullPage: true });

      // Clear, from the keyboard, once the app's queue is empty: a server-side PageView of the
      // live step still queued would land after the clear (a loaded CI run saw one).
      await example.client.flush();
      await page.focus('#clear');
      await page.keyboard.press('Enter');
      await expect.poll(() => page.locator('tbody.row').count()).toBe(0);
      // The rows go at once; the empty note and the mock's own clearing follow the DELETE's
      // answer, a moment later on a loaded machine (a fresh-clone CI run saw the note still hidden).
      await expect.poll(() => page.locator('#empty').isVisible()).toBe(true);
      await expect.poll(() => mock.events()).toEqual([]);
      expect(problems).toEqual([]);
      await visitor.close();
      await viewer.close();
    });

    it("pairs the landing page's own PageView, Lead and Purchase (its buttons, the Pixel stub)", async () => {
      // What the test before left in the app's queue goes out first, then the page starts empty.
      await example.client.flush();
      await fetch(`${mock.url}/_mock/events`, { method: 'DELETE' });
      const visitor = await browser.newContext();
      const app = await visitor.newPage();
      await app.goto(`${example.url}/`);
      await app.click('#lead');
      await app.locator('#status', { hasText: 'Lead sent' }).waitFor();
      await app.click('#purchase');
      await app.locator('#status', { hasText: 'Purchase sent' }).waitFor();
      await example.client.flush();
      /** @returns {Promise<{ rows: { eventName: string, dedup: string }[] }>} */
      const view = async () => (await fetch(`${mock.url}/_mock/events-manager`)).json();
      const pairs = async () =>
        (await view()).rows
          .filter((row) => row.dedup === 'deduplicated')
          .map((row) => row.eventName)
          .sort();
      await expect.poll(pairs, { timeout: 10_000 }).toEqual(['Lead', 'PageView', 'Purchase']);
      // One row per event: each server copy met its browser copy, nothing left one-sided.
      expect((await view()).rows.map((row) => [row.eventName, row.dedup]).sort()).toEqual([
        ['Lead', 'deduplicated'],
        ['PageView', 'deduplicated'],
        ['Purchase', 'deduplicated'],
      ]);
      await visitor.close();
    });

    it("with TikTok configured, the landing page's TikTok Pixel (the mock's stub) fires each event with the server's event_id, in TikTok's names", async () => {
      await example.client.flush();
      await fetch(`${mock.url}/_mock/events`, { method: 'DELETE' });
      const both = await startExample({
        META_PIXEL_ID: PIXEL_ID,
        META_ACCESS_TOKEN: ACCESS_TOKEN,
        META_GRAPH_URL: mock.url,
        META_PIXEL_SCRIPT_URL: `${mock.url}/fbevents.js`,
        TIKTOK_PIXEL_CODE,
        TIKTOK_ACCESS_TOKEN,
        TIKTOK_EVENTS_URL: mock.tiktok.url,
        TIKTOK_PIXEL_SCRIPT_URL: mock.tiktok.pixelScriptUrl,
      });
      try {
        const visitor = await browser.newContext();
        const app = await visitor.newPage();
        await app.goto(`${both.url}/?ttclid=E.C.P.chromium-1`);
        await app.click('#lead');
        await app.locator('#status', { hasText: 'Lead sent' }).waitFor();
        await app.click('#purchase');
        await app.locator('#status', { hasText: 'Purchase sent' }).waitFor();
        await both.client.flush();
        /** @param {{ event: string, event_id?: string }[]} events */
        const pairs = (events) => events.map((e) => `${e.event} ${e.event_id}`).sort();
        const server = pairs(mock.tiktok.events().map((e) => e.event));
        expect(server).toHaveLength(3);
        // The stub's `ttq.track` copies, each the server copy's name and event_id; TikTok's own
        // `ttq.page()` (its base code's page event, without an ID) comes besides.
        await expect
          .poll(() => pairs(mock.tiktok.browserEvents().filter((e) => e.method === 'track')), {
            timeout: 10_000,
          })
          .toEqual(server);
        expect(server.map((pair) => pair.split(' ')[0])).toEqual(['Lead', 'PageView', 'Purchase']);
        const browserCopies = mock.tiktok.browserEvents().filter((e) => e.method === 'track');
        expect(browserCopies.every((e) => e.pixelCode === TIKTOK_PIXEL_CODE)).toBe(true);
        expect(browserCopies.find((e) => e.event === 'Purchase')?.properties).toEqual({
          value: 42.5,
          currency: 'USD',
        });
        // The same ids on Meta's side: every event a deduplicated pair on each platform.
        const view = mock.eventsManager();
        expect(
          view.rows.map((row) => [row.platform ?? 'meta', row.eventName, row.dedup]).sort(),
        ).toEqual([
          ['meta', 'Lead', 'deduplicated'],
          ['meta', 'PageView', 'deduplicated'],
          ['meta', 'Purchase', 'deduplicated'],
          ['tiktok', 'Lead', 'deduplicated'],
          ['tiktok', 'PageView', 'deduplicated'],
          ['tiktok', 'Pageview', expect.any(String)],
          ['tiktok', 'Purchase', 'deduplicated'],
        ]);
        for (const row of view.rows) {
          const twin = view.rows.find(
            (other) =>
              other !== row && other.eventId === row.eventId && other.platform !== row.platform,
          );
          if (row.eventId !== null) expect(twin).toBeDefined();
        }
        await visitor.close();
      } finally {
        await both.close();
      }
    });
  });
}
