import { describe, expect, it } from 'vitest';
import { getRequestContext } from '../../src/context/request-context.js';
import { fromIncomingMessage } from '../../src/context/request-input.js';

/** Headers that count how often their names are listed (what looking for uppercase names does). */
const counted = (headers: Record<string, string>) => {
  let listed = 0;
  const proxy = new Proxy(headers, {
    ownKeys(target) {
      listed++;
      return Reflect.ownKeys(target);
    },
  });
  return { proxy, listed: () => listed };
};

const HEADERS = {
  host: 'shop.example.com',
  'user-agent': 'Mozilla/5.0',
  cookie: '_fbp=fb.1.1700000000000.42',
  'sec-fetch-dest': 'document',
};

describe('header names', () => {
  it("are taken as lowercase from a Node request (fromIncomingMessage): Node's contract", () => {
    const { proxy, listed } = counted({ ...HEADERS });
    const context = getRequestContext(
      fromIncomingMessage({ url: '/', headers: proxy, socket: { remoteAddress: '203.0.113.9' } }),
    );
    expect(context.user_data).toMatchObject({
      client_user_agent: 'Mozilla/5.0',
      fbp: HEADERS.cookie.slice(5),
    });
    expect(listed()).toBe(0);
  });

  it('are lowercased from a hand-built record that has uppercase ones', () => {
    const { proxy, listed } = counted({ Host: 'shop.example.com', 'User-Agent': 'Mozilla/5.0' });
    const context = getRequestContext({ url: '/', headers: proxy });
    expect(context.user_data.client_user_agent).toBe('Mozilla/5.0');
    expect(context.event_source_url).toBe('http://shop.example.com/');
    expect(listed()).toBeGreaterThan(0);
  });
});
