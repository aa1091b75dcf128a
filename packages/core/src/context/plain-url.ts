// A page URL without the URL parser, when the text is one the parser would return unchanged.
//
// Every tracked page view reads two URLs, the page (scheme, host and request target put together)
// and the `Referer`, and each `new URL()` (parse, the object, its getters) was about a fifth of
// the request context's time (bench/request-path.mjs, December 2026). Almost every such URL is
// already in the form the WHATWG URL parser serializes: a lowercase DNS host, a path and query of
// characters it leaves as they are, no dot segment, no fragment. For those, one scan proves that
// the parser would give the text back as `href`, and the parts are cut from it. Anything else
// (uppercase, IDNA, IP literals, a default port, a character it would percent-encode, `.`
// segments, `#`) is parsed as before: the fast path never decides differently, it only declines.
// @see https://url.spec.whatwg.org/#url-parsing

/** What the request context reads of a URL: a WHATWG `URL` or a {@link plainHttpUrl} result. */
export interface PageUrl {
  /** The whole URL, serialized. */
  readonly href: string;
  /** `http:` or `https:`. */
  readonly protocol: string;
  /** Host name and port, if any. */
  readonly host: string;
  /** Host name alone. */
  readonly hostname: string;
  /** The query with its `?`, or `''` when it is empty. */
  readonly search: string;
  /** The query's parameters (read only). */
  readonly searchParams: URLSearchParams;
}

/** A URL {@link plainHttpUrl} vouched for; `searchParams` is built when first read. */
class PlainUrl implements PageUrl {
  constructor(
    readonly href: string,
    readonly protocol: string,
    readonly host: string,
    readonly hostname: string,
    readonly search: string,
  ) {}

  get searchParams(): URLSearchParams {
    return new URLSearchParams(this.search);
  }
}

/**
 * True for the characters the parser copies as they are into a special URL's path and query:
 * ASCII letters, digits and `!$%&()*+,-./:;=?@_~`. Excluded are those it percent-encodes in one
 * of the two (space, `"`, `'` in a query, `<`, `>`, `` ` ``, `{`, `}`), `#`, `\` (a `/` to it),
 * controls, non-ASCII, and `[`, `]`, `^`, `|`, which it keeps but which are rare enough to parse.
 */
const PLAIN_CHAR = (() => {
  const table = new Uint8Array(128);
  const allow = (from: number, to = from) => table.fill(1, from, to + 1);
  allow(0x61, 0x7a); // a-z
  allow(0x41, 0x5a); // A-Z
  allow(0x30, 0x39); // 0-9
  for (const c of '!$%&()*+,-./:;=?@_~') allow(c.charCodeAt(0));
  return table;
})();

const DOT = 0x2e;
const HYPHEN = 0x2d;
const SLASH = 0x2f;
const COLON = 0x3a;
const QUESTION = 0x3f;
const PERCENT = 0x25;

const isLowerAlnum = (c: number): boolean => (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39);

/**
 * The end of a lowercase DNS host name at `from` (the index of the first character after it), or
 * -1 when the host is not one the parser keeps as written: labels of `a-z`, `0-9` and `-`, each
 * 1 to 63 characters starting with a letter or digit, no `xn--` label (the parser decodes and
 * checks those), no trailing dot, and a last label starting with a letter (one starting with a
 * digit could be read as an IPv4 address, `0x7f.1` among them).
 */
function plainHostEnd(text: string, from: number): number {
  let labelStart = from;
  let at = from;
  for (; at < text.length; at++) {
    const c = text.charCodeAt(at);
    if (isLowerAlnum(c) || (c === HYPHEN && at > labelStart)) continue;
    if (c !== DOT) break;
    if (!plainLabel(text, labelStart, at)) return -1;
    labelStart = at + 1;
  }
  if (!plainLabel(text, labelStart, at)) return -1;
  const first = text.charCodeAt(labelStart);
  return first >= 0x61 && first <= 0x7a ? at : -1;
}

function plainLabel(text: string, from: number, to: number): boolean {
  return to > from && to - from <= 63 && !text.startsWith('xn--', from);
}

/**
 * The end of a `:port` at `from`, or -1 unless it is one the parser keeps: 1 to 5 digits without a
 * leading zero, at most 65535, and not the scheme's default (which it drops).
 */
