import type { EdgePlatform, ForwardedHeaderName } from './client-ip.js';
import { type IpAddress, type IpRange, ipInRange, parseIpRange } from './ip-address.js';

/** A named set of address ranges usable in {@link TrustProxy}, as in Express's `trust proxy`. */
export type TrustProxyPreset = 'loopback' | 'linklocal' | 'private' | 'uniquelocal';

/**
 * Which peers may be believed about the client address, like Express's `trust proxy` setting:
 * `false` (default) trusts no one, `true` trusts every hop, a number trusts that many hops counted
 * from the socket, and a list (or comma-separated string) of IPs, CIDRs and presets trusts those
 * addresses only.
 * @example trustProxy: ['loopback', '10.0.0.0/8', '2001:db8::/32']
 */
export type TrustProxy = boolean | number | string | readonly string[];

/** The compiled form of {@link TrustProxy}. */
export type TrustPolicy =
  | { readonly kind: 'none' }
  | { readonly kind: 'all' }
  | { readonly kind: 'hops'; readonly hops: number }
  | { readonly kind: 'ranges'; readonly ranges: readonly IpRange[] };

const NONE: TrustPolicy = { kind: 'none' };
const ALL: TrustPolicy = { kind: 'all' };

// The same ranges as Express's proxy-addr presets, so `trustProxy` values carry over unchanged.
const PRIVATE = ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7'];
const PRESETS: Readonly<Record<TrustProxyPreset, readonly string[]>> = {
  loopback: ['127.0.0.0/8', '::1/128'],
  linklocal: ['169.254.0.0/16', 'fe80::/10'],
  private: PRIVATE,
  uniquelocal: PRIVATE,
};

function isPreset(name: string): name is TrustProxyPreset {
  return Object.hasOwn(PRESETS, name);
}

function addEntry(entry: string, ranges: IpRange[]): void {
  for (const piece of entry.split(',')) {
    const name = piece.trim();
    if (name === '') continue;
    if (isPreset(name)) {
      for (const cidr of PRESETS[name]) {
        const range = parseIpRange(cidr);
        if (range !== undefined) ranges.push(range);
      }
      continue;
    }
    // An entry that does not parse is dropped: trusting fewer peers can only make the result
    // less precise (the proxy's own address), never let a spoofed header through.
    const range = parseIpRange(name);
    if (range !== undefined) ranges.push(range);
  }
}

function compileList(entries: readonly string[]): TrustPolicy {
  const ranges: IpRange[] = [];
  for (const entry of entries) if (typeof entry === 'string') addEntry(entry, ranges);
  return ranges.length === 0 ? NONE : { kind: 'ranges', ranges };
}

// Options objects are usually built once at startup, so the compiled policy is cached by the value
// the user passed: arrays by identity (weakly), strings by content (bounded, as they are few).
const compiledLists = new WeakMap<readonly string[], TrustPolicy>();
const compiledStrings = new Map<string, TrustPolicy>();
const MAX_CACHED_STRINGS = 64;

/**
 * Compiles a {@link TrustProxy} value. Invalid values trust no one (fail closed): a negative or
 * fractional hop count, a list with no valid entry. Lists are read once per array identity, so
 * changing an array after first use has no effect: pass a new array instead.
 */
export function compileTrustProxy(trust: TrustProxy | undefined): TrustPolicy {
  if (trust === undefined || trust === false) return NONE;
  if (trust === true) return ALL;
  if (typeof trust === 'number') {
    return Number.isSafeInteger(trust) && trust > 0 ? { kind: 'hops', hops: trust } : NONE;
  }
  if (typeof trust === 'string') {
    let policy = compiledStrings.get(trust);
    if (policy === undefined) {
      policy = compileList([trust]);
      if (compiledStrings.size >= MAX_CACHED_STRINGS) compiledStrings.clear();
      compiledStrings.set(trust, policy);
    }
    return policy;
  }
  if (!Array.isArray(trust)) return NONE;
  let policy = compiledLists.get(trust);
  if (policy === undefined) {
    policy = compileList(trust);
    compiledLists.set(trust, policy);
  }
  return policy;
}

/** Why one piece of a `trustProxy` list names no address, or `undefined` when it does. */
function pieceProblem(piece: string): string | undefined {
  if (piece === '' || isPreset(piece) || parseIpRange(piece) !== undefined) return undefined;
  // Strings an environment variable hands over for what was meant as a boolean or a hop count.
  if (piece === 'true' || piece === 'false') {
    return `the string '${piece}' is not an address; pass the boolean ${piece}`;
  }
  if (/^[0-9]+$/.test(piece)) {
    return `the string '${piece}' is not an address; pass the hop count as a number (Number(process.env.…))`;
  }
  const shown = piece.length > 60 ? `${piece.slice(0, 60)}…` : piece;
  return `'${shown}' is not an IP address, a CIDR range or a preset (${Object.keys(PRESETS).join(', ')})`;
}

