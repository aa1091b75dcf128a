import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type DestinationContextSource,
  getRequestContext,
  mayWriteCookies,
  type RequestContextOptions,
} from '../../src/context/index.js';
import { contextOf, NOW, type RequestSpec, toNodeRequest, toWebRequest } from './request-shapes.js';

// What destinations beside Meta read from a request (ContextNeeds), through getRequestContext and
// mayWriteCookies, for both request shapes (contextOf checks they agree).

const XCLID_AGE = 86_400;
const acme: DestinationContextSource = {
  name: 'acme',
  context: {
    queryParams: ['utm_acme'],
    cookies: ['_acme'],
    persist: [{ param: 'xclid', cookie: 'xclid', maxAgeSeconds: XCLID_AGE }],
  },
};
const options: RequestContextOptions = { destinations: [acme], now: () => NOW };
const FBP = '_fbp=fb.1.1690000000000.42';
const NAV = { 'sec-fetch-dest': 'document' };

describe('destination request needs', () => {
  it('a landing URL: parameters and cookies captured, the click ID kept in its cookie', () => {
    const context = contextOf(
      {
        url: 'https://www.shop.example/?xclid=C-1&utm_acme=spring',
        headers: { ...NAV, cookie: `${FBP}; _acme=b.42` },
      },
      options,
    );
    expect(context.destinations).toEqual({
      acme: { utm_acme: 'spring', _acme: 'b.42', xclid: 'C-1' },
    });
    expect(context.cookiesToSet.map((c) => c.header)).toEqual([
      '_fbp=fb.1.1690000000000.42; Max-Age=7776000; Domain=shop.example; Path=/; Secure; SameSite=Lax',
      `xclid=C-1; Max-Age=${XCLID_AGE}; Domain=shop.example; Path=/; Secure; SameSite=Lax`,
    ]);
  });

  it('a navigation re-sets a kept click ID; a sub-request with the same one sets nothing', () => {
    const navigation = contextOf(
      { url: 'https://shop.example/p', headers: { ...NAV, cookie: `${FBP}; xclid=C-1` } },
      options,
    );
    expect(navigation.cookiesToSet.map((c) => c.name)).toEqual(['_fbp', 'xclid']);
    const fetch = contextOf(
      {
        url: 'https://shop.example/api',
        method: 'POST',
        headers: { cookie: `${FBP}; xclid=C-1`, referer: 'https://shop.example/p?xclid=C-1' },
      },
      options,
    );
    expect(fetch.cookiesToSet).toEqual([]);
    expect(fetch.destinations?.acme).toEqual({ xclid: 'C-1' });
  });

  it('a sub-request reads a new click ID from its page (the same-site Referer) and keeps it', () => {
    const context = contextOf(
      {
        url: 'https://shop.example/api',
        method: 'POST',
        headers: { cookie: `${FBP}; xclid=old`, referer: 'https://shop.example/p?xclid=new' },
      },
      options,
    );
    expect(context.destinations?.acme).toEqual({ xclid: 'new' });
    expect(context.cookiesToSet.map((c) => `${c.name}=${c.value}`)).toEqual(['xclid=new']);
  });

  it('another site’s Referer is not our page', () => {
    const context = contextOf(
      {
        url: 'https://shop.example/api',
        method: 'POST',
        headers: { cookie: FBP, referer: 'https://evil.example/?xclid=forged' },
      },
      options,
    );
    expect(context.destinations?.acme).toEqual({});
    expect(context.cookiesToSet).toEqual([]);
  });

  it('a destination without needs is left out; without destinations nothing changes', () => {
    const spec: RequestSpec = { url: 'https://shop.example/?xclid=C', headers: NAV };
    const none = contextOf(spec, { now: () => NOW });
    const needless = contextOf(spec, { now: () => NOW, destinations: [{ name: 'bare' }] });
    expect(none.destinations).toBeUndefined();
    expect(needless.destinations).toBeUndefined();
    expect(needless.cookiesToSet).toEqual(none.cookiesToSet);
  });

  it('mayWriteCookies is false only where no cookie is set (destinations included, both shapes)', () => {
    const value = <T>(...v: T[]) => fc.constantFrom(...v);
    const spec = fc.record({
      url: value(
        'https://www.example.com/',
        'https://www.example.com/p?xclid=Abc',
        'https://www.example.com/p?fbclid=F&xclid=Z',
        'http://localhost:3000/a?xclid=L',
        'https://api.example.com/track',
      ),
      method: value('GET', 'POST'),
      headers: fc.record(
        {
          'sec-fetch-dest': value('document', 'empty'),
          cookie: value(FBP, `${FBP}; xclid=Abc`, `${FBP}; xclid=Old`, 'xclid=Abc', ''),
          referer: value(
            'https://www.example.com/p?xclid=Abc',
            'https://www.example.com/p?xclid=New',
            'https://www.example.com/p',
            'https://other.test/?xclid=X',
          ),
        },
        { requiredKeys: [] },
      ),
    });
    const opts = fc.record(
      { cookies: fc.boolean(), generateFbp: fc.boolean() },
      { requiredKeys: [] },
    );
    let deferred = 0;
    fc.assert(
      fc.property(spec, opts, (s, o) => {
        const all = { ...options, ...o };
        const node = toNodeRequest(s);
        const web = toWebRequest(s);
        expect(mayWriteCookies(node, all)).toBe(mayWriteCookies(web, all));
        if (mayWriteCookies(node, all)) return;
        deferred++;
        expect(getRequestContext(node, all).cookiesToSet).toEqual([]);
        expect(getRequestContext(web, all).cookiesToSet).toEqual([]);
      }),
      { numRuns: 600 },
    );
    expect(deferred).toBeGreaterThan(20);
  });
});
