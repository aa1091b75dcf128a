// @ts-check
// The first-party relay in a real browser: Debian's Chromium (playwright-core) loads a page of the
// Express example that uses @capi-kit/browser. Each event goes out twice with one ID: to the Pixel
// (a stub fbevents.js recording every fbq call) and to POST /capi/events, which forwards it through
// CAPI (the mock Graph API). Then: a page on another site is refused, and a flood from one IP is
// rate-limited without affecting another client.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { fileURLToPath } from 'node:url';
import { startMockGraph } from '@capi-kit/testing';
import { ACCESS_TOKEN, PIXEL_ID } from 'capi-kit-example-contract';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, RELAY_CUSTOM_EVENT } from '../src/app.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
const noChromium = `no Chromium at ${CHROMIUM}${process.env.CHROMIUM_PATH ? ' (CHROMIUM_PATH)' : ''}: apt-get install -y chromium, or set CHROMIUM_PATH`;
// The built module, as a page would load it from a CDN or a bundle.
const BROWSER_MODULE = fileURLToPath(import.meta.resolve('@capi-kit/browser'));

// fbevents.js stand-in: takes over the queue stub the way Meta's library does (`callMethod`,
// replaying `fbq.queue`) and keeps every call in `window.__pixelCalls`.
const STUB_PIXEL = `(function () {
  var f = window.fbq, calls = (window.__pixelCalls = window.__pixelCalls || []);
  var copy = function (args) { return JSON.parse(JSON.stringify(Array.prototype.slice.call(args))); };
  f.callMethod = function () { calls.push(copy(arguments)); };
  for (var i = 0; i < f.queue.length; i++) calls.push(copy(f.queue[i]));
  f.queue = [];
})();`;

/** @param {string} pixelScriptUrl */
const relayPage = (pixelScriptUrl) => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>relay</title></head>
<body>
<button id="cta">Start free trial</button>
<script type="module">
  import { createPixel } from '/capi-kit-browser.mjs';
  const pixel = createPixel({ pixelId: ${JSON.stringify(PIXEL_ID)}, scriptUrl: ${JSON.stringify(pixelScriptUrl)} });
  window.__ids = { pageView: pixel.pageView() };
  document.getElementById('cta').addEventListener('click', () => {
    window.__ids.click = pixel.trackCustom(${JSON.stringify(RELAY_CUSTOM_EVENT)}, { content_name: 'hero', plan: 'pro' });
  });
