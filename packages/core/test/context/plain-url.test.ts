import { describe, expect, it } from 'vitest';
import { type PageUrl, plainHttpUrl, plainPageUrl } from '../../src/context/plain-url.js';
import { isValidHost } from '../../src/context/request-input.js';

/** A seeded generator (mulberry32), so a failing case can be replayed. */
const random = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};

const SCHEMES = ['https://', 'http://', 'HTTPS://', 'ftp://', 'https:/', 'https:///'];
const HOST_PARTS = [
  'shop',
  'example',
  'com',
  'www',
  'a',
  'xn--nxasmq6b',
  'xn--a',
  'b-c',
  '-x',
  'x-',
  'Example',
  '0x7f',
  '127',
  '1',
  '0',
  'localhost',
  'a_b',
  '',
  '%41',
  'ä',
  '[::1]',
  'a'.repeat(63),
  'a'.repeat(64),
];
const PORTS = [
  '',
  '',
  '',
  ':3000',
  ':80',
  ':443',
  ':0',
  ':08080',
  ':65535',
  ':65536',
  ':',
  ':123456',
  ':x',
];
const PATH_PIECES = [
  '/',
  '/product',
  '/42',
  '?',
  '?a=1',
  '&fbclid=IwAR2F4-dbP0l7',
  '=',
  '.',
  '..',
  '/.',
  '/..',
  '%2e',
  '%2E',
  '%2f',
  '%zz',
  '%',
  '#x',
  ' ',
  '"',
  "'",
  '<',
  '>',
  '`',
  '{',
  '}',
  '|',
  '^',
  '[',
  ']',
  '\\',
  '\t',
  '\n',
  'é',
  '~',
  '!',
  '$',
  '(',
  ')',
  '*',
  '+',
  ',',
  ';',
  ':',
  '@',
  '_',
  '-',
  'A',
  'z',
  '9',
];

const pick = <T>(next: () => number, list: readonly T[]): T =>
  list[Math.floor(next() * list.length)] as T;
/** Mostly from the list's first `common` entries (ordinary URLs), else from all of it. */
const pickMostly = <T>(next: () => number, list: readonly T[], common: number): T =>
  next() < 0.8 ? (list[Math.floor(next() * common)] as T) : pick(next, list);

/** A URL's parts: scheme with its `://` (or a broken one), `host[:port]`, path and query. */
const candidateParts = (next: () => number) => {
  const labels = Array.from({ length: 1 + Math.floor(next() * 4) }, () =>
    pickMostly(next, HOST_PARTS, 5),
  );
  const hostname = labels.join('.') + (next() < 0.05 ? '.' : '');
  const path = Array.from({ length: Math.floor(next() * 8) }, () =>
    pickMostly(next, PATH_PIECES, 7),
  ).join('');
  const start = next() < 0.85 ? '/' : '';
  const scheme = pickMostly(next, SCHEMES, 2);
  return { scheme, host: `${hostname}${pickMostly(next, PORTS, 4)}`, target: `${start}${path}` };
};

const candidate = (next: () => number): string => {
  const { scheme, host, target } = candidateParts(next);
  return `${scheme}${host}${target}`;
};

/** What a test compares of a {@link PageUrl}. */
const fields = (url: PageUrl | undefined) =>
  url && {
    href: url.href,
    protocol: url.protocol,
    host: url.host,
    hostname: url.hostname,
    search: url.search,
    params: [...url.searchParams],
  };

