// @ts-check
// The example contract with TikTok beside Meta (examples/README.md, "TikTok"): every example
// started with the TIKTOK_* variables as well, against one mock that plays both platforms, strictly
// (@capi-kit/testing's Graph mock and its TikTok Events API 2.0 mock). One visit must reach both,
// each event with one event_id, each copy valid by its own platform's rules.
import { createHash } from 'node:crypto';
import { startMockGraph } from '@capi-kit/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

/** The TikTok pixel code every example is started with. */
export const TIKTOK_PIXEL_CODE = 'C4CONTRACT0PIXEL0000';
/** The TikTok access token every example is started with; the mock requires exactly it. */
export const TIKTOK_ACCESS_TOKEN = 'contract-tiktok-token';
/** The TikTok test event code every example is started with. */
export const TIKTOK_TEST_EVENT_CODE = 'TEST_CONTRACT_1';

const UA = 'Mozilla/5.0 (X11; Linux x86_64) capi-kit-contract/1.0';
const TTCLID = 'E.C.P.contract-ttclid_1';
const TTP = '2aBcDeFgHiJkLmNoPqRsTuVwXyZ';

/** @param {string} s */
const sha256 = (s) => createHash('sha256').update(s).digest('hex');

/**
 * @param {string[]} setCookies
 * @param {string} name
 */
const setCookie = (setCookies, name) => setCookies.find((c) => c.startsWith(`${name}=`));

/**
 * The env an example is started with to send to Meta and TikTok, both on `mock`.
 * @param {{ url: string, tiktok: { url: string, pixelScriptUrl: string } }} mock
 * @param {{ pixelId: string, accessToken: string }} meta
 * @returns {Record<string, string>}
 */
export const bothPlatformsEnv = (mock, { pixelId, accessToken }) => ({
  PORT: '0',
  META_PIXEL_ID: pixelId,
  META_ACCESS_TOKEN: accessToken,
  META_GRAPH_URL: mock.url,
  META_PIXEL_SCRIPT_URL: `${mock.url}/fbevents.js`,
  TIKTOK_PIXEL_CODE,
  TIKTOK_ACCESS_TOKEN,
  TIKTOK_EVENTS_URL: mock.tiktok.url,
  TIKTOK_TEST_EVENT_CODE,
  TIKTOK_PIXEL_SCRIPT_URL: mock.tiktok.pixelScriptUrl,
  TRUST_PROXY: 'loopback',
});

/**
 * Registers the TikTok half of the contract for one example (called by `describeExampleContract`).
 * @param {string} name
 * @param {import('./index.js').StartExample} start
 * @param {{ pixelId: string, accessToken: string }} meta
 */
