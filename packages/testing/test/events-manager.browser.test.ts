// The Events Manager page in a real browser: Debian's Chromium (through playwright-core) opens the
// mock's page in several tabs, as a developer leaves them open. A browser opens at most six
// HTTP/1.1 connections to one host, and the page's live stream holds one for as long as it is open.
import { existsSync } from 'node:fs';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type MockGraph, startMockGraph } from '../src/index.js';

declare module 'vitest' {
  interface TaskMeta {
    /** Why a skipped test did not run; `npm test` prints one line per reason before its totals. */
    skipReason?: string | undefined;
  }
}

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
const noChromium = `no Chromium at ${CHROMIUM}${process.env.CHROMIUM_PATH ? ' (CHROMIUM_PATH)' : ''}: apt-get install -y chromium, or set CHROMIUM_PATH`;

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
    }, 30_000);

    afterAll(async () => {
      await browser?.close();
      await mock?.close();
    });

    it('stays live in seven tabs, and leaves connections for the app’s Pixel stub', async () => {
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