describe('plainHttpUrl', () => {
  it('vouches only for URLs the WHATWG parser gives back unchanged (random differential check)', () => {
    let vouched = 0;
    let checked = 0;
    for (let seed = 1; seed <= 40; seed++) {
      const next = random(seed);
      for (let i = 0; i < 2500; i++) {
        const text = candidate(next);
        const plain = plainHttpUrl(text);
        checked++;
        if (plain === undefined) continue;
        vouched++;
        let parsed: URL;
        try {
          parsed = new URL(text);
        } catch {
          throw new Error(`vouched for ${JSON.stringify(text)}, which the parser refuses`);
        }
        const seen = {
          href: plain.href,
          protocol: plain.protocol,
          host: plain.host,
          hostname: plain.hostname,
          search: plain.search,
          params: [...plain.searchParams],
          hash: '',
          validHost: isValidHost(plain.host),
        };
        expect(seen, text).toEqual({
          href: parsed.href,
          protocol: parsed.protocol,
          host: parsed.host,
          hostname: parsed.hostname,
          search: parsed.search,
          params: [...parsed.searchParams],
          hash: parsed.hash,
          validHost: true,
        });
      }
    }
    // The generator reaches both answers often: the check is not vacuous.
    expect(vouched).toBeGreaterThan(checked / 20);
    expect(checked - vouched).toBeGreaterThan(checked / 2);
  }, 60_000); // 100,000 parses: past 5 s on a loaded machine

  it('takes the URLs of ordinary page views and referrers', () => {
    for (const text of [
      'https://shop.example.com/product/42',
      'https://shop.example.com/product/42?fbclid=IwAR2F4-dbP0l7Mn1IawQQGCINEz7PYXQvwjNwB_qa2ofrHyiLjcbCRxTDMgk',
      'https://www.facebook.com/',
      'http://localhost:3000/checkout?step=2&utm_source=fb',
      'https://example.com/?',
      'https://example.com/a%20b?q=%E2%9C%93',
    ]) {
      expect(plainHttpUrl(text)?.href, text).toBe(new URL(text).href);
    }
  });

  it('leaves to the parser what it would rewrite, or might', () => {
    for (const text of [
      'https://Shop.example.com/', // uppercase host
      'https://example.com', // no path: the parser adds `/`
      'https://example.com?q=1',
      'https://example.com:443/', // default port, dropped
      'http://example.com:80/',
      'https://example.com:0443/',
      'https://127.0.0.1/', // IPv4, canonicalized
      'https://example.0x7f/',
      'https://[::1]/',
      'https://xn--nxasmq6b.com/', // IDNA, checked by the parser
      'https://example.com./',
      'https://example.com/a/../b', // dot segments
      'https://example.com/a/%2e%2E/b',
      'https://example.com/.well-known/x',
      'https://example.com/a#top', // fragment
      "https://example.com/?q='x'", // `'` is encoded in a special URL's query
      'https://example.com/a b',
      'https://example.com/a\\b',
      'https://example.com/é',
      'https://user@example.com/',
      'ftp://example.com/',
      ' https://example.com/',
    ]) {
      expect(plainHttpUrl(text), text).toBeUndefined();
    }
  });
});

describe('plainPageUrl', () => {
  it('answers as plainHttpUrl does for the parts put together (random differential check)', () => {
    let vouched = 0;
    let checked = 0;
    for (let seed = 1; seed <= 20; seed++) {
      const next = random(seed);
      for (let i = 0; i < 2500; i++) {
        const { scheme, host, target } = candidateParts(next);
        if (scheme !== 'https://' && scheme !== 'http://') continue;
        const whole = plainHttpUrl(`${scheme}${host}${target}`);
        const parts = plainPageUrl(scheme === 'https://', host, target);
        checked++;
        if (parts !== undefined) vouched++;
        // A request's target starts with `/`; without one the parts are not that URL's.
        if (target.startsWith('/')) expect(fields(parts), target).toEqual(fields(whole));
        else expect(parts, target).toBeUndefined();
      }
    }
    expect(vouched).toBeGreaterThan(checked / 20);
    expect(checked - vouched).toBeGreaterThan(checked / 5);
  }, 60_000);

  it('takes a request to a plain host, with or without a port', () => {
    expect(fields(plainPageUrl(true, 'shop.example.com', '/p/42?c=1'))).toEqual({
      href: 'https://shop.example.com/p/42?c=1',
      protocol: 'https:',
      host: 'shop.example.com',
      hostname: 'shop.example.com',
      search: '?c=1',
      params: [['c', '1']],
    });
    expect(plainPageUrl(false, 'localhost:3000', '/')?.hostname).toBe('localhost');
    for (const [host, target] of [
      ['localhost:80', '/'], // default port, dropped by the parser
      ['example.com:3000x', '/'],
      ['example.com/a', '/'],
      ['example.com?', '/'],
      ['Example.com', '/'],
      ['example.com', ''],
      ['example.com', '?q'],
      ['example.com', '/./a'],
    ] as const) {
      expect(plainPageUrl(false, host, target), `${host} ${target}`).toBeUndefined();
    }
  });
});
