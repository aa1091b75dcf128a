import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
// @capi-kit/tiktok from source: a devDependency would close a cycle in the package graph
// (core → testing → tiktok → core); see the README's TikTok section.
import {
  classifyTikTokResponse,
  readTikTokContext,
  type TikTokEvent,
  tiktokRequest,
  toTikTokEvent,
} from '../../tiktok/src/index.js';
import { type MockGraph, startMockGraph } from '../src/index.js';
import { nowSeconds, sha256 } from './fixtures.js';
import { PIXEL_CODE, TIKTOK_TOKEN } from './tiktok-fixtures.js';

// The contract the builder and the mock share: whatever @capi-kit/tiktok builds from realistic
// track() inputs, TikTok's rules (as the mock implements them, from TikTok's docs rather than
// from the builder) accept, and the builder's own classifier reads the answer as a success.

let mock: MockGraph;
beforeAll(async () => {
  mock = await startMockGraph({ tiktokAccessToken: TIKTOK_TOKEN });
});
beforeEach(() => mock.reset());
afterAll(() => mock.close());

const context = readTikTokContext({
  url: 'https://shop.example.com/landing?ttclid=E.C.P.CrUBn2Yb&utm_source=tiktok',
  cookieHeader: '_ttp=2F7h37YkS1j57AYSKTI7IHhJPYH; other=1',
});
const visit = {
  client_ip_address: '203.0.113.7',
  client_user_agent: 'Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X)',
};

const build = (result: ReturnType<typeof toTikTokEvent>): TikTokEvent => {
  expect(result.issues.filter((i) => i.severity === 'error')).toEqual([]);
  if (!result.event) throw new Error('no event built');
  return result.event;
};

/** What toTikTokEvent builds for the inputs track() takes on a shop's pages. */
const realistic = (): TikTokEvent[] => [
  build(
    toTikTokEvent(
      {
        event_name: 'Purchase',
        event_time: new Date(),
        event_source_url: 'https://shop.example.com/checkout/thanks',
        referrer_url: 'https://shop.example.com/checkout',
        action_source: 'website',
        user_data: {
          em: ' Jane.Doe@Example.com ',
          ph: '+1 (650) 555-1212',
          external_id: 'customer-42',
          ...visit,
        },
        custom_data: {
          value: 59.9,
          currency: 'eur',
          order_id: 'order-1001',
          content_type: 'product',
          contents: [
            { id: 'sku-1', quantity: 2, item_price: 19.95, title: 'Socks', brand: 'Acme' },
            { id: 'sku-42', quantity: 1, item_price: 20, category: 'Shoes' },
          ],
        },
      },
      { eventId: 'order-1001', context },
    ),
  ),
  build(
    toTikTokEvent(
      {
        event_name: 'Lead',
        event_time: nowSeconds() - 120,
        event_source_url: 'https://shop.example.com/newsletter',
        user_data: { em: 'lead@example.org', ph: '06 12 34 56 78', country: 'fr', ...visit },
        data_processing_options: ['LDU'],
      },
      { eventId: 'lead-7', context },
    ),
  ),
  build(
    toTikTokEvent(
      {
        event_name: 'ViewContent',
        event_time: Date.now(),
        event_source_url: 'https://shop.example.com/p/sku-1',
        user_data: { em: sha256('already@hashed.example').toUpperCase(), ...visit },
        custom_data: { content_ids: ['sku-1', ' sku-2 '], content_type: 'product_group' },
      },
      { eventId: 'view-1', context: {} },
    ),
  ),
  build(
    toTikTokEvent(
      {
        event_name: 'Search',
        user_data: { client_user_agent: visit.client_user_agent },
        custom_data: { search_string: 'red socks', content_name: 'search page' },
      },
      { eventId: 'search-1' },
    ),
  ),
  build(
    toTikTokEvent(
      { event_name: 'WishlistShared', user_data: { external_id: ['u-1', 'u-2'] } },
      { eventId: 'custom-1' },
    ),
  ),
];

