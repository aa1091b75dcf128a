import type { MockGraph } from '../src/index.js';
import { nowSeconds, type PostResult, sha256 } from './fixtures.js';

export const PIXEL_CODE = 'C4ABCDEFGHIJ12345678';
export const TIKTOK_TOKEN = 'tt-secret-token-0123456789';

/** A web Purchase that passes every TikTok rule; tests break one field at a time. */
export const validTikTokEvent = (
  overrides: Record<string, unknown> = {},
): Record<string, unknown> => ({
  event: 'Purchase',
  event_time: nowSeconds() - 10,
  event_id: `order-${Math.random().toString(36).slice(2)}`,
  user: {
    email: sha256('jane@example.com'),
    phone: sha256('+16505551212'),
    external_id: sha256('customer-42'),
    ttclid: 'E.C.P.abc123',
    ttp: '2F7h37YkS1j57AYSKTI7IHhJPYH',
    ip: '203.0.113.7',
    user_agent: 'Mozilla/5.0 (X11; Linux x86_64)',
  },
  page: { url: 'https://shop.example.com/checkout', referrer: 'https://shop.example.com/cart' },
  properties: {
    contents: [{ content_id: 'sku-1', quantity: 2, price: 4.75, content_name: 'Socks' }],
    content_type: 'product',
    value: 9.5,
    currency: 'EUR',
    order_id: 'order-1',
  },
  ...overrides,
});

/** A request body around `events`. */
export const tiktokBody = (
  events: unknown[] = [validTikTokEvent()],
  extra: Record<string, unknown> = {},
): Record<string, unknown> => ({
  event_source: 'web',
  event_source_id: PIXEL_CODE,
  data: events,
  ...extra,
});

export interface TikTokPostOptions {
  /** The Access-Token header; `null` sends none. Default {@link TIKTOK_TOKEN}. */
  token?: string | null;
  headers?: Record<string, string>;
  /** Appended to the URL, e.g. `?access_token=…`. */
  query?: string;
  /** Another path than the track endpoint. */
  path?: string;
  method?: string;
  /** A raw body instead of JSON. */
  raw?: string;
  signal?: AbortSignal;
}

/** POSTs `body` as JSON to the mock's TikTok endpoint with the Access-Token header. */
export const postTikTok = async (
  mock: MockGraph,
  body: Record<string, unknown> = tiktokBody(),
  options: TikTokPostOptions = {},
): Promise<PostResult> => {
  const token = options.token === undefined ? TIKTOK_TOKEN : options.token;
  const url = `${options.path === undefined ? mock.tiktok.url : `${mock.url}${options.path}`}${options.query ?? ''}`;
  const method = options.method ?? 'POST';
  const res = await fetch(url, {
    method,
    headers: {
      'content-type': 'application/json',
      ...(token === null ? {} : { 'access-token': token }),
      ...options.headers,
    },
    ...(method === 'GET' || method === 'HEAD' ? {} : { body: options.raw ?? JSON.stringify(body) }),
    ...(options.signal ? { signal: options.signal } : {}),
  });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
};