/**
 * Why a {@link TrustProxy} value would not trust what it names, or `undefined` when every part of
 * it is understood. {@link compileTrustProxy} fails closed on such values (it trusts fewer peers,
 * so every visitor gets the proxy's address); adapters call this at creation so the mistake is
 * told, as Express refuses a `trust proxy` entry it cannot parse.
 */
export function trustProxyProblem(trust: unknown): string | undefined {
  try {
    return problemOf(trust);
  } catch {
    // A list whose reads throw (a Proxy) is judged where it is read, per request: that failure
    // is reported there with the request context's ('request context').
    return undefined;
  }
}

function problemOf(trust: unknown): string | undefined {
  if (trust === undefined || typeof trust === 'boolean') return undefined;
  if (typeof trust === 'number') {
    return Number.isSafeInteger(trust) && trust >= 0
      ? undefined
      : `a hop count must be a whole number of 0 or more, got ${trust}`;
  }
  const entries: readonly unknown[] | undefined =
    typeof trust === 'string' ? [trust] : Array.isArray(trust) ? trust : undefined;
  if (entries === undefined) {
    return `expected true, false, a hop count or a list of IP addresses, CIDR ranges and presets, got ${trust === null ? 'null' : typeof trust}`;
  }
  for (const entry of entries) {
    if (typeof entry !== 'string') {
      return `a list entry must be a string, got ${entry === null ? 'null' : typeof entry}`;
    }
    for (const piece of entry.split(',')) {
      const problem = pieceProblem(piece.trim());
      if (problem !== undefined) return problem;
    }
  }
  return undefined;
}

/** True when `address` is one of the trusted ranges (only meaningful for a `ranges` policy). */
export function inTrustedRanges(policy: TrustPolicy, address: IpAddress): boolean {
  if (policy.kind !== 'ranges') return false;
  for (const range of policy.ranges) if (ipInRange(address, range)) return true;
  return false;
}

/** Loopback, private and link-local ranges: where proxies live and visitors do not. */
const INTERNAL = compileList(['loopback', 'private', 'linklocal']);

/** Whether `address` is loopback, private or link-local: a proxy's address, never a visitor's. */
export function isInternalAddress(address: IpAddress): boolean {
  return inTrustedRanges(INTERNAL, address);
}

/**
 * Whether the direct peer is a trusted proxy, the precondition for reading any forwarding header
 * (`X-Forwarded-*`, `Forwarded`). A hop count trusts the socket by position, as Express does; a
 * range list needs the socket address itself.
 */
export function isPeerTrusted(policy: TrustPolicy, socket: IpAddress | undefined): boolean {
  switch (policy.kind) {
    case 'none':
      return false;
    case 'all':
    case 'hops':
      return true;
    case 'ranges':
      return socket !== undefined && inTrustedRanges(policy, socket);
  }
}

/**
 * Why a proxied request's client IP could not be the visitor's: the address found is internal
 * (`undefined`, a proxy's), the request came over a Unix socket (`'unix-socket'`), which has no
 * address a list of ranges can match, so the proxy's header was never read, or it came from a
 * hosting platform's edge (`'cloudflare'`, …: its own client-IP header is there) that neither
 * `platform` nor `trustProxy` names, so the address found is the edge's.
 */
export type ProxyNotTrustedCause = 'unix-socket' | EdgePlatform | undefined;

/**
 * The `onInternalBehindProxy` callback adapters and the relay pass to `getRequestContextOrEmpty`,
 * one-shot: call the returned function per request for the callback, `undefined` once it has
 * fired, so a warned client's contexts skip the check. `client` is the `CapiClient`, guarded
 * because a hand-made client object may not have `reportProxyNotTrusted`. `note` is the adapter's
 * addition in its framework's terms (see `CapiAdapterWording`).
 */
export function proxyWarningOnce(
  client: {
    reportProxyNotTrusted?:
      | ((header: string, cause?: ProxyNotTrustedCause, note?: string) => void)
      | undefined;
  },
  forwardedHeader: ForwardedHeaderName | undefined,
  note?: string,
): () => ((cause?: ProxyNotTrustedCause) => void) | undefined {
  const header = forwardedHeader === 'forwarded' ? 'Forwarded' : 'X-Forwarded-For';
  let report: ((cause?: ProxyNotTrustedCause) => void) | undefined = (cause) => {
    report = undefined;
    if (typeof client.reportProxyNotTrusted === 'function') {
      client.reportProxyNotTrusted(header, cause, note);
    }
  };
  return () => report;
}
