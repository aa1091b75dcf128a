// The Events Manager page in a real browser: Debian's Chromium (through playwright-core) opens the
// mock's page in several tabs, as a developer leaves them open. A browser opens at most six
// HTTP/1.1 connections to one host, and the page's live stream holds one for as long as it is open.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  haveChromium,
  launchChromium,
  noChromium,
} from '../../../scripts/test-support/chromium.ts';
import { type MockGraph, startMockGraph } from '../src/index.js';

declare module 'vitest' {
  interface TaskMeta {
    /** Why a skipped test did not run; `npm test` prints one line per reason before its totals. */
    skipReason?: string | undefined;
  }
}

const postLead = (mock: MockGraph, eventId: string) =>
  fetch(mock.eventsUrl('1234567890'), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      access_token: 'token',
      data: [
        {
          event_name: 'Lead',
          event_time: Math.floor(Date.now() / 1000),
          action_source: 'website',
          event_id: eventId,
          event_source_url: 'https://shop.test/',
          user_data: { client_ip_address: '203.0.113.9', client_user_agent: 'Mozilla/5.0' },
        },
      ],
    }),
  });

/** Text any web page can send the mock (through /tr, the relay, TikTok's stub): never markup. */
const HOSTILE = [
  '<img src=x onerror="window.__pwned=1;alert(1)">',
  '"><svg onload="window.__pwned=2">',
  '</script><script>window.__pwned=3</script>',
  "\u2028\u2029');window.__pwned=4;//",
  '\u202Egnp.exe<b>',
];
const JAVASCRIPT_URL = 'javascript:window.__pwned=5';
/** A page on another origin (another port of loopback), as a site the developer visits. */
const startPage = async (html: string): Promise<{ url: string; server: Server }> => {
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(html);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, server };
};
const beacon = (mock: MockGraph, path: string, body: unknown) =>
  fetch(`${mock.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'text/plain' },
    body: JSON.stringify(body),
  });

if (!haveChromium && process.env.CI) {
  describe('the Events Manager page in a real browser', () => {
    it('needs Chromium', () => {
      throw new Error(`${noChromium}. CI must run this test.`);
    });
  });
} else {
  describe('the Events Manager page in a real browser (Chromium)', {
    skip: !haveChromium,
    meta: { skipReason: noChromium },
  }, () => {
    let mock: MockGraph;
    let browser: Browser;

    beforeAll(async () => {
      mock = await startMockGraph();
      browser = await launchChromium();
    }, 30_000);

    afterAll(async () => {
      await browser?.close();
      await mock?.close();
    });

    it('shows hostile event names, ids, custom_data, codes and URLs as text, and runs none', async () => {
      mock.clearEvents();
      const now = Math.floor(Date.now() / 1000);
      const long = 'x'.repeat(20_000);
      for (const [i, text] of HOSTILE.entries()) {
        const custom = { [text]: text, value: 1, currency: 'EUR', note: long };
        // Server copy (an accepted event, its test code) and the Pixel's copy of the same id.
        const res = await fetch(
          `${mock.eventsUrl('1234567890')}?test_event_code=${encodeURIComponent(text)}`,
          {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({
              access_token: 'token',
              data: [
                {
                  event_name: text,
                  event_time: now,
                  action_source: 'website',
                  event_id: text + i,
                  event_source_url: 'https://shop.test/', // a javascript: URL is refused (the batch below)
                  user_data: { client_ip_address: '203.0.113.9', client_user_agent: text },
                  custom_data: custom,
                },
              ],
            }),
          },
        );
        expect(res.status).toBe(200);
        expect(
          (
            await beacon(mock, '/tr', {
              v: 1,
              id: '1234567890',
              m: 'trackCustom',
              ev: text,
              eid: text + i,
              cd: custom,
              dl: JAVASCRIPT_URL,
              ts: Date.now(),
              ud: [text],
            })
          ).ok,
        ).toBe(true);
        expect(
          (
            await beacon(mock, '/tiktok/pixel', {
              v: 1,
              code: 'C4HOSTILE',
              m: 'track',
              ev: text,
              eid: text + i,
              p: custom,
              url: JAVASCRIPT_URL,
              ts: Date.now(),
              user: [text],
            })
          ).ok,
        ).toBe(true);
        // A refused batch: its event keeps a hostile user_data key.
        await fetch(mock.eventsUrl('1234567890'), {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            access_token: 'token',
            data: [
              {
                event_name: text,
                event_time: now,
                action_source: text,
                event_source_url: JAVASCRIPT_URL,
                user_data: { [text]: text },
              },
            ],
          }),
        });
      }
      const context = await browser.newContext();
      const tab = await context.newPage();
      const dialogs: string[] = [];
      tab.on('dialog', async (dialog) => {
        dialogs.push(dialog.message());
        await dialog.dismiss();
      });
      const errors: string[] = [];
      tab.on('pageerror', (e) => errors.push(String(e)));
      await tab.goto(`${mock.url}/`);
      await tab.waitForSelector('#status:has-text("Live")');
      await expect
        .poll(() => tab.locator('tbody[data-dedup="deduplicated"]').count())
        .toBe(HOSTILE.length);
      expect(await tab.locator('tbody[data-dedup="browser-only"]').count()).toBe(HOSTILE.length); // TikTok's
      expect(await tab.locator('tbody[data-dedup="rejected"]').count()).toBe(HOSTILE.length);
      for (const text of HOSTILE) {
        expect(await tab.locator('h3', { hasText: text }).count()).toBe(2); // Meta's card, TikTok's
      }
      // Nothing on the page is a link, an image or a script from the data.
      expect(await tab.locator('a, img, iframe, object, embed, main script').count()).toBe(0);
      expect(await tab.evaluate('window.__pwned')).toBeUndefined();
      expect(dialogs).toEqual([]);
      expect(errors).toEqual([]);
      await context.close();
    }, 60_000);

    it('a page of another origin can neither read the events nor clear or reset the mock', async () => {
      mock.reset();
      expect((await postLead(mock, 'kept')).status).toBe(200);
      mock.failNext(503);
      const evil = await startPage(`<!doctype html><body>
<form id="f" method="POST" action="${mock.url}/_mock/reset" enctype="text/plain"><input name="a" value="b"></form>
<script>
window.results = {};
const m = ${JSON.stringify(mock.url)};
const read = (path) => fetch(m + path).then((r) => r.text(), (e) => 'blocked');
Promise.all([
  read('/_mock/events').then((t) => { results.events = t; }),
  read('/_mock/events-manager?limit=5').then((t) => { results.view = t; }),
  fetch(m + '/_mock/reset', { method: 'POST', mode: 'no-cors', body: '{}' }).then(() => 'sent', () => 'failed'),
  fetch(m + '/_mock/events', { method: 'DELETE' }).then(() => 'sent', () => 'failed'),
  fetch(m + '/_mock/outage', { method: 'POST', mode: 'no-cors', headers: { 'content-type': 'text/plain' }, body: '{"fault":503}' }).then(() => 'sent', () => 'failed'),
  new Promise((resolve) => { const s = new EventSource(m + '/_mock/stream'); s.onmessage = () => resolve(results.stream = 'read'); s.onerror = () => { s.close(); resolve(results.stream = 'blocked'); }; }),
]).then(() => { window.done = true; });
</script></body>`);
      try {
        const context = await browser.newContext();
        const tab = await context.newPage();
        await tab.goto(evil.url);
        await tab.waitForFunction('window.done === true', undefined, { timeout: 10_000 });
        expect(await tab.evaluate('window.results')).toEqual({
          events: 'blocked',
          view: 'blocked',
          stream: 'blocked',
        });
        // A cross-site form post, the one request no browser preflights.
        await tab.evaluate("document.getElementById('f').submit()");
        await tab.waitForURL(`${mock.url}/_mock/reset`, { timeout: 10_000 });
        expect(await tab.textContent('body')).toContain('Refused');
        await context.close();
        // The page learnt nothing, and the mock still has its event and its fault, without an outage.
        expect(mock.events().map((e) => e.event.event_id)).toEqual(['kept']);
        expect(mock.pendingFaults()).toBe(1);
        expect((await postLead(mock, 'after')).status).toBe(503);
        expect((await postLead(mock, 'after')).status).toBe(200);
      } finally {
        evil.server.closeAllConnections();
        evil.server.close();
      }
    }, 60_000);

    it('dates an event received on another day than today, in the browser’s time zone', async () => {
      mock.reset();
      expect((await postLead(mock, 'yesterday')).status).toBe(200);
      const receivedAt = mock.events()[0]?.receivedAt ?? 0;
      // The developer looks two days later (the mock left running): a time alone reads as today's.
      const context = await browser.newContext({ timezoneId: 'Pacific/Auckland', locale: 'en-GB' });
      const tab = await context.newPage();
      await tab.clock.setFixedTime(receivedAt + 2 * 86_400_000);
      await tab.goto(`${mock.url}/`);
      const cell = tab.locator('tbody[data-dedup="server-only"] td').first();
      await cell.waitFor();
      const expected = await tab.evaluate((ms) => new Date(ms).toLocaleString(), receivedAt);
      expect(await cell.textContent()).toBe(expected);
      await tab.clock.setFixedTime(receivedAt + 1000);
      await tab.reload();
      await cell.waitFor();
      const today = await tab.evaluate((ms) => new Date(ms).toLocaleTimeString(), receivedAt);
      expect(await cell.textContent()).toBe(today);
      await context.close();
    }, 60_000);

    it('never shows the answer for a filter changed since it was asked', async () => {
      mock.reset();
      expect((await postLead(mock, 'lead-a')).status).toBe(200);
      expect((await postLead(mock, 'lead-b')).status).toBe(200);
      // The Pixel's copy of lead-a only: "browser" narrows the rows to that one.
      const pixel = {
        v: 1,
        id: '1234567890',
        m: 'track',
        ev: 'Lead',
        eid: 'lead-a',
        ts: Date.now(),
      };
      expect((await beacon(mock, '/tr', pixel)).ok).toBe(true);
      const tab = await browser.newPage();
      // The mock answers the "browser" page late, after the developer set the filter back.
      let askedLate: () => void = () => {};
      const asked = new Promise<void>((resolve) => {
        askedLate = resolve;
      });
      let lateAnswered: () => void = () => {};
      const late = new Promise<void>((resolve) => {
        lateAnswered = resolve;
      });
      await tab.route(/\/_mock\/events-manager\?.*source=browser/, async (route) => {
        askedLate();
        await new Promise((resolve) => setTimeout(resolve, 1500));
        await route.continue();
        lateAnswered();
      });
      await tab.goto(`${mock.url}/`);
      await expect.poll(() => tab.locator('tbody.row').count(), { timeout: 10_000 }).toBe(2);
      await tab.selectOption('#f-source', 'browser');
      expect(await tab.locator('tbody.row').count()).toBe(1);
      await asked;
      await tab.selectOption('#f-source', '');
      expect(await tab.locator('tbody.row').count()).toBe(2);
      await late;
      await new Promise((resolve) => setTimeout(resolve, 300)); // the late answer handled
      expect(await tab.locator('tbody.row').count()).toBe(2);
      await tab.close();
    }, 60_000);

    it('stays live in seven tabs, and leaves connections for the app’s Pixel stub', async () => {
      mock.reset();
      const context = await browser.newContext();
      const tabs = [];
      for (let i = 0; i < 7; i++) {
        const tab = await context.newPage();
        await tab.goto(`${mock.url}/`, { timeout: 10_000 });
        await tab.waitForSelector('#status:has-text("Live")', { timeout: 10_000 });
        tabs.push(tab);
      }
      expect((await postLead(mock, 'lead-7-tabs')).status).toBe(200);
      for (const tab of tabs) {
        await tab.waitForSelector('tbody[data-dedup="server-only"]', { timeout: 10_000 });
      }
      // The app's page loads the stub from the mock's origin: it must not wait behind the tabs.
      const status = await tabs[0]?.evaluate(async () => {
        const abort = new AbortController();
        setTimeout(() => abort.abort(), 10_000);
        return (await fetch('/fbevents.js', { signal: abort.signal })).status;
      });
      expect(status).toBe(200);
      // The tab holding the stream goes: another takes it over and the rest stay live.
      for (const tab of tabs.splice(0, 2)) await tab.close();
      expect((await postLead(mock, 'lead-after-close')).status).toBe(200);
      for (const tab of tabs) {
        await expect
          .poll(() => tab.locator('tbody[data-dedup="server-only"]').count(), { timeout: 10_000 })
          .toBe(2);
      }
      await context.close();
    }, 120_000);
  });
}
