import { createHash } from 'node:crypto';
import { request } from 'node:http';
import type { MockGraph } from '../src/index.js';

export const PIXEL = '1234567890';
export const TOKEN = 'EAAB-test-token';

export const sha256 = (value: string): string => createHash('sha256').update(value).digest('hex');

export const nowSeconds = (): number => Math.floor(Date.now() / 1000);

/** A website Purchase that passes every rule; tests break one field at a time. */
export const validEvent = (overrides: Record<string, unknown> = {}): Record<string, unknown> => ({
  event_name: 'Purchase',
  event_time: nowSeconds() - 10,
  event_id: `evt-${Math.random().toString(36).slice(2)}`,
  action_source: 'website',
  event_source_url: 'https://shop.example.com/checkout',
  user_data: {
    em: [sha256('john_smith@gmail.com')],
    client_ip_address: '2001:db8::1',
    client_user_agent: 'Mozilla/5.0 (X11; Linux x86_64)',
    fbp: 'fb.1.1700000000000.1234567890',
  },
  custom_data: { value: 42.5, currency: 'USD' },
  ...overrides,
});

export interface PostResult {
  status: number;
  headers: Headers;
  text: string;
  // biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary response JSON
  json: any;
}

export interface PostOptions {
  pixelId?: string;
  version?: string;
  token?: string | null;
  tokenIn?: 'body' | 'header' | 'query';
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

/** POSTs a JSON body to the mock's events endpoint, adding the token where asked (body by default). */
export const post = async (
  mock: MockGraph,
  body: Record<string, unknown>,
  options: PostOptions = {},
): Promise<PostResult> => {
  const token = options.token === undefined ? TOKEN : options.token;
  const tokenIn = options.tokenIn ?? 'body';
  let url = mock.eventsUrl(options.pixelId ?? PIXEL, options.version);
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    ...options.headers,
  };
  const payload = { ...body };
  if (token !== null) {
    if (tokenIn === 'body') payload.access_token = token;
    if (tokenIn === 'header') headers.authorization = `Bearer ${token}`;
    if (tokenIn === 'query') url += `?access_token=${encodeURIComponent(token)}`;
  }
  const res = await fetch(url, {
    method: 'POST',
    headers,
    body: JSON.stringify(payload),
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

/**
 * A POST whose body arrives in two parts: `between` runs once the mock has recorded the request
 * (`recorded()` grew) and before the rest of the body is sent. Resolves with the answer's status.
 */
export const postInTwoParts = async (
  url: string,
  headers: Record<string, string>,
  text: string,
  recorded: () => number,
  between: () => void,
): Promise<number> => {
  const half = Math.floor(text.length / 2);
  const before = recorded();
  return new Promise<number>((resolve, reject) => {
    const req = request(url, { method: 'POST', headers }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.write(text.slice(0, half));
    const waitForArrival = () => {
      if (recorded() > before) {
        between();
        req.end(text.slice(half));
      } else setTimeout(waitForArrival, 5);
    };
    waitForArrival();
  });
};
