/**
 * A small IPv4/IPv6 parser, formatter and CIDR matcher, written here rather than taken from a
 * dependency because the core runs on Edge runtimes (no `node:net`) and the rules are strict on
 * purpose: anything ambiguous is rejected so callers can fail closed.
 */

/** An IP address as numbers: 4 octets for IPv4, 8 16-bit groups for IPv6. */
export interface IpAddress {
  readonly version: 4 | 6;
  readonly parts: readonly number[];
}

/** An address range in CIDR form (`10.0.0.0/8`, `2001:db8::/32`). */
export interface IpRange {
  readonly version: 4 | 6;
  readonly parts: readonly number[];
  /** Number of leading bits that must match. */
  readonly prefix: number;
}

const DOT = 0x2e;
const COLON = 0x3a;

/** Parses strict dotted-decimal IPv4 (`1.2.3.4`); leading zeros are rejected as they read as octal in some parsers. */
export function parseIpv4(text: string): number[] | undefined {
  if (text.length < 7 || text.length > 15) return undefined;
  // Four slots up front: an empty array grown by `push` would allocate room for seventeen.
  const parts = [0, 0, 0, 0];
  let count = 0;
  let value = 0;
  let digits = 0;
  for (let i = 0; i <= text.length; i++) {
    const c = i < text.length ? text.charCodeAt(i) : DOT;
    if (c === DOT) {
      if (digits === 0 || count === 4) return undefined;
      parts[count++] = value;
      value = 0;
      digits = 0;
    } else if (c >= 0x30 && c <= 0x39) {
      if (digits > 0 && value === 0) return undefined;
      value = value * 10 + (c - 0x30);
      digits++;
      if (value > 255) return undefined;
    } else {
      return undefined;
    }
  }
  return count === 4 ? parts : undefined;
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  return -1;
}

/** Appends the 16-bit groups of `text` (no `::` inside) to `out`; the last group may be an embedded IPv4. */
function pushGroups(text: string, allowIpv4Tail: boolean, out: number[]): boolean {
  let start = 0;
  while (start <= text.length) {
    let end = text.indexOf(':', start);
    if (end === -1) end = text.length;
    const length = end - start;
    if (end === text.length && allowIpv4Tail && text.indexOf('.', start) !== -1) {
      const v4 = parseIpv4(text.slice(start));
      if (v4 === undefined) return false;
      out.push(((v4[0] ?? 0) << 8) | (v4[1] ?? 0), ((v4[2] ?? 0) << 8) | (v4[3] ?? 0));
      return true;
    }
    if (length < 1 || length > 4) return false;
    let group = 0;
    for (let i = start; i < end; i++) {
      const h = hexValue(text.charCodeAt(i));
      if (h < 0) return false;
      group = (group << 4) | h;
    }
    out.push(group);
    start = end + 1;
  }
  return true;
}

/**
 * Parses IPv6 text (RFC 4291 §2.2): full form, `::` compression and an embedded IPv4 tail.
 * Zone ids (`fe80::1%eth0`) are rejected: they only mean something on the host that wrote them.
 */
export function parseIpv6(text: string): number[] | undefined {
  if (text.length < 2 || text.length > 45) return undefined;
  const gap = text.indexOf('::');
  if (gap !== -1 && text.indexOf('::', gap + 1) !== -1) return undefined;
  const head: number[] = [];
  if (gap === -1) {
    if (!pushGroups(text, true, head) || head.length !== 8) return undefined;
    return head;
  }
  const tail: number[] = [];
  const headText = text.slice(0, gap);
  const tailText = text.slice(gap + 2);
  if (headText !== '' && !pushGroups(headText, false, head)) return undefined;
  if (tailText !== '' && !pushGroups(tailText, true, tail)) return undefined;
  const missing = 8 - head.length - tail.length;
  if (missing < 1) return undefined;
  for (let i = 0; i < missing; i++) head.push(0);
  for (const group of tail) head.push(group);
  return head;
}

/** True for `::ffff:a.b.c.d`, the form a dual-stack socket reports IPv4 peers in. */
function isIpv4Mapped(parts: readonly number[]): boolean {
  return (
    parts[0] === 0 &&
    parts[1] === 0 &&
    parts[2] === 0 &&
    parts[3] === 0 &&
    parts[4] === 0 &&
    parts[5] === 0xffff
  );
}

function unwrapIpv4Mapped(parts: readonly number[]): number[] {
  const high = parts[6] ?? 0;
  const low = parts[7] ?? 0;
  return [high >> 8, high & 0xff, low >> 8, low & 0xff];
}

/**
 * Parses a bare IPv4 or IPv6 address (no brackets, no port). IPv4-mapped IPv6 is unwrapped to
 * IPv4 so `::ffff:10.0.0.1` matches `10.0.0.0/8` and is reported the way Meta expects.
 */
export function parseIp(text: string): IpAddress | undefined {
  if (text.indexOf(':') === -1) {
    const parts = parseIpv4(text);
    return parts === undefined ? undefined : { version: 4, parts };
  }
  const parts = parseIpv6(text);
  if (parts === undefined) return undefined;
  return isIpv4Mapped(parts)
    ? { version: 4, parts: unwrapIpv4Mapped(parts) }
    : { version: 6, parts };
}

function isPort(text: string, from: number): boolean {
  const length = text.length - from;
  if (length < 1 || length > 5) return false;
  let value = 0;
  for (let i = from; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return false;
    value = value * 10 + (c - 0x30);
  }
  return value <= 65535;
}

