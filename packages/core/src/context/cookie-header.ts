// The request's `Cookie` header: `name=value` pairs separated by `;`, spaces and tabs around
// names and values ignored (RFC 6265 §4.2.1 and §5.4, https://www.rfc-editor.org/rfc/rfc6265).
// Values are kept raw, never URI-decoded: `_fbp`/`_fbc` must be echoed back byte-for-byte. When a
// name repeats, the first pair wins: browsers send the cookie with the longest path first (§5.4).
// Pairs without `=` carry no name we could look up and are skipped.

const SPACE = 0x20;
const TAB = 0x09;

/** `header.slice(start, end)` without leading and trailing spaces and tabs. */
function trimmedSlice(header: string, start: number, end: number): string {
  let from = start;
  let to = end;
  while (from < to && isBlank(header.charCodeAt(from))) from++;
  while (to > from && isBlank(header.charCodeAt(to - 1))) to--;
  return header.slice(from, to);
}

function isBlank(code: number): boolean {
  return code === SPACE || code === TAB;
}

/**
 * Calls `visit` with each pair's name and raw value in header order until it returns `true`.
 * Linear in the header's length: the position of the next `=` is found once and reused while the
 * pairs before it have none (a header of many `;` must not cost a scan per pair).
 */
function eachCookie(header: string, visit: (name: string, value: string) => boolean): void {
  const length = header.length;
  let start = 0;
  let equals = -1;
  while (start < length) {
    let end = header.indexOf(';', start);
    if (end === -1) end = length;
    if (equals !== length && equals < start) {
      equals = header.indexOf('=', start);
      if (equals === -1) equals = length;
    }
    if (equals < end) {
      const name = trimmedSlice(header, start, equals);
      if (visit(name, trimmedSlice(header, equals + 1, end))) return;
    }
    start = end + 1;
  }
}

/** Every cookie of a `Cookie` header as name → raw value, in a null-prototype object. */
export function parseCookieHeader(header: string): Record<string, string | undefined> {
  const cookies = Object.create(null) as Record<string, string | undefined>;
  eachCookie(header, (name, value) => {
    if (cookies[name] === undefined) cookies[name] = value;
    return false;
  });
  return cookies;
}

/** The raw value of the first cookie called `name` in a `Cookie` header, without parsing the rest. */
export function cookieValue(header: string, name: string): string | undefined {
  let found: string | undefined;
  eachCookie(header, (pairName, value) => {
    if (pairName !== name) return false;
    found = value;
    return true;
  });
  return found;
}
