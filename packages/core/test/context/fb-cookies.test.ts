import { parse, parseSetCookie } from 'cookie';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  buildFbc,
  fbCookie,
  fbcClickId,
  isValidFbValue,
  mintFbp,
  validFbclid,
} from '../../src/context/fb-cookies.js';
import type { CookieToSet, RequestContextOptions } from '../../src/context/index.js';
import { cookieScope } from '../../src/context/site-domain.js';
import { contextOf, MINTED_RANDOM, NOW, type RequestSpec } from './request-shapes.js';

const NAV = { 'sec-fetch-dest': 'document', accept: 'text/html' };
const FETCH = { 'sec-fetch-dest': 'empty', accept: '*/*' };
const FBP = 'fb.1.1690000000000.1234567890';
const FBC = 'fb.1.1690000000000.IwAR2F4-dbP0l7Mn1IawQQ_cINEz';
// Real-world fbclid shapes: URL-safe base64 with `_` and `-`, case-sensitive.
const FBCLID = 'IwZXh0bgNhZW0CMTAAAR2_x-Yq9PqL_aem_AbCdEfGhIjKlMn';

function ctx(spec: RequestSpec, options?: RequestContextOptions) {
  return contextOf(spec, options);
}

const names = (cookies: CookieToSet[]) => cookies.map((c) => c.name);

describe('value validation', () => {
  it.each([
    [FBP, true],
    [FBC, true],
    ['fb.2.1700000000000.IwAR_x-Y.AQQAAQIB', true],
    ['fb.1.1700000000000.IwAR.Bg', true],
    ['fb.0.1700000000.123', true],
    ['fb.1.1700000000000.123.toolongappendix', false],
    ['fb.1.1700000000000.123.x', false],
    ['fb.1.abc.123', false],
    ['fb.x.1700000000000.123', false],
    ['fb.1.1700000000000.', false],
    ['fb.1.1700000000000', false],
    ['FB.1.1700000000000.123', false],
    ['fb.1.1700000000000.a b', false],
    ['fb.1.1700000000000.a,b', false],
    ['fb.1.1700000000000.a%3Bb', false],
    ['fb.1.1700000000000.a\r\nSet-Cookie: x=y', false],
    [`fb.1.1700000000000.${'a'.repeat(501)}`, false],
    ['', false],
  ])('%j valid: %s', (value, expected) => {
    expect(isValidFbValue(value)).toBe(expected);
  });

  // isValidFbValue checks short values with a pattern whose payload is unbounded (cheaper for
  // irregexp): it must answer as the bounded rule does, at the 500-character payload limit above all.
  const BOUNDED = /^fb\.[0-9]{1,3}\.[0-9]{1,16}\.([A-Za-z0-9_-]{1,500})(?:\.[A-Za-z0-9_-]{2,8})?$/;
  it.each([
    ['fb.1.1.', 500, ''],
    ['fb.1.1.', 501, ''],
    ['fb.1.1.', 500, '.AQ'],
    ['fb.1.1.', 501, '.AQ'],
    ['fb.123.1234567890123456.', 500, '.AQQAAQIB'],
    ['fb.123.1234567890123456.', 501, '.AQQAAQIB'],
    ['fb.1.1.', 499, '.'],
    ['fb.1.1.', 600, ''],
  ])('%s + %i payload characters + %j: as the bounded rule', (head, n, tail) => {
    const value = `${head}${'a'.repeat(n)}${tail}`;
    expect(isValidFbValue(value)).toBe(BOUNDED.test(value));
    expect(isValidFbValue(value)).toBe(n <= 500 && tail !== '.');
  });

  it('accepts exactly what the bounded rule accepts, lengths around the limit included', () => {
    const unit = fc.constantFrom(...'fb.0123456789aZ_-;. é');
    const part = (min: number, max: number) =>
      fc.oneof(
        fc.string({ unit: fc.constantFrom(...'aZ09_-'), minLength: min, maxLength: max }),
        fc.string({ unit, maxLength: 3 }),
      );
    const value = fc
      .tuple(
        fc.constantFrom('fb.1.', 'fb.123.', 'fb.1234.', 'fb..', 'fc.1.'),
        fc.oneof(fc.string({ unit: fc.constantFrom(...'0123456789'), maxLength: 17 }), part(0, 2)),
        fc.constantFrom('.', '', ','),
        fc.oneof(part(1, 20), part(490, 510)),
        fc.oneof(
          fc.constant(''),
          part(0, 10).map((a) => `.${a}`),
        ),
      )
      .map((parts) => parts.join(''));
    fc.assert(
      fc.property(value, (v) => {
        expect(isValidFbValue(v)).toBe(BOUNDED.test(v));
      }),
      { numRuns: 5_000 },
    );
  });

  it('the fbc click ID is the payload segment, appendix excluded', () => {
    expect(fbcClickId('fb.1.1700000000000.AbC_d-E.AQQAAQIB')).toBe('AbC_d-E');
    expect(fbcClickId(FBC)).toBe('IwAR2F4-dbP0l7Mn1IawQQ_cINEz');
  });

  it.each([
    [FBCLID, FBCLID],
    ['a'.repeat(500), 'a'.repeat(500)],
    ['a'.repeat(501), undefined],
    ['abc.def', undefined],
    ['abc;def', undefined],
    ['abc def', undefined],
    ['abc,def', undefined],
    ['abc\r\ndef', undefined],
    ['', undefined],
    [null, undefined],
  ])('fbclid %j → %j', (value, expected) => {
    expect(validFbclid(value)).toBe(expected);
  });

  it('builds fbc keeping the fbclid byte-for-byte and refuses a bad clock', () => {
    expect(buildFbc(2, NOW, 'AbCdE')).toBe(`fb.2.${NOW}.AbCdE`);
    expect(buildFbc(1, Number.NaN, 'x')).toBeUndefined();
    expect(buildFbc(1, -1, 'x')).toBeUndefined();
  });

  it('mints a 31-bit random fbp', () => {
    for (let i = 0; i < 50; i++) {
      const fbp = mintFbp(1, NOW);
      expect(fbp).toMatch(/^fb\.1\.1700000000000\.\d{1,10}$/);
      expect(Number(fbp?.split('.')[3])).toBeLessThan(2 ** 31);
    }
  });

  it('mints distinct fbps across refills of its pool of random words', () => {
    const minted = new Set(Array.from({ length: 2000 }, () => mintFbp(1, NOW)));
    // 2000 draws from 2^31 values: a repeat would mean a pool served twice (p ≈ 0.1 % otherwise).
    expect(minted.size).toBeGreaterThanOrEqual(1998);
  });
});

