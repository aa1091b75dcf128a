/**
 * Splitting of the two proxy-chain headers into hops, left (client side) to right (nearest proxy).
 * A hop is the raw address text, or `undefined` when it cannot name an address, so the caller can
 * fail closed exactly when it reaches such a hop.
 */

/** `X-Forwarded-For: client, proxy1, proxy2` → its comma-separated entries, untrimmed. */
export function xForwardedForHops(value: string): (string | undefined)[] {
  return value.split(',');
}

function isTokenChar(c: number): boolean {
  // RFC 9110 §5.6.2 tchar
  return (
    (c >= 0x61 && c <= 0x7a) ||
    (c >= 0x41 && c <= 0x5a) ||
    (c >= 0x30 && c <= 0x39) ||
    c === 0x21 ||
    (c >= 0x23 && c <= 0x27) ||
    c === 0x2a ||
    c === 0x2b ||
    c === 0x2d ||
    c === 0x2e ||
    c === 0x5e ||
    c === 0x5f ||
    c === 0x60 ||
    c === 0x7c ||
    c === 0x7e
  );
}

function isOws(c: number): boolean {
  return c === 0x20 || c === 0x09;
}

/**
 * Walks an RFC 7239 `Forwarded` header: `pair` gets each parameter of an element (name lowercased,
 * quotes and escapes removed), `end` the number of parameters after each element. False when the
 * header does not parse, because then element boundaries (and so hop positions) are unknown.
 *
 * Unquoted values are read up to the next `;`, `,` or whitespace, which is laxer than the RFC's
 * token rule (`for=[::1]:80` must be quoted there): the caller decides what is valid.
 * @see https://www.rfc-editor.org/rfc/rfc7239#section-4
 */
function walkForwarded(
  value: string,
  pair: (name: string, parsed: string) => void,
  end: (pairs: number) => void,
): boolean {
  const length = value.length;
  let i = 0;
  let pairs = 0;
  for (;;) {
    while (i < length && isOws(value.charCodeAt(i))) i++;
    if (i < length && value.charCodeAt(i) !== 0x2c && value.charCodeAt(i) !== 0x3b) {
      const nameStart = i;
      while (i < length && isTokenChar(value.charCodeAt(i))) i++;
      if (i === nameStart || value.charCodeAt(i) !== 0x3d /* = */) return false;
      const name = value.slice(nameStart, i).toLowerCase();
      i++;
      let parsed: string;
      if (value.charCodeAt(i) === 0x22 /* " */) {
        i++;
        parsed = '';
        let closed = false;
        while (i < length) {
          const c = value.charCodeAt(i);
          if (c === 0x22) {
            closed = true;
            i++;
            break;
          }
          if (c === 0x5c /* \ */) {
            i++;
            if (i >= length) return false;
          }
          parsed += value[i];
          i++;
        }
        if (!closed) return false;
      } else {
        const valueStart = i;
        while (i < length) {
          const c = value.charCodeAt(i);
          if (c === 0x2c || c === 0x3b || c === 0x22 || isOws(c)) break;
          i++;
        }
        parsed = value.slice(valueStart, i);
      }
      pairs++;
      pair(name, parsed);
      while (i < length && isOws(value.charCodeAt(i))) i++;
    }
    const c = i < length ? value.charCodeAt(i) : -1;
    if (c === 0x3b /* ; */) {
      i++;
      continue;
    }
    if (c !== 0x2c /* , */ && c !== -1) return false;
    end(pairs);
    pairs = 0;
    if (c === -1) return true;
    i++;
  }
}

/** RFC 7239 §6.3 obfport characters after the `_`: ALPHA / DIGIT / "." / "_" / "-". */
function isObfuscatedPortChar(c: number): boolean {
  return (
    (c >= 0x61 && c <= 0x7a) ||
    (c >= 0x41 && c <= 0x5a) ||
    (c >= 0x30 && c <= 0x39) ||
    c === 0x2e ||
    c === 0x5f ||
    c === 0x2d
  );
}

/**
 * A `for=` node without its obfuscated port (`198.51.100.7:_a1`, `[2001:db8::7]:_p`): a proxy may
 * hide the port and still give the address (RFC 7239 §6.3), which the address parser, knowing
 * only numeric ports, would refuse. Any other node is returned as it is.
 * @see https://www.rfc-editor.org/rfc/rfc7239#section-6.3
 */
function withoutObfuscatedPort(node: string): string {
  const colon = node.lastIndexOf(':');
  if (colon === -1 || colon + 2 >= node.length || node.charCodeAt(colon + 1) !== 0x5f) return node;
  for (let i = colon + 2; i < node.length; i++) {
    if (!isObfuscatedPortChar(node.charCodeAt(i))) return node;
  }
  return node.slice(0, colon);
}

/**
 * RFC 7239 `Forwarded` → the `for=` value of each element (quotes and escapes removed, an
 * obfuscated port dropped), or
 * `undefined` for an element without exactly one `for`. Returns `undefined` for the whole header
 * when it does not parse (see {@link walkForwarded}).
 * @see https://www.rfc-editor.org/rfc/rfc7239#section-4
 */
export function forwardedForHops(value: string): (string | undefined)[] | undefined {
  const hops: (string | undefined)[] = [];
  let forValue: string | undefined;
  let forCount = 0;
  const parsed = walkForwarded(
    value,
    (name, text) => {
      if (name === 'for') {
        forCount++;
        forValue = text;
      }
    },
    (pairs) => {
      // An element with no pair at all (`a, , b`) names no hop; it still counts as one so
      // positions stay right, and it fails the walk if the walk gets that far.
      hops.push(
        pairs > 0 && forCount === 1 && forValue !== undefined
          ? withoutObfuscatedPort(forValue)
          : undefined,
      );
      forValue = undefined;
      forCount = 0;
    },
  );
  return parsed ? hops : undefined;
}

/** The scheme and host the client asked the first proxy for, from RFC 7239 `proto=` and `host=`. */
export interface ForwardedOrigin {
  readonly proto: string | undefined;
  readonly host: string | undefined;
}

/**
 * The `proto=` and `host=` of the first element of a `Forwarded` header: what the client sent to
 * the outermost proxy, as Express reads the first `X-Forwarded-Proto`/`-Host` value. A parameter
 * given twice in that element is absent (RFC 7239 §4 allows each once); the whole answer is
 * `undefined` when the header does not parse.
 * @see https://www.rfc-editor.org/rfc/rfc7239#section-5.3
 */
export function forwardedOrigin(value: string): ForwardedOrigin | undefined {
  let element = 0;
  let proto: string | undefined;
  let host: string | undefined;
  let protoCount = 0;
  let hostCount = 0;
  const parsed = walkForwarded(
    value,
    (name, text) => {
      if (element !== 0) return;
      if (name === 'proto') {
        protoCount++;
        proto = text;
      } else if (name === 'host') {
        hostCount++;
        host = text;
      }
    },
    () => {
      element++;
    },
  );
  if (!parsed) return undefined;
  return {
    proto: protoCount === 1 ? proto : undefined,
    host: hostCount === 1 ? host : undefined,
  };
}