const send = async (events: TikTokEvent[], testEventCode?: string) => {
  const { url, headers, body } = tiktokRequest(
    { pixelCode: PIXEL_CODE, accessToken: TIKTOK_TOKEN, testEventCode, url: mock.tiktok.url },
    events,
  );
  const res = await fetch(url, { method: 'POST', headers, body });
  const text = await res.text();
  return { status: res.status, text, headers: res.headers, json: JSON.parse(text) };
};

describe("@capi-kit/tiktok's output against the strict mock", () => {
  it('is accepted for realistic inputs, one request, and read as success', async () => {
    const events = realistic();
    const res = await send(events, 'TEST-CAPI-KIT');
    expect(res.json.message).toBe('OK');
    expect(res.json.code).toBe(0);
    expect(classifyTikTokResponse({ status: res.status, body: res.text }).class).toBe('success');
    const received = mock.tiktok.events();
    expect(received.map((e) => e.event.event)).toEqual([
      'Purchase',
      'Lead',
      'ViewContent',
      'Search',
      'WishlistShared',
    ]);
    expect(received.map((e) => e.event.event_id)).toEqual([
      'order-1001',
      'lead-7',
      'view-1',
      'search-1',
      'custom-1',
    ]);
    expect(received.every((e) => e.testEventCode === 'TEST-CAPI-KIT')).toBe(true);
    // What TikTok documents, as the mock saw it on the wire.
    const [purchase, lead] = received;
    expect(purchase?.event.user).toMatchObject({
      email: sha256('jane.doe@example.com'),
      phone: sha256('+16505551212'),
      ttclid: 'E.C.P.CrUBn2Yb',
      ttp: '2F7h37YkS1j57AYSKTI7IHhJPYH',
      ip: '203.0.113.7',
    });
    expect(purchase?.event.properties).toMatchObject({ currency: 'EUR', value: 59.9 });
    expect(lead?.event.user.phone).toBe(sha256('+33612345678'));
    expect(lead?.event.limited_data_use).toBe(true);
  });

  it('is accepted as a full batch of 1,000', async () => {
    const [purchase] = realistic();
    const events = Array.from({ length: 1000 }, (_, i) => ({
      ...(purchase as TikTokEvent),
      event_id: `order-${i}`,
    }));
    expect((await send(events)).json.code).toBe(0);
    expect(mock.tiktok.events()).toHaveLength(1000);
  });

  it('is refused when it breaks a rule the builder is meant to keep (the mock does not trust it)', async () => {
    const [purchase] = realistic();
    const leaked = {
      ...(purchase as TikTokEvent),
      user: { ...(purchase as TikTokEvent).user, email: 'jane.doe@example.com' },
    };
    const res = await send([leaked]);
    expect(res.json.code).toBe(40002);
    expect(res.json.message).toContain('data[0].user.email');
    expect(res.text).not.toContain('jane.doe@example.com');
    expect(classifyTikTokResponse({ status: res.status, body: res.text }).class).toBe('invalid');
  });

  it("runs the README's example", async () => {
    const { event } = toTikTokEvent(
      {
        event_name: 'Lead',
        user_data: { em: 'jane@example.com', client_user_agent: 'Mozilla/5.0' },
      },
      { eventId: 'lead-1' },
    );
    const { url, headers, body } = tiktokRequest(
      { pixelCode: 'C4ABCDEF', accessToken: TIKTOK_TOKEN, url: mock.tiktok.url },
      [event as TikTokEvent],
    );
    const res = await fetch(url, { method: 'POST', headers, body });
    expect(await res.json()).toMatchObject({ code: 0, message: 'OK', data: {} });
    const [received] = await mock.tiktok.waitForEvents(1);
    expect(received?.event.event).toBe('Lead');
  });

  it('carries no token the mock could see outside the header', async () => {
    await send(realistic());
    expect(mock.tiktok.requests()[0]).toMatchObject({
      hasAccessToken: true,
      tokenInUrl: false,
      tokenInBody: false,
    });
  });
});