export function describeTikTokContract(name, start, meta) {
  describe(`example contract: ${name} with TikTok configured too`, () => {
    /** @type {Awaited<ReturnType<typeof startMockGraph>>} */
    let mock;
    /** @type {import('./index.js').RunningExample} */
    let app;

    beforeAll(async () => {
      // Both halves check the credentials: Meta's token in the body, TikTok's in its header only.
      mock = await startMockGraph({
        accessToken: meta.accessToken,
        tiktokAccessToken: TIKTOK_ACCESS_TOKEN,
      });
      app = await start(bothPlatformsEnv(mock, meta));
    });
    afterAll(async () => {
      await app?.close();
      await mock?.close();
    });
    beforeEach(async () => {
      // What a failed test left queued goes out now, not into the next test's records.
      await app?.flush();
      mock.recover();
      mock.tiktok.recover();
      mock.reset();
    });

    /** Nothing either mock refused: every copy was valid by its platform's rules. */
    const expectBothAccepted = () => {
      expect(mock.rejections()).toEqual([]);
      expect(mock.tiktok.rejections()).toEqual([]);
      expect(mock.tiktok.rejectedEvents()).toEqual([]);
      for (const request of mock.tiktok.requests()) {
        expect(request).toMatchObject({
          hasAccessToken: true,
          tokenInUrl: false,
          tokenInBody: false,
        });
      }
    };

    it("GET /?fbclid=…&ttclid=… sets _fbc and ttclid; PageView reaches Meta and TikTok with the page's one event ID", async () => {
      const res = await fetch(`${app.url}/?fbclid=IwAR2xYz_AbC-123&ttclid=${TTCLID}`, {
        headers: {
          'user-agent': UA,
          accept: 'text/html',
          'sec-fetch-dest': 'document',
          'x-forwarded-for': '203.0.113.7',
        },
      });
      expect(res.status).toBe(200);
      const cookies = res.headers.getSetCookie();
      expect(setCookie(cookies, '_fbc')).toMatch(/^_fbc=fb\.0\.\d{13}\.IwAR2xYz_AbC-123;/);
      // TikTok's click ID is kept raw, 90 days, by _fbc's rule (@capi-kit/tiktok).
      expect(setCookie(cookies, 'ttclid')).toMatch(
        new RegExp(`^ttclid=${TTCLID.replaceAll('.', '\\.')}; Max-Age=7776000;`),
      );
      const html = await res.text();
      const eventId = /"eventID":"([^"]+)"/.exec(html)?.[1] ?? '';
      expect(eventId).not.toBe('');
      // The page loads the TikTok Pixel (here the mock's stub) for this pixel code and fires
      // PageView on it with the same ID (checked in a real browser by the Chromium tests).
      expect(html).toContain(mock.tiktok.pixelScriptUrl);
      expect(html).toContain(TIKTOK_PIXEL_CODE);
      expect(html.split(eventId).length - 1).toBeGreaterThanOrEqual(2);

      await app.flush();
      const [metaView] = mock.events({ event_name: 'PageView' });
      const tiktokViews = mock.tiktok.events({ event: 'PageView' });
      expect(metaView?.event.event_id).toBe(eventId);
      expect(tiktokViews).toHaveLength(1);
      expect(tiktokViews[0]).toMatchObject({
        pixelCode: TIKTOK_PIXEL_CODE,
        testEventCode: TIKTOK_TEST_EVENT_CODE,
        event: {
          event: 'PageView',
          event_id: eventId,
          user: { ttclid: TTCLID, ip: '203.0.113.7', user_agent: UA },
          page: { url: `${app.url}/?fbclid=IwAR2xYz_AbC-123&ttclid=${TTCLID}` },
        },
      });
      expectBothAccepted();
    });

    it('POST /lead and POST /purchase reach Meta and TikTok with one event_id each, each copy by its own rules', async () => {
      const headers = {
        'content-type': 'application/json',
        'user-agent': UA,
        referer: `${app.url}/checkout`,
        cookie: `_fbp=fb.0.1700000000000.42; _fbc=fb.0.1700000000001.IwAR_x; _ttp=${TTP}; ttclid=${TTCLID}`,
      };
      const lead = await fetch(`${app.url}/lead`, {
        method: 'POST',
        headers,
        body: JSON.stringify({
          email: ' Alice.Ng@Example.com ',
          phone: '(650) 555-1212',
          country: 'US',
        }),
      });
      expect(lead.status).toBe(200);
      const { event_id: leadId } = /** @type {{ event_id: string }} */ (await lead.json());
      const purchase = await fetch(`${app.url}/purchase`, {
        method: 'POST',
        headers,
        body: JSON.stringify({
          email: 'bob@example.com',
          value: 49.9,
          currency: 'eur',
          order_id: 'ORD-2001',
          contents: [{ id: 'sku-1', quantity: 2, item_price: 24.95 }],
        }),
      });
      expect(purchase.status).toBe(200);
      expect(await purchase.json()).toEqual({ event_id: 'purchase-ORD-2001' });

      await app.flush();
      expect(mock.events().map((e) => [e.event.event_name, e.event.event_id])).toEqual([
        ['Lead', leadId],
        ['Purchase', 'purchase-ORD-2001'],
      ]);
      expect(mock.events({ event_name: 'Lead' })[0]?.event.user_data).toMatchObject({
        ph: [sha256('16505551212')],
      });
      const user = { ttp: TTP, ttclid: TTCLID, user_agent: UA };
      expect(mock.tiktok.events().map((e) => e.event)).toEqual([
        expect.objectContaining({
          // Meta's Lead is TikTok's Lead (SubmitForm's name since May 2025); the phone is hashed
          // in E.164 with its "+".
          event: 'Lead',
          event_id: leadId,
          user: expect.objectContaining({
            ...user,
            email: sha256('alice.ng@example.com'),
            phone: sha256('+16505551212'),
          }),
          page: { url: `${app.url}/checkout` },
        }),
        expect.objectContaining({
          event: 'Purchase',
          event_id: 'purchase-ORD-2001',
          user: expect.objectContaining({ ...user, email: sha256('bob@example.com') }),
          properties: expect.objectContaining({
            value: 49.9,
            currency: 'EUR',
            order_id: 'ORD-2001',
            contents: [{ content_id: 'sku-1', quantity: 2, price: 24.95 }],
          }),
        }),
      ]);
      expectBothAccepted();
    });

    /** @param {string} event_id What the page's relay (@capi-kit/browser) posts for one AddToCart. */
    const relayAddToCart = (event_id) =>
      fetch(`${app.url}/capi/events`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': UA,
          'sec-fetch-site': 'same-origin',
          origin: app.url,
          cookie: `_ttp=${TTP}`,
        },
        body: JSON.stringify({
          v: 1,
          pixel_id: meta.pixelId,
          events: [
            {
              event_name: 'AddToCart',
              event_id,
              event_time: Math.floor(Date.now() / 1000),
              event_source_url: `${app.url}/product`,
              custom_data: {
                content_ids: ['sku-1'],
                content_type: 'product',
                value: 9.5,
                currency: 'USD',
              },
            },
          ],
        }),
      });

    it("the relay's forwarded Pixel event reaches Meta and TikTok with its event_id", async () => {
      const res = await relayAddToCart('relay-add-1');
      expect(res.status).toBe(204);
      await app.flush();
      expect(mock.events().map((e) => [e.event.event_name, e.event.event_id])).toEqual([
        ['AddToCart', 'relay-add-1'],
      ]);
      // The relay names the Meta pixel it was fired for; every other destination gets its copy.
      expect(mock.tiktok.events().map((e) => e.event)).toEqual([
        expect.objectContaining({
          event: 'AddToCart',
          event_id: 'relay-add-1',
          user: expect.objectContaining({ ttp: TTP, user_agent: UA }),
          properties: expect.objectContaining({
            contents: [{ content_id: 'sku-1' }],
            content_type: 'product',
            value: 9.5,
            currency: 'USD',
          }),
        }),
      ]);
      expectBothAccepted();
    });
  });
}

