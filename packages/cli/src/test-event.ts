import type { RequestContext, ServerEventInput } from '@capi-kit/core';
import { TTP_COOKIE } from '@capi-kit/tiktok';

// The made-up event `send-test` sends (and the doctor's TikTok test event): complete, as a shop
// would send it, with customer data nobody owns (example.com, documentation IP ranges).

/** A made-up but complete website event, as a shop would send it. */
export const testEvent = (eventName: string, url: string, nowMs: number): ServerEventInput => {
  const id = globalThis.crypto.randomUUID();
  return {
    event_name: eventName,
    event_id: `capi-kit-test-${id}`,
    event_time: Math.floor(nowMs / 1000),
    action_source: 'website',
    event_source_url: url,
    user_data: {
      em: 'capi-kit-test@example.com',
      ph: '+1 650 555 1212',
      fn: 'Test',
      ln: 'User',
      ct: 'Menlo Park',
      st: 'CA',
      zp: '94025',
      country: 'US',
      external_id: 'capi-kit-test-user',
      client_ip_address: '2001:db8::1',
      client_user_agent: 'Mozilla/5.0 (X11; Linux x86_64) capi-kit-send-test',
      fbp: `fb.1.${nowMs}.${Math.floor(Math.random() * 2_147_483_647)}`,
    },
    custom_data: {
      value: 42,
      currency: 'USD',
      content_ids: ['capi-kit-test-sku'],
      content_type: 'product',
      order_id: `capi-kit-test-${id.slice(0, 8)}`,
    },
  } as ServerEventInput;
};

const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/**
 * A fresh made-up `_ttp` (the TikTok Pixel's browser ID cookie), as the request context of a page
 * with the Pixel would capture it, the way the Meta copy carries a fresh `_fbp`.
 */
export const testTtp = (): string => {
  const bytes = globalThis.crypto.getRandomValues(new Uint8Array(27));
  return Array.from(bytes, (b) => ALPHANUMERIC[b % ALPHANUMERIC.length]).join('');
};

/** The request context a page with the TikTok Pixel would give the event (its `_ttp` only). */
export const tiktokTestContext = (): RequestContext => ({
  user_data: {},
  cookiesToSet: [],
  consent: 'granted',
  isNavigation: false,
  destinations: { tiktok: { [TTP_COOKIE]: testTtp() } },
});