describe('Set-Cookie round trip through the cookie parser and serializer', () => {
  it.each([
    ['https://www.example.com/', FBP, { domain: 'example.com', secure: true }],
    ['http://localhost:3000/', FBC, { secure: false }],
    ['https://127.0.0.1/', 'fb.0.1700000000000.IwAR_x-Y.AQQAAQIB', { secure: true }],
  ])('%s %s', (url, value, expected) => {
    const { hostname, protocol } = new URL(url);
    const cookie = fbCookie('_fbc', value, cookieScope(hostname, undefined), protocol === 'https:');
    expect(cookie).toBeDefined();
    if (cookie === undefined) return;
    const back = parseSetCookie(cookie.header);
    expect(back).toEqual({
      name: '_fbc',
      value,
      maxAge: 7_776_000,
      path: '/',
      sameSite: 'lax',
      ...('domain' in expected ? { domain: expected.domain } : {}),
      ...(expected.secure ? { secure: true } : {}),
    });
    expect(cookie.header).not.toMatch(/HttpOnly/i);
    // What the browser sends back parses to the same bytes.
    expect(parse(`_fbc=${cookie.value}; other=1`)._fbc).toBe(value);
    expect(cookie).toMatchObject({
      maxAge: 7_776_000,
      path: '/',
      sameSite: 'lax',
      httpOnly: false,
      secure: expected.secure,
    });
  });

  it('exact header format', () => {
    const cookie = fbCookie('_fbp', FBP, { domain: 'example.com', subdomainIndex: 1 }, true);
    expect(cookie?.header).toBe(
      `_fbp=${FBP}; Max-Age=7776000; Domain=example.com; Path=/; Secure; SameSite=Lax`,
    );
  });

  it('refuses to write an invalid value or domain', () => {
    expect(
      fbCookie(
        '_fbp',
        'fb.1.1.2; Domain=evil.com',
        { domain: undefined, subdomainIndex: 0 },
        false,
      ),
    ).toBeUndefined();
    expect(
      fbCookie('_fbp', FBP, { domain: 'ex ample.com', subdomainIndex: 1 }, false),
    ).toBeUndefined();
  });
});

