import { describe, expect, it } from 'vitest';
import { getRequestContext } from '../../src/context/request-context.js';
import { fromIncomingMessage, isValidHost } from '../../src/context/request-input.js';
import { isAbsoluteUrl, isHttpUrl } from '../../src/event/urls.js';

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

describe("validation memos (a site's host and pages repeat from request to request)", () => {
  it("isValidHost answers the same on the first and every later call, past the memo's bound", () => {
    const cases: [string, boolean][] = [
      ['shop.example.com', true],
      ['shop.example.com:8443', true],
      ['shop.example.com:65536', false],
      ['[::1]:3000', true],
      ['[::g]', false],
      ['evil.example;x', false],
      ['', false],
    ];
    for (let round = 0; round < 3; round++) {
      for (const [host, valid] of cases) expect([host, isValidHost(host)]).toEqual([host, valid]);
      // More distinct hosts than the memo keeps: it is cleared and refilled, never wrong.
      for (let i = 0; i < 300; i++) expect(isValidHost(`h${round}-${i}.example.com`)).toBe(true);
    }
  });

  it('isHttpUrl and isAbsoluteUrl answer the same for URLs the context noted, checked, or refused', () => {
    const context = getRequestContext(
      fromIncomingMessage({
        url: '/p?q=1',
        headers: { ...HEADERS, referer: 'https://www.google.com/' },
        socket: { remoteAddress: '203.0.113.9' },
      }),
    );
    expect(context.event_source_url).toBe('http://shop.example.com/p?q=1');
    expect(isHttpUrl(context.event_source_url as string)).toBe(true);
    expect(isAbsoluteUrl(context.referrer_url as string)).toBe(true);
    for (let round = 0; round < 3; round++) {
      expect(isHttpUrl('https://shop.example.com/a')).toBe(true);
      expect(isHttpUrl('ftp://shop.example.com/a')).toBe(false);
      expect(isHttpUrl('https://')).toBe(false);
      expect(isHttpUrl('/relative')).toBe(false);
      expect(isAbsoluteUrl('android-app://com.example')).toBe(true);
      expect(isAbsoluteUrl('relative')).toBe(false);
      for (let i = 0; i < 600; i++)
        expect(isHttpUrl(`https://shop.example.com/${round}/${i}`)).toBe(true);
    }
    // With a query string (kept out of memory), still answered, every time.
    expect(isHttpUrl('https://shop.example.com/a?email=a%40b.example')).toBe(true);
    expect(isHttpUrl('https://shop.example.com/a?email=a%40b.example')).toBe(true);
    expect(isHttpUrl('https://user:secret@shop.example.com/a')).toBe(true);
    // Too long to be kept, still answered.
    const long = `https://shop.example.com/${'x'.repeat(5000)}`;
    expect(isHttpUrl(long)).toBe(true);
    expect(isHttpUrl(long)).toBe(true);
  });
});