</script>
</body></html>`;

/**
 * The `eventID` of an `fbq('track'|'trackCustom', name, data, { eventID })` call.
 * @param {unknown[] | undefined} call
 */
const eventIdOf = (call) => /** @type {{ eventID?: string } | undefined} */ (call?.[3])?.eventID;

/**
 * Starts the example app with a test page and the browser module, recording each relay answer.
 * @param {Record<string, string>} env
 * @param {string} pixelScriptUrl
 */
async function startExample(env, pixelScriptUrl) {
  const { app, tracking } = createApp(env);
  app.get('/relay-demo', (_req, res) => {
    res.type('html').send(relayPage(pixelScriptUrl));
  });
  app.get('/capi-kit-browser.mjs', async (_req, res) => {
    res.type('text/javascript').send(await readFile(BROWSER_MODULE, 'utf8'));
  });
  /** @type {{ status: number, site: string | undefined, origin: string | undefined }[]} */
  const relayAnswers = [];
  const server = createServer((req, res) => {
    if (req.url?.startsWith('/capi/events')) {
      res.once('finish', () =>
        relayAnswers.push({
          status: res.statusCode,
          site: /** @type {string | undefined} */ (req.headers['sec-fetch-site']),
          origin: req.headers.origin,
        }),
      );
    }
    app(req, res);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(undefined)));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    client: tracking.client,
    relayAnswers,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await tracking.close();
    },
  };
}

/**
 * A loopback server answering `routes[path]` with its [content type, body].
 * @param {Record<string, [string, string]>} routes
 */
async function staticServer(routes) {
  const server = createServer((req, res) => {
    const route = routes[req.url ?? ''];
    if (route === undefined) res.writeHead(404).end();
    else res.writeHead(200, { 'content-type': route[0] }).end(route[1]);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(undefined)));
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : 0,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

if (!haveChromium && process.env.CI) {
  describe('relay in a real browser', () => {
    it('needs Chromium', () => {
      throw new Error(
        `Chromium not found at ${CHROMIUM}: install it (apt-get install -y chromium) or set CHROMIUM_PATH. CI must run this test.`,
      );
    });
  });
} else {
  describe('relay in a real browser (Chromium)', {
    skip: !haveChromium,
    meta: { skipReason: noChromium },
  }, () => {
    /** @type {Awaited<ReturnType<typeof startMockGraph>>} */
    let mock;
    /** @type {Awaited<ReturnType<typeof startExample>>} */
    let example;
    /** @type {Awaited<ReturnType<typeof staticServer>>} */
    let pixelServer;
    /** @type {Awaited<ReturnType<typeof staticServer>>} */
    let otherSite;
    /** @type {import('playwright-core').Browser} */
    let browser;

    beforeAll(async () => {
      mock = await startMockGraph({ accessToken: ACCESS_TOKEN });
      pixelServer = await staticServer({ '/fbevents.js': ['text/javascript', STUB_PIXEL] });
      // No proxy in front of the browser here: the client IP is the socket's (127.0.0.1).
      example = await startExample(
        {
          META_PIXEL_ID: PIXEL_ID,
          META_ACCESS_TOKEN: ACCESS_TOKEN,
          META_GRAPH_URL: mock.url,
        },
        `http://127.0.0.1:${pixelServer.port}/fbevents.js`,
      );
      // Another site: `localhost` and `127.0.0.1` have different registrable domains.
      otherSite = await staticServer({
        '/': [
          'text/html',
          `<!doctype html><html><body><script>
            const body = JSON.stringify({ v: 1, pixel_id: ${JSON.stringify(PIXEL_ID)}, events: [{
              event_name: 'Purchase', event_id: 'forged-1', event_time: Math.floor(Date.now() / 1000),
              event_source_url: location.href, custom_data: { value: 9999, currency: 'USD' } }] });
            // A simple (no-preflight) cross-site POST, with the visitor's cookies.
            window.__sent = fetch('http://127.0.0.1:${example.port}/capi/events', {
              method: 'POST', mode: 'no-cors', credentials: 'include', body,
            }).then(() => 'sent', (error) => String(error));
          </script></body></html>`,
        ],
      });
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
      await pixelServer?.close();
      await otherSite?.close();
      await mock?.close();
    });

    it('the Pixel and CAPI get each event with the same event_id (PageView + a click)', async () => {
      const context = await browser.newContext();
      const page = await context.newPage();
      const fbclid = 'IwAR_relay-Click_7';
      await page.goto(`${example.url}/relay-demo?fbclid=${fbclid}`);
      const userAgent = await page.evaluate(() => navigator.userAgent);
      const cookies = Object.fromEntries((await context.cookies()).map((c) => [c.name, c.value]));
      expect(cookies._fbp).toMatch(/^fb\.0\.\d{13}\.\d+$/);
      expect(cookies._fbc).toMatch(new RegExp(`^fb\\.0\\.\\d{13}\\.${fbclid}$`));

      /** @returns {Promise<unknown[][]>} */
      const pixelCalls = () => page.evaluate('window.__pixelCalls || []');
      /** @param {string} name */
      const pixelEvent = async (name) => {
        await page.waitForFunction(
          `(window.__pixelCalls || []).some((call) => call[1] === ${JSON.stringify(name)})`,
        );
        return (await pixelCalls()).filter((call) => call[1] === name);
      };

      const pageViews = await pixelEvent('PageView');
      expect(pageViews).toHaveLength(1);
      expect(pageViews[0]?.[0]).toBe('track');
      const pageViewId = eventIdOf(pageViews[0]);
      expect(pageViewId).toBe(await page.evaluate('window.__ids.pageView'));
      expect((await pixelCalls())[0]).toEqual(['init', PIXEL_ID]);

      await page.click('#cta');
      const clicks = await pixelEvent(RELAY_CUSTOM_EVENT);
      expect(clicks).toHaveLength(1);
      expect(clicks[0]?.[0]).toBe('trackCustom');
      const clickId = eventIdOf(clicks[0]);
      expect(clickId).toBe(await page.evaluate('window.__ids.click'));

      const received = await mock.waitForEvents(2, { timeoutMs: 10_000 });
      const byName = Object.fromEntries(received.map((e) => [e.event.event_name, e.event]));
      const enriched = {
        action_source: 'website',
        user_data: {
          client_ip_address: '127.0.0.1',
          client_user_agent: userAgent,
          fbp: cookies._fbp,
          fbc: cookies._fbc,
        },
      };
      expect(byName.PageView).toMatchObject({
        ...enriched,
        event_id: pageViewId,
        event_source_url: `${example.url}/relay-demo?fbclid=${fbclid}`,
      });
      expect(byName[RELAY_CUSTOM_EVENT]).toMatchObject({
        ...enriched,
        event_id: clickId,
        // Meta's keys pass; `plan` is not on the relay's custom_data allowlist.
        custom_data: { content_name: 'hero' },
      });
      expect(byName[RELAY_CUSTOM_EVENT]?.custom_data).not.toHaveProperty('plan');
      expect(mock.duplicates()).toEqual([]);
      expect(example.relayAnswers.map(({ status, site }) => ({ status, site }))).toEqual([
        { status: 204, site: 'same-origin' },
        { status: 204, site: 'same-origin' },
      ]);
      expect(example.client.stats().dedup).toMatchObject({ relay: 2, withEventId: 2 });
      await context.close();
    });

    it('refuses a POST from a page on another site (localhost → 127.0.0.1) with 403', async () => {
      example.relayAnswers.length = 0;
      mock.reset();
      const context = await browser.newContext();
      const page = await context.newPage();
      await page.goto(`http://localhost:${otherSite.port}/`);
      expect(await page.evaluate('window.__sent')).toBe('sent');
      await expect.poll(() => example.relayAnswers.length, { timeout: 5000 }).toBe(1);
      expect(example.relayAnswers[0]).toEqual({
        status: 403,
        site: 'cross-site',
        origin: `http://localhost:${otherSite.port}`,
      });
      await example.client.flush();
      expect(mock.events()).toEqual([]);
      await context.close();
    });
  });
}