describe('subdomain index and cookie domain', () => {
  it.each([
    ['http://localhost:3000/', undefined, undefined, 0],
    ['http://127.0.0.1:8080/', undefined, undefined, 0],
    ['http://[::1]:8080/', undefined, undefined, 0],
    ['https://example.com/', undefined, 'example.com', 1],
    ['https://www.example.com/', undefined, 'example.com', 1],
    ['https://www.example.co.uk/', undefined, 'example.co.uk', 2],
    ['https://shop.eu.example.co.uk/', undefined, 'example.co.uk', 2],
    ['https://my-app.vercel.app/', undefined, 'my-app.vercel.app', 2],
    ['https://a.shop.example.com/', 'shop.example.com', 'shop.example.com', 2],
    ['https://a.shop.example.com/', '.Shop.Example.com', 'shop.example.com', 2],
    ['https://www.example.com/', 'other.com', 'example.com', 1],
    ['https://www.example.com/', 'com', 'example.com', 1],
    // A public suffix (ICANN or private section) is no cookie domain: browsers refuse the cookie
    // (RFC 6265 §5.3 step 5), so it would never be stored and a new _fbp minted on every request.
    ['https://www.example.co.uk/', 'co.uk', 'example.co.uk', 2],
    ['https://my-app.vercel.app/', 'vercel.app', 'my-app.vercel.app', 2],
    ['https://a.b.github.io/', '.github.io', 'b.github.io', 2],
    ['http://intranet/', undefined, undefined, 0],
  ])('%s (cookieDomain %j) → Domain %j, index %i', (url, cookieDomain, domain, index) => {
    const context = ctx({ url, headers: NAV }, cookieDomain === undefined ? {} : { cookieDomain });
    expect(context.user_data.fbp).toBe(`fb.${index}.${NOW}.${MINTED_RANDOM}`);
    const [fbp] = context.cookiesToSet;
    expect(fbp?.domain).toBe(domain);
    expect(fbp?.header.includes('Domain=')).toBe(domain !== undefined);
    expect(fbp?.secure).toBe(url.startsWith('https:'));
  });
});