/**
 * The Meta-only half's check that nothing goes to TikTok (no `TIKTOK_*` variables): no `ttclid`
 * cookie from a `?ttclid=` landing, no TikTok Pixel on the page, nothing at the TikTok mock.
 * @param {() => { app: import('./index.js').RunningExample, mock: Awaited<ReturnType<typeof startMockGraph>> }} running
 */
export function itSendsNothingToTikTok(running) {
  it('without the TIKTOK_* variables, nothing goes to TikTok: no ttclid cookie, no TikTok Pixel, no TikTok request', async () => {
    const { app, mock } = running();
    const res = await fetch(`${app.url}/?fbclid=IwAR_meta-only&ttclid=${TTCLID}`, {
      headers: { 'user-agent': UA, accept: 'text/html', 'sec-fetch-dest': 'document' },
    });
    const cookies = res.headers.getSetCookie();
    expect(cookies.map((c) => c.split('=')[0]).sort()).toEqual(['_fbc', '_fbp']);
    const html = await res.text();
    expect(html).not.toMatch(/\bttq\b|i18n\/pixel\/events\.js|tiktok/i);
    const lead = await fetch(`${app.url}/lead`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'user-agent': UA,
        cookie: `_ttp=${TTP}; ttclid=${TTCLID}`,
      },
      body: JSON.stringify({ email: 'meta-only@example.com' }),
    });
    expect(lead.status).toBe(200);
    await app.flush();
    expect(mock.events().map((e) => e.event.event_name)).toEqual(['PageView', 'Lead']);
    expect(mock.tiktok.requests()).toEqual([]);
    expect(mock.tiktok.browserEvents()).toEqual([]);
  });
}
