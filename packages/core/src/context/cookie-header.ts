// The request's `Cookie` header: `name=value` pairs separated by `;`, spaces and tabs around
// names and values ignored (RFC 6265 §4.2.1 and §5.4, https://www.rfc-editor.org/rfc/rfc6265).
// Values are kept raw, never URI-decoded: `_fbp`/`_fbc` must be echoed back byte-for-byte. When a
// name repeats, the first pair wins: browsers send the cookie with the longest path first (§5.4).
// A lookup with an `accept` test takes the first value that passes it instead: a browser holding
// two `_fbp` (a host-only one and one on the site's domain) sends them by creation time, so an old
// malformed one would otherwise hide the valid one on every request.
// Pairs without `=` carry no name we could look up and are skipped.

const SPACE = 0x20;
const TAB = 0x09;

function isBlank(code: number): boolean {
  return code === SPACE || code === TAB;
}

/**
 * Calls `visit` with the bounds of each pair's name and raw value (spaces and tabs around each
 * trimmed off) in header order until it returns `true`. Linear in the header's length: the
 * position of the next `=` is found once and reused while the pairs before it have none (a header
 * of many `;` must not cost a scan per pair).
 */
function eachPair(
  header: string,
  visit: (nameFrom: number, nameTo: number, valueFrom: number, valueTo: number) => boolean,
): void {
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
      let nameFrom = start;
      let nameTo = equals;
      while (nameFrom < nameTo && isBlank(header.charCodeAt(nameFrom))) nameFrom++;
      while (nameTo > nameFrom && isBlank(header.charCodeAt(nameTo - 1))) nameTo--;
      let valueFrom = equals + 1;
      let valueTo = end;
      while (valueFrom < valueTo && isBlank(header.charCodeAt(valueFrom))) valueFrom++;
      while (valueTo > valueFrom && isBlank(header.charCodeAt(valueTo - 1))) valueTo--;
      if (visit(nameFrom, nameTo, valueFrom, valueTo)) return;
    }
    start = end + 1;
  }
}

/** {@link eachPair} with the name and value sliced out. */
function eachCookie(header: string, visit: (name: string, value: string) => boolean): void {
  eachPair(header, (nameFrom, nameTo, valueFrom, valueTo) =>
    visit(header.slice(nameFrom, nameTo), header.slice(valueFrom, valueTo)),
  );
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

/** Which values a lookup takes: every value, or those a test accepts. */
type Accept = ((value: string) => boolean) | undefined;

/**
 * The raw values of the first cookies called `first` and `second` (with `accept`, the first that
 * pass it), in one pass that compares names in place and slices only the values it looks at: what
 * a request needs (`_fbp`, `_fbc`) without the object and the strings of every other cookie
 * (sessions, analytics) that {@link parseCookieHeader} builds.
 */
export function cookieValues(
  header: string,
  first: string,
  second: string,
  accept?: Accept,
): [string | undefined, string | undefined] {
  const found: [string | undefined, string | undefined] = [undefined, undefined];
  eachPair(header, (nameFrom, nameTo, valueFrom, valueTo) => {
    if (found[0] === undefined && nameIs(header, first, nameFrom, nameTo)) {
      found[0] = accepted(header.slice(valueFrom, valueTo), accept);
    } else if (found[1] === undefined && nameIs(header, second, nameFrom, nameTo)) {
      found[1] = accepted(header.slice(valueFrom, valueTo), accept);
    }
    return found[0] !== undefined && found[1] !== undefined;
  });
  return found;
}

function accepted(value: string, accept: Accept): string | undefined {
  return accept === undefined || accept(value) ? value : undefined;
}

/** True when `header` holds exactly `name` from `from` to `to`: compared in place, nothing sliced. */
function nameIs(header: string, name: string, from: number, to: number): boolean {
  return to - from === name.length && header.startsWith(name, from);
}

/**
 * The raw value of the first cookie called `name` (with `accept`, the first that passes it) in a
 * `Cookie` header, without parsing the rest.
 */
export function cookieValue(header: string, name: string, accept?: Accept): string | undefined {
  let found: string | undefined;
  // Names are compared in place: only the values looked at are sliced out of the header, not
  // every pair's name and value (a request's Cookie header carries the whole site's cookies).
  eachPair(header, (nameFrom, nameTo, valueFrom, valueTo) => {
    if (!nameIs(header, name, nameFrom, nameTo)) return false;
    found = accepted(header.slice(valueFrom, valueTo), accept);
    return found !== undefined;
  });
  return found;
}
