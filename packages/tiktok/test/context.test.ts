import { cookieFromHeader, isTikTokIdValue, readTikTokContext } from '@capi-kit/tiktok';
import { describe, expect, it } from 'vitest';

describe('readTikTokContext', () => {
  it('reads ttclid from the URL and ttp from the _ttp cookie', () => {
    expect(
      readTikTokContext({
        url: 'https://shop.example/p/1?utm_source=tt&ttclid=E.C.P.CsQB123abc',
        cookieHeader: 'a=1; _ttp=2F7h37YkS1j57AYSKTI7IHhJPYH; _fbp=fb.1.1.1',
      }),
    ).toEqual({ ttclid: 'E.C.P.CsQB123abc', ttp: '2F7h37YkS1j57AYSKTI7IHhJPYH' });
  });

  it('falls back to the ttclid cookie, and the URL wins over it', () => {
    expect(readTikTokContext({ url: 'https://shop.example/', cookieHeader: 'ttclid=old' })).toEqual(
      {
        ttclid: 'old',
      },
    );
    expect(
      readTikTokContext({ url: 'https://shop.example/?ttclid=new', cookieHeader: 'ttclid=old' }),
    ).toEqual({ ttclid: 'new' });
  });

  it('uses the cookie when the URL value is malformed', () => {
    expect(
      readTikTokContext({ url: 'https://s.example/?ttclid=a%20b', cookieHeader: 'ttclid=good' }),
    ).toEqual({ ttclid: 'good' });
  });

  it('gives nothing for nothing, a relative or broken URL, empty or malformed values', () => {
    expect(readTikTokContext({})).toEqual({});
    expect(readTikTokContext({ url: '/?ttclid=x' })).toEqual({});
    expect(readTikTokContext({ url: 'https://s.example/?ttclid=' })).toEqual({});
    expect(readTikTokContext({ cookieHeader: '_ttp=; ttclid=a,b' })).toEqual({});
    expect(readTikTokContext({ cookieHeader: `_ttp=${'x'.repeat(501)}` })).toEqual({});
  });

  it('takes the first cookie of a name and unquotes a quoted value', () => {
    expect(readTikTokContext({ cookieHeader: '_ttp="q1"; _ttp=second' })).toEqual({ ttp: 'q1' });
  });

  it('an empty or malformed duplicate sent first does not hide the valid cookie (as for _fbp/_fbc)', () => {
    // An older host-only cookie, or one a script blanked: the click and the Pixel's ID were lost.
    expect(
      readTikTokContext({
        url: 'https://s.example/product',
        cookieHeader: 'ttclid=; _ttp=a,b; ttclid=E.C.P.abc123; _ttp=2F7h37Yk',
      }),
    ).toEqual({ ttclid: 'E.C.P.abc123', ttp: '2F7h37Yk' });
  });
});

describe('cookieFromHeader', () => {
  it('matches whole names only', () => {
    expect(cookieFromHeader('x_ttp=1; _ttp2=2', '_ttp')).toBeUndefined();
    expect(cookieFromHeader(' _ttp = v ', '_ttp')).toBe('v');
    expect(cookieFromHeader('novalue; _ttp=v', '_ttp')).toBe('v');
  });
});

describe('isTikTokIdValue', () => {
  it.each([
    ['E.C.P.abc-_~', true],
    ['', false],
    ['with space', false],
    ['semi;colon', false],
    ['com,ma', false],
    ['é', false],
    ['x'.repeat(500), true],
    ['x'.repeat(501), false],
  ])('%j → %s', (value, expected) => {
    expect(isTikTokIdValue(value)).toBe(expected);
  });
});
