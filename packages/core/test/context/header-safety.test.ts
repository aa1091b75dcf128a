/**
 * Property: whatever a client sends (cookie values, fbclid, Host, X-Forwarded-Host, Referer), no
 * CR, LF, `;`, `,` or space from it can reach a `Set-Cookie` header, and every header has exactly
 * the shape we intend to write.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type CookieToSet,
  getRequestContext,
  type NodeRequestLike,
} from '../../src/context/index.js';
import { toWebRequest } from './request-shapes.js';

const SET_COOKIE =
  /^_fb[pc]=fb\.\d{1,3}\.\d{1,16}\.[A-Za-z0-9_-]{1,500}(?:\.[A-Za-z0-9_-]{2,8})?; Max-Age=7776000(?:; Domain=[a-z0-9.-]+)?; Path=\/(?:; Secure)?; SameSite=Lax$/;

// Strings built to hit the dangerous characters often, plus a dose of arbitrary Unicode.
const hostile = fc.oneof(
  fc.string({
    unit: fc.constantFrom(
      'a',
      'Z',
      '0',
      '9',
      '_',
      '-',
      '.',
      ';',
      ',',
      ' ',
      '=',
      '"',
      '\\',
      '%',
      '\r',
      '\n',
      '\t',
      '\0',
      ':',
      '/',
      '?',
      '#',
      '[',
      ']',
      '@',
      'é',
      '\u2028',
    ),
    maxLength: 40,
  }),
  fc.string({ unit: 'binary', maxLength: 40 }),
);

function assertSafe(cookies: CookieToSet[]): void {
  for (const cookie of cookies) {
    expect(cookie.header).toMatch(SET_COOKIE);
    expect(cookie.header).not.toMatch(/[\r\n\0]/);
    expect(cookie.value).not.toMatch(/[;, \r\n]/);
    if (cookie.domain !== undefined) expect(cookie.domain).toMatch(/^[a-z0-9.-]+$/);
  }
}

describe('Set-Cookie header safety', () => {
  it('hostile input in any request field never reaches a Set-Cookie header (Node shape)', () => {
    fc.assert(
      fc.property(
        fc.record({
          fbp: hostile,
          fbc: hostile,
          fbclid: hostile,
          host: fc.oneof(hostile, fc.constant('www.example.com')),
          forwardedHost: hostile,
          referer: fc.oneof(
            hostile,
            hostile.map((s) => `https://www.example.com/?fbclid=${s}`),
          ),
          cookieDomain: hostile,
          encode: fc.boolean(),
        }),
        (r) => {
          const fbclid = r.encode ? encodeURIComponent(r.fbclid) : r.fbclid;
          const input: NodeRequestLike = {
            method: 'GET',
            url: `/landing?fbclid=${fbclid}`,
            remoteAddress: '127.0.0.1',
            headers: {
              host: r.host,
              'x-forwarded-host': r.forwardedHost,
              'x-forwarded-proto': 'https',
              'sec-fetch-dest': 'document',
              referer: r.referer,
              cookie: `_fbp=${r.fbp}; _fbc=${r.fbc}`,
            },
          };
          assertSafe(
            getRequestContext(input, { trustProxy: 'loopback', cookieDomain: r.cookieDomain })
              .cookiesToSet,
          );
          const subRequest = {
            ...input,
            method: 'POST',
            headers: { ...input.headers, 'sec-fetch-dest': 'empty' },
          };
          assertSafe(getRequestContext(subRequest, { trustProxy: true }).cookiesToSet);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('hostile input through a Web Request (where Headers accepts it)', () => {
    fc.assert(
      fc.property(hostile, hostile, hostile, (fbc, fbclid, referer) => {
        let request: Request;
        try {
          request = toWebRequest({
            url: `https://www.example.com/?fbclid=${encodeURIComponent(fbclid)}`,
            headers: { cookie: `_fbc=${fbc}`, referer, 'sec-fetch-dest': 'document' },
          });
        } catch {
          return; // Headers refuses CR/LF/NUL itself; nothing to test for this input.
        }
        assertSafe(getRequestContext(request).cookiesToSet);
      }),
      { numRuns: 500 },
    );
  });

  it('the fbclid goes into _fbc byte-for-byte or not at all', () => {
    fc.assert(
      fc.property(hostile, (fbclid) => {
        const context = getRequestContext(
          {
            url: `/?fbclid=${encodeURIComponent(fbclid)}`,
            headers: { host: 'www.example.com', 'sec-fetch-dest': 'document' },
          },
          { now: () => 1 },
        );
        const fbc = context.user_data.fbc;
        if (/^[A-Za-z0-9_-]{1,500}$/.test(fbclid)) expect(fbc).toBe(`fb.1.1.${fbclid}`);
        else expect(fbc).toBeUndefined();
      }),
    );
  });
});