function plainPortEnd(text: string, from: number, https: boolean): number {
  let at = from + 1;
  let port = 0;
  for (; at < text.length && at - from <= 6; at++) {
    const c = text.charCodeAt(at);
    if (c < 0x30 || c > 0x39) break;
    port = port * 10 + (c - 0x30);
  }
  const digits = at - from - 1;
  if (digits === 0 || digits > 5 || text.charCodeAt(from + 1) === 0x30 || port > 65535) return -1;
  return port === (https ? 443 : 80) ? -1 : at;
}

/**
 * `text` as a {@link PageUrl} when it is an `http:`/`https:` URL the WHATWG parser would return
 * unchanged (its `href` is `text`), found with one scan; `undefined` when it is not, or not
 * surely, and the caller parses it. Its host always passes `isValidHost`.
 * @example plainHttpUrl('https://shop.example.com/p/42?c=1')?.hostname // 'shop.example.com'
 */
export function plainHttpUrl(text: string): PageUrl | undefined {
  let hostStart: number;
  if (text.startsWith('https://')) hostStart = 8;
  else if (text.startsWith('http://')) hostStart = 7;
  else return undefined;
  const https = hostStart === 8;
  const hostnameEnd = plainHostEnd(text, hostStart);
  // At most DNS's 253 characters (`isValidHost` takes no longer host).
  if (hostnameEnd === -1 || hostnameEnd - hostStart > 253) return undefined;
  let hostEnd = hostnameEnd;
  if (text.charCodeAt(hostEnd) === COLON) {
    hostEnd = plainPortEnd(text, hostEnd, https);
    if (hostEnd === -1) return undefined;
  }
  // The path must be there: the parser adds a `/` to `https://host` and `https://host?q`.
  if (text.charCodeAt(hostEnd) !== SLASH) return undefined;
  const query = plainTargetQuery(text, hostEnd);
  if (query === NOT_PLAIN) return undefined;
  const search = query === -1 || query === text.length - 1 ? '' : text.slice(query);
  return new PlainUrl(
    text,
    https ? 'https:' : 'http:',
    text.slice(hostStart, hostEnd),
    hostEnd === hostnameEnd ? text.slice(hostStart, hostEnd) : text.slice(hostStart, hostnameEnd),
    search,
  );
}

/**
 * {@link plainHttpUrl} of `${scheme}://${host}${target}` (a request's own URL), checked part by
 * part: the concatenation is a rope that V8 reads character by character at about twice the cost
 * of a flat string, so the parts are scanned and the rope is only kept as `href`.
 * @example plainPageUrl(true, 'shop.example.com', '/p/42?c=1')?.search // '?c=1'
 */
export function plainPageUrl(https: boolean, host: string, target: string): PageUrl | undefined {
  const hostnameEnd = plainHostEnd(host, 0);
  if (hostnameEnd === -1 || hostnameEnd > 253) return undefined;
  if (
    hostnameEnd !== host.length &&
    (host.charCodeAt(hostnameEnd) !== COLON ||
      plainPortEnd(host, hostnameEnd, https) !== host.length)
  ) {
    return undefined;
  }
  if (target.charCodeAt(0) !== SLASH) return undefined;
  const query = plainTargetQuery(target, 0);
  if (query === NOT_PLAIN) return undefined;
  return new PlainUrl(
    `${https ? 'https' : 'http'}://${host}${target}`,
    https ? 'https:' : 'http:',
    host,
    hostnameEnd === host.length ? host : host.slice(0, hostnameEnd),
    query === -1 || query === target.length - 1 ? '' : target.slice(query),
  );
}

/** {@link plainTargetQuery}'s answer for a path or query the parser would change. */
const NOT_PLAIN = -2;

/**
 * Where the query starts (its `?`) in the path and query at `from`, -1 when there is none, or
 * {@link NOT_PLAIN} when the parser would not keep them as written.
 */
function plainTargetQuery(text: string, from: number): number {
  let query = -1;
  for (let at = from; at < text.length; at++) {
    const c = text.charCodeAt(at);
    if (c >= 128 || PLAIN_CHAR[c] !== 1) return NOT_PLAIN;
    if (query !== -1) continue;
    if (c === QUESTION) query = at;
    // Dot segments (`/.`, `/..`, and their `%2e` spellings) are resolved by the parser.
    else if (c === SLASH && text.charCodeAt(at + 1) === DOT) return NOT_PLAIN;
    else if (
      c === PERCENT &&
      text.charCodeAt(at + 1) === 0x32 &&
      (text.charCodeAt(at + 2) | 0x20) === 0x65
    ) {
      return NOT_PLAIN;
    }
  }
  return query;
}