describe('relay rate limit (Node fetch, behind a trusted loopback proxy)', () => {
  it('a flood from one IP gets 429 while another client is still served', async () => {
    const mock = await startMockGraph({ accessToken: ACCESS_TOKEN });
    const example = await startExample(
      {
        META_PIXEL_ID: PIXEL_ID,
        META_ACCESS_TOKEN: ACCESS_TOKEN,
        META_GRAPH_URL: mock.url,
        TRUST_PROXY: 'loopback',
      },
      'http://127.0.0.1:9/fbevents.js',
    );
    /**
     * @param {string} ip
     * @param {number} n
     */
    const beacon = (ip, n) =>
      fetch(`${example.url}/capi/events`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'sec-fetch-site': 'same-origin',
          'user-agent': 'Mozilla/5.0 capi-kit-relay-flood',
          'x-forwarded-for': ip,
        },
        body: JSON.stringify({
          v: 1,
          pixel_id: PIXEL_ID,
          events: Array.from({ length: n }, (_, i) => ({
            event_name: 'ViewContent',
            event_id: `${ip}-${Date.now()}-${i}-${Math.random()}`,
            event_time: Math.floor(Date.now() / 1000),
            event_source_url: `${example.url}/p`,
          })),
        }),
      });
    try {
      // The default bucket: 60 events a minute per IP, so three full batches of 20 pass.
      const flood = [];
      for (let i = 0; i < 5; i++) flood.push((await beacon('198.51.100.66', 20)).status);
      expect(flood).toEqual([204, 204, 204, 429, 429]);
      const limited = await beacon('198.51.100.66', 1);
      expect(limited.status).toBe(429);
      expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect((await beacon('203.0.113.20', 20)).status).toBe(204);
      await example.client.flush();
      expect(mock.events()).toHaveLength(80);
    } finally {
      await example.close();
      await mock.close();
    }
  });
});
