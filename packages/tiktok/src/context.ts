// What one request tells TikTok: the click ID of the ad click that led here (`ttclid` in the
// landing URL, [EAPI] in sources.ts: "a tracking parameter added to a landing page URL whenever a
// user clicks on an ad on TikTok") and the TikTok Pixel's browser ID (the `_ttp` cookie, [EAPI]:
// "Cookie ID saved in the _ttp cookie when you use Pixel SDK and enable cookies").
//
// `ttclid` is also read from a first-party `ttclid` cookie, which capi-kit will write (like `_fbc`)
// once destinations are wired into the core (docs/destinations.md), so a conversion on a later
// page still carries the click. The URL wins over the cookie: it is the newer click.

/** The `_ttp` cookie the TikTok Pixel sets (its browser ID). */
export const TTP_COOKIE = '_ttp';

/** The landing-URL parameter, and the name of capi-kit's first-party cookie that keeps it. */
export const TTCLID_PARAM = 'ttclid';

/** What {@link readTikTokContext} found; both optional. */
export interface TikTokContext {
  /** The TikTok click ID, raw (TikTok wants it unhashed). */
  ttclid?: string;
  /** The `_ttp` cookie's value, raw. */
  ttp?: string;
}

/** Where {@link readTikTokContext} looks. */
export interface TikTokContextInput {
  /** The page URL (a navigation's URL, or the same-site `Referer` of a fetch): absolute. */
  url?: string | undefined;
  /** The request's `Cookie` header. */
  cookieHeader?: string | undefined;
}

// Printable ASCII without space, `;` or `,`, at most 500 characters: a value that cannot break a
// cookie or the JSON it is sent in, and long enough for any click ID seen in the wild.
const MAX_ID_LENGTH = 500;
const ID_SHAPE = /^[\x21-\x2b\x2d-\x3a\x3c-\x7e]+$/;

/** True when `value` can be sent as a `ttclid` or `ttp`. */
export function isTikTokIdValue(value: string): boolean {
  return value.length > 0 && value.length <= MAX_ID_LENGTH && ID_SHAPE.test(value);
}

/** The first cookie named `name` in a `Cookie` header (first pair wins, value as sent), or `undefined`. */
export function cookieFromHeader(header: string, name: string): string | undefined {
  for (const pair of header.split(';')) {
    const eq = pair.indexOf('=');
    if (eq < 0 || pair.slice(0, eq).trim() !== name) continue;
    let value = pair.slice(eq + 1).trim();
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) {
      value = value.slice(1, -1);
    }
    return value;
  }
  return undefined;
}

/**
 * The first value of cookie `name` that can be sent (`isTikTokIdValue`): an empty or malformed
 * duplicate sent first (an older host-only cookie) must not hide the valid one, the core's rule
 * for `_fbp`/`_fbc` and for the destination context.
 */
function usableCookie(header: string, name: string): string | undefined {
  for (const pair of header.split(';')) {
    const eq = pair.indexOf('=');
    if (eq < 0 || pair.slice(0, eq).trim() !== name) continue;
    const value = cookieFromHeader(pair, name);
    if (value !== undefined && isTikTokIdValue(value)) return value;
  }
  return undefined;
}

function ttclidFromUrl(url: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined;
  }
  const value = parsed.searchParams.get(TTCLID_PARAM);
  return value === null ? undefined : value.trim();
}

/**
 * `ttclid` (from the URL, else the `ttclid` cookie) and `ttp` (the `_ttp` cookie) of one request.
 * Malformed values are left out; of duplicate cookies, the first usable one is read. Pure: reads only what it is given.
 * @example readTikTokContext({ url: 'https://shop.example/?ttclid=E.C.P.abc', cookieHeader: '_ttp=2F7h37Yk' })
 * // { ttclid: 'E.C.P.abc', ttp: '2F7h37Yk' }
 */
export function readTikTokContext(input: TikTokContextInput): TikTokContext {
  const context: TikTokContext = {};
  const cookies = input.cookieHeader ?? '';
  const fromUrl = input.url === undefined ? undefined : ttclidFromUrl(input.url);
  const ttclid =
    fromUrl !== undefined && isTikTokIdValue(fromUrl)
      ? fromUrl
      : usableCookie(cookies, TTCLID_PARAM);
  if (ttclid !== undefined) context.ttclid = ttclid;
  const ttp = usableCookie(cookies, TTP_COOKIE);
  if (ttp !== undefined) context.ttp = ttp;
  return context;
}