function isOws(c: number): boolean {
  return c === 0x20 || c === 0x09;
}

/**
 * Parses one address as proxies write it: optional spaces/tabs around it, `1.2.3.4`,
 * `1.2.3.4:5678`, `2001:db8::1`, `[2001:db8::1]` or `[2001:db8::1]:443`. Ports and brackets are
 * dropped. Anything else (hostnames, `unknown`, zone ids, stray characters) is `undefined`.
 */
export function parseAddress(raw: string): IpAddress | undefined {
  let start = 0;
  let end = raw.length;
  while (start < end && isOws(raw.charCodeAt(start))) start++;
  while (end > start && isOws(raw.charCodeAt(end - 1))) end--;
  const text = start === 0 && end === raw.length ? raw : raw.slice(start, end);
  if (text.length === 0) return undefined;
  if (text.charCodeAt(0) === 0x5b /* [ */) {
    const close = text.indexOf(']');
    if (close === -1) return undefined;
    if (
      close !== text.length - 1 &&
      !(text.charCodeAt(close + 1) === COLON && isPort(text, close + 2))
    ) {
      return undefined;
    }
    const inner = text.slice(1, close);
    // Brackets are IPv6 syntax (RFC 3986 §3.2.2); `[1.2.3.4]` is malformed, not IPv4.
    if (inner.indexOf(':') === -1) return undefined;
    return parseIp(inner);
  }
  const colon = text.indexOf(':');
  if (colon === -1) return parseIp(text);
  if (text.indexOf(':', colon + 1) === -1) {
    // Exactly one colon can only be IPv4 with a port; a bare IPv6 address has at least two.
    if (!isPort(text, colon + 1)) return undefined;
    const parts = parseIpv4(text.slice(0, colon));
    return parts === undefined ? undefined : { version: 4, parts };
  }
  return parseIp(text);
}

/** Formats an address canonically: dotted IPv4, or RFC 5952 IPv6 (lowercase, longest zero run as `::`). */
export function formatIp(ip: IpAddress): string {
  const p = ip.parts;
  if (ip.version === 4) return `${p[0]}.${p[1]}.${p[2]}.${p[3]}`;
  let bestStart = -1;
  let bestLength = 1; // RFC 5952 §4.2.2: a single 0 group is never shortened to `::`.
  for (let i = 0; i < 8; ) {
    if (p[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && p[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  let out = '';
  for (let i = 0; i < 8; i++) {
    if (i === bestStart) {
      out += '::';
      i += bestLength - 1;
      continue;
    }
    if (out !== '' && !out.endsWith(':')) out += ':';
    out += (p[i] ?? 0).toString(16);
  }
  return out;
}

function parseNetmask(text: string): number | undefined {
  const parts = parseIpv4(text);
  if (parts === undefined) return undefined;
  const mask =
    (((parts[0] ?? 0) << 24) |
      ((parts[1] ?? 0) << 16) |
      ((parts[2] ?? 0) << 8) |
      (parts[3] ?? 0)) >>>
    0;
  const inverted = ~mask >>> 0;
  // A netmask must be contiguous ones then zeros: its inverse plus one is a power of two.
  if ((inverted & (inverted + 1)) !== 0) return undefined;
  return 32 - Math.log2(inverted + 1);
}

function parsePrefix(text: string, max: number): number | undefined {
  if (text.length < 1 || text.length > 3) return undefined;
  let value = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return undefined;
    value = value * 10 + (c - 0x30);
  }
  return value <= max ? value : undefined;
}

/**
 * Parses `addr`, `addr/prefix` or (IPv4) `addr/netmask`. An IPv4-mapped IPv6 range with a prefix of
 * 96 or more becomes the IPv4 range it covers, since mapped addresses are unwrapped before matching.
 */
export function parseIpRange(text: string): IpRange | undefined {
  const slash = text.indexOf('/');
  const addressText = (slash === -1 ? text : text.slice(0, slash)).trim();
  const prefixText = slash === -1 ? undefined : text.slice(slash + 1).trim();
  if (addressText.indexOf(':') === -1) {
    const parts = parseIpv4(addressText);
    if (parts === undefined) return undefined;
    if (prefixText === undefined) return { version: 4, parts, prefix: 32 };
    const prefix =
      prefixText.indexOf('.') === -1 ? parsePrefix(prefixText, 32) : parseNetmask(prefixText);
    return prefix === undefined ? undefined : { version: 4, parts, prefix };
  }
  const parts = parseIpv6(addressText);
  if (parts === undefined) return undefined;
  const prefix = prefixText === undefined ? 128 : parsePrefix(prefixText, 128);
  if (prefix === undefined) return undefined;
  if (isIpv4Mapped(parts) && prefix >= 96) {
    return { version: 4, parts: unwrapIpv4Mapped(parts), prefix: prefix - 96 };
  }
  return { version: 6, parts, prefix };
}

/** True when `ip` lies inside `range` (never across IP versions). */
export function ipInRange(ip: IpAddress, range: IpRange): boolean {
  if (ip.version !== range.version) return false;
  const bits = ip.version === 4 ? 8 : 16;
  let remaining = range.prefix;
  for (let i = 0; remaining > 0; i++) {
    const a = ip.parts[i] ?? 0;
    const b = range.parts[i] ?? 0;
    if (remaining >= bits) {
      if (a !== b) return false;
      remaining -= bits;
    } else {
      const shift = bits - remaining;
      return a >> shift === b >> shift;
    }
  }
  return true;
}