describe('_fbp and _fbc on requests', () => {
  it('mints _fbp when missing, on navigations and sub-requests alike', () => {
    for (const headers of [NAV, FETCH]) {
      const context = ctx({ url: 'https://www.example.com/', headers });
      expect(context.user_data.fbp).toBe(`fb.1.${NOW}.${MINTED_RANDOM}`);
      expect(names(context.cookiesToSet)).toEqual(['_fbp']);
    }
  });

  it('generateFbp: false mints nothing', () => {
    const context = ctx({ url: 'https://www.example.com/', headers: NAV }, { generateFbp: false });
    expect(context.user_data.fbp).toBeUndefined();
    expect(context.cookiesToSet).toEqual([]);
  });

  it('re-sets existing valid cookies byte-for-byte on navigations', () => {
    const context = ctx({
      url: 'https://www.example.com/p',
      headers: { ...NAV, cookie: `_fbp=${FBP}; _fbc=${FBC}; x=1` },
    });
    expect(context.user_data).toMatchObject({ fbp: FBP, fbc: FBC });
    expect(context.cookiesToSet.map((c) => [c.name, c.value])).toEqual([
      ['_fbp', FBP],
      ['_fbc', FBC],
    ]);
    for (const c of context.cookiesToSet)
      expect(c.header.startsWith(`${c.name}=${c.value}; `)).toBe(true);
  });

  it('does not re-set existing cookies on sub-requests', () => {
    const context = ctx({
      url: 'https://www.example.com/api/lead',
      method: 'POST',
      headers: {
        ...FETCH,
        cookie: `_fbp=${FBP}; _fbc=${FBC}`,
        referer: 'https://www.example.com/p',
      },
    });
    expect(context.user_data).toMatchObject({ fbp: FBP, fbc: FBC });
    expect(context.cookiesToSet).toEqual([]);
  });

  it('keeps a Parameter Builder appendix and compares only the click ID', () => {
    const withAppendix = 'fb.1.1690000000000.AbC_d-E.AQQAAQIB';
    const context = ctx({
      url: 'https://www.example.com/?fbclid=AbC_d-E',
      headers: { ...NAV, cookie: `_fbc=${withAppendix}; _fbp=fb.1.1690000000000.42.Bg` },
    });
    expect(context.user_data.fbc).toBe(withAppendix);
    expect(context.user_data.fbp).toBe('fb.1.1690000000000.42.Bg');
    expect(context.cookiesToSet.map((c) => c.value)).toEqual([
      'fb.1.1690000000000.42.Bg',
      withAppendix,
    ]);
  });

  it('builds _fbc from fbclid, keeping its case', () => {
    const context = ctx({
      url: `https://www.example.co.uk/landing?utm=x&fbclid=${FBCLID}`,
      headers: NAV,
    });
    expect(context.user_data.fbc).toBe(`fb.2.${NOW}.${FBCLID}`);
    const fbc = context.cookiesToSet.find((c) => c.name === '_fbc');
    expect(fbc?.value).toBe(`fb.2.${NOW}.${FBCLID}`);
    expect(fbc?.domain).toBe('example.co.uk');
  });

  it('replaces _fbc when the URL fbclid differs (case counts)', () => {
    const context = ctx({
      url: 'https://www.example.com/?fbclid=iwar2f4-dbp0l7mn1iawqq_cinez',
      headers: { ...NAV, cookie: `_fbc=${FBC}` },
    });
    expect(context.user_data.fbc).toBe(`fb.1.${NOW}.iwar2f4-dbp0l7mn1iawqq_cinez`);
    expect(context.cookiesToSet.filter((c) => c.name === '_fbc')).toHaveLength(1);
  });

  it('keeps _fbc when the URL fbclid is the same', () => {
    const clickId = fbcClickId(FBC);
    const context = ctx({
      url: `https://www.example.com/?fbclid=${clickId}`,
      headers: { ...FETCH, cookie: `_fbc=${FBC}` },
    });
    expect(context.user_data.fbc).toBe(FBC);
    expect(names(context.cookiesToSet)).toEqual(['_fbp']);
  });

  it('takes fbclid from the same-site Referer on sub-requests', () => {
    const context = ctx({
      url: 'https://api.example.com/track',
      method: 'POST',
      headers: { ...FETCH, referer: `https://www.example.com/landing?fbclid=${FBCLID}` },
    });
    expect(context.user_data.fbc).toBe(`fb.1.${NOW}.${FBCLID}`);
    expect(context.cookiesToSet.find((c) => c.name === '_fbc')?.domain).toBe('example.com');
  });

  it('ignores fbclid of a cross-site Referer', () => {
    const context = ctx({
      url: 'https://www.example.com/api/track',
      method: 'POST',
      headers: { ...FETCH, referer: `https://evil.example.net/?fbclid=${FBCLID}` },
    });
    expect(context.user_data.fbc).toBeUndefined();
  });

  it('ignores the Referer fbclid on navigations (only the landing URL counts)', () => {
    const context = ctx({
      url: 'https://www.example.com/product',
      headers: { ...NAV, referer: `https://www.example.com/landing?fbclid=${FBCLID}` },
    });
    expect(context.user_data.fbc).toBeUndefined();
  });

  it.each([['a;b'], ['a%3Bb'], ['a b'], ['a.b'], ['a%0D%0ASet-Cookie:%20x=y'], ['a'.repeat(501)]])(
    'ignores an unusable fbclid %j',
    (fbclid) => {
      const context = ctx({ url: `https://www.example.com/?fbclid=${fbclid}`, headers: NAV });
      expect(context.user_data.fbc).toBeUndefined();
      expect(names(context.cookiesToSet)).toEqual(['_fbp']);
    },
  );

  it.each([
    ['_fbp=garbage; _fbc=fb.1.x.y'],
    ['_fbp=fb.1.1700000000000.; _fbc=fb.1.1700000000000'],
    ['_fbp=fb.1.1700000000000.1%32; _fbc=fb.1.1700000000000.a%3Bb'],
    ['_fbp="fb.1.1700000000000.1"; _fbc=fb.1.1700000000000.a b'],
    ['_fbp=fb.1.1700000000000.1.toolongappendix'],
  ])('ignores malformed cookies %j (a fresh _fbp replaces a malformed one)', (cookie) => {
    const context = ctx({ url: 'https://www.example.com/', headers: { ...NAV, cookie } });
    expect(context.user_data.fbp).toBe(`fb.1.${NOW}.${MINTED_RANDOM}`);
    expect(context.user_data.fbc).toBeUndefined();
    expect(names(context.cookiesToSet)).toEqual(['_fbp']);
  });

  it('cookies: false writes nothing; a new fbc then uses subdomain index 1 ([FBC])', () => {
    const context = ctx(
      {
        url: `https://www.example.co.uk/?fbclid=${FBCLID}`,
        headers: { ...NAV, cookie: `_fbp=${FBP}` },
      },
      { cookies: false },
    );
    expect(context.cookiesToSet).toEqual([]);
    expect(context.user_data).toMatchObject({ fbp: FBP, fbc: `fb.1.${NOW}.${FBCLID}` });
  });

  it('cookies: false never mints an fbp that would change on every event', () => {
    const context = ctx({ url: 'https://www.example.com/', headers: NAV }, { cookies: false });
    expect(context.user_data.fbp).toBeUndefined();
  });

  it('a clock that fails or is not a timestamp mints nothing', () => {
    for (const now of [
      () => Number.NaN,
      () => -5,
      () => {
        throw new Error('clock');
      },
    ]) {
      const context = ctx(
        { url: `https://www.example.com/?fbclid=${FBCLID}`, headers: NAV },
        { now },
      );
      expect(context.user_data.fbp).toBeUndefined();
      expect(context.user_data.fbc).toBeUndefined();
      expect(context.cookiesToSet).toEqual([]);
    }
  });

  it('a fractional clock is floored to whole milliseconds', () => {
    const context = ctx(
      { url: 'https://www.example.com/', headers: NAV },
      { now: () => NOW + 0.75 },
    );
    expect(context.user_data.fbp).toBe(`fb.1.${NOW}.${MINTED_RANDOM}`);
  });
});
