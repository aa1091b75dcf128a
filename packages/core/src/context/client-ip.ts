import { forwardedForHops, xForwardedForHops } from './forwarded-header.js';
import { formatIp, type IpAddress, parseAddress } from './ip-address.js';
import type { HeaderReader } from './request-input.js';
import {
  inTrustedRanges,
  isInternalAddress,
  isPeerTrusted,
  type TrustPolicy,
} from './trust-proxy.js';

/**
 * A hosting platform whose edge sets a client-IP header the app can rely on. Opt-in only: the
 * header is believed because you said the app runs behind that platform.
 */
export type PlatformPreset = 'vercel' | 'cloudflare' | 'fly' | 'render' | 'netlify' | 'aws-alb';

/** Which proxy-chain header a trusted proxy writes: the de-facto `X-Forwarded-For` or RFC 7239 `Forwarded`. */
export type ForwardedHeaderName = 'x-forwarded-for' | 'forwarded';

/**
 * Single-address headers per platform, in order. A present but malformed header stops the lookup
 * (fail closed) instead of falling through to the next one.
 */
const PLATFORM_HEADERS: Readonly<Record<Exclude<PlatformPreset, 'aws-alb'>, readonly string[]>> = {
  // https://vercel.com/docs/headers/request-headers#x-vercel-forwarded-for
  // https://vercel.com/docs/headers/request-headers#x-real-ip
  vercel: ['x-vercel-forwarded-for', 'x-real-ip'],
  // https://developers.cloudflare.com/fundamentals/reference/http-headers/#cf-connecting-ip
  cloudflare: ['cf-connecting-ip'],
  // https://fly.io/docs/networking/request-headers/#fly-client-ip
  fly: ['fly-client-ip'],
  // Render documents no header page; its staff name True-Client-IP (set by its Cloudflare edge):
  // https://community.render.com/t/what-number-of-proxies-sit-in-front-of-an-express-app-deployed-on-render/35981/2
  render: ['true-client-ip'],
  // https://answers.netlify.com/t/upcoming-change-stripping-exposed-netlify-headers-from-function-and-proxy-requests/52665
  netlify: ['x-nf-client-connection-ip'],
};

/**
 * A platform whose edge marks every request it forwards with a header of its own, so a request
 * carrying it came through that edge (or a visitor wrote it). Only headers no other proxy sets:
 * `x-real-ip` (nginx) and `true-client-ip` (Akamai too) say nothing about which platform.
 */
export type EdgePlatform = 'cloudflare' | 'vercel' | 'fly' | 'netlify';

/** Each {@link EdgePlatform}'s own header, the first of its {@link PLATFORM_HEADERS}. */
export const EDGE_HEADERS: Readonly<Record<EdgePlatform, string>> = {
  cloudflare: 'cf-connecting-ip',
  vercel: 'x-vercel-forwarded-for',
  fly: 'fly-client-ip',
  netlify: 'x-nf-client-connection-ip',
};

const EDGE_PLATFORMS = Object.keys(EDGE_HEADERS) as readonly EdgePlatform[];

/** The platform whose edge header the request carries, if any. */
function edgeOf(header: HeaderReader): EdgePlatform | undefined {
  for (const platform of EDGE_PLATFORMS) {
    if (header(EDGE_HEADERS[platform]) !== undefined) return platform;
  }
  return undefined;
}

/** Every {@link PlatformPreset}, in the order the docs list them. */
const PLATFORM_PRESETS: readonly PlatformPreset[] = [
  'vercel',
  'cloudflare',
  'fly',
  'render',
  'netlify',
  'aws-alb',
];

/**
 * What is wrong with a `platform` option, or `undefined` when it names a preset or is unset
 * (`undefined`, `null`). The request path reads an unknown name as a platform without a header
 * (fail closed), so every visitor would go without an IP: adapters refuse it when they are created.
 */
export function platformProblem(platform: unknown): string | undefined {
  if (platform === undefined || platform === null) return undefined;
  if (typeof platform === 'string' && (PLATFORM_PRESETS as readonly string[]).includes(platform)) {
    return undefined;
  }
  const known = PLATFORM_PRESETS.map((name) => `'${name}'`).join(', ');
  if (typeof platform !== 'string') return `must be one of ${known}, got ${typeof platform}`;
  const lower = platform.trim().toLowerCase();
  const shown = platform.length > 40 ? `${platform.slice(0, 40)}…` : platform;
  return (PLATFORM_PRESETS as readonly string[]).includes(lower)
    ? `'${shown}' is not a preset; write '${lower}'`
    : `'${shown}' is not a preset; it must be one of ${known}`;
}

/**
 * What is wrong with a `forwardedHeader` option, or `undefined` when it is one of the two names
 * or unset. Header names are looked up as written, in lowercase: `'X-Forwarded-For'` found no
 * header, so behind a trusted proxy every visitor went without an IP, and `'Forwarded'` also let
 * `X-Forwarded-Host`/`-Proto`, which the app's proxies then do not write, set the page URL.
 */
export function forwardedHeaderProblem(name: unknown): string | undefined {
  if (name === undefined || name === null || name === 'x-forwarded-for' || name === 'forwarded') {
    return undefined;
  }
  const expected = "must be 'x-forwarded-for' or 'forwarded'";
  if (typeof name !== 'string') return `${expected}, got ${typeof name}`;
  const lower = name.trim().toLowerCase();
  if (lower === 'x-forwarded-for' || lower === 'forwarded') {
    return `${expected}, in lowercase: write '${lower}'`;
  }
  const shown = name.length > 40 ? `${name.slice(0, 40)}…` : name;
  return `${expected}, got '${shown}' (for a platform's own client-IP header, set platform)`;
}

/** Cloudflare's Pseudo IPv4 range (240.0.0.0/4): a stand-in, the real IPv6 is in `cf-connecting-ipv6`. */
function isCloudflarePseudoIpv4(ip: IpAddress): boolean {
  return ip.version === 4 && (ip.parts[0] ?? 0) >= 240;
}

function platformClientIp(header: HeaderReader, platform: PlatformPreset): string | undefined {
  if (platform === 'aws-alb') {
    // In its default `append` mode the ALB adds the address it accepted the connection from as the
    // right-most entry; everything left of it came from the client. Other modes (`preserve`,
    // `remove`) make this preset wrong.
    // https://docs.aws.amazon.com/elasticloadbalancing/latest/application/x-forwarded-headers.html#x-forwarded-for-append
    const value = header('x-forwarded-for');
    if (value === undefined) return undefined;
    const ip = parseAddress(value.slice(value.lastIndexOf(',') + 1));
    return ip === undefined ? undefined : formatIp(ip);
  }
  // An unknown preset (a typo in a JavaScript app) trusts no header: fail closed, never throw.
  for (const name of PLATFORM_HEADERS[platform] ?? []) {
    const value = header(name);
    if (value === undefined) continue;
    const ip = parseAddress(value);
    if (ip === undefined) return undefined;
    if (platform === 'cloudflare' && isCloudflarePseudoIpv4(ip)) {
      // With Pseudo IPv4 in "overwrite" mode the client's real address is the IPv6 one.
      // https://developers.cloudflare.com/network/pseudo-ipv4/
      const v6 = parseAddress(header('cf-connecting-ipv6') ?? '');
      return v6 === undefined || v6.version !== 6 ? undefined : formatIp(v6);
    }
    return formatIp(ip);
  }
  return undefined;
}

/** What {@link resolveClientIp} needs besides the headers. */
export interface ClientIpSettings {
  readonly policy: TrustPolicy;
  readonly platform: PlatformPreset | undefined;
  readonly forwardedHeader: ForwardedHeaderName;
  /** `isPeerTrusted(policy, socket)`, when the caller has worked it out already. */
  readonly peerTrusted?: boolean | undefined;
  /**
   * Called when the request came through a proxy (it carries the forwarding header) and the
   * address found is internal (loopback, private, link-local): a proxy's, which `trustProxy` does
   * not reach past; or with the platform when an untrusted peer forwarded a request carrying a
   * hosting platform's own client-IP header and `platform` is not set (the address found is the
   * platform edge's). Checked only while set.
   */
  readonly onInternalBehindProxy?: ((edge?: EdgePlatform) => void) | undefined;
}

/**
 * Walks the hops right to left, the way Express's proxy-addr does, but fails closed: a hop that has
 * to be looked at (to decide whether it is trusted, or to be returned) and is not a valid address
 * makes the whole result `undefined`. Hops left of the client are never looked at, since the client
 * can write anything there.
 *
 * With a range list the client is the first hop outside the ranges; when every hop is inside them
 * there is no client address in the chain, so the result is `undefined` (Express would return the
 * left-most proxy, which would send a proxy's address to Meta for every visitor). `true` and hop
 * counts keep Express's answer: the left-most hop within reach.
 */
function walkHops(
  hops: readonly (string | undefined)[],
  socket: IpAddress | undefined,
  policy: TrustPolicy,
): IpAddress | undefined {
  let client = socket;
  for (let index = hops.length - 1, position = 1; index >= 0; index--, position++) {
    if (policy.kind === 'hops' && position > policy.hops) break;
    const raw = hops[index];
    const hop = raw === undefined ? undefined : parseAddress(raw);
    if (hop === undefined) return undefined;
    if (policy.kind === 'ranges' && !inTrustedRanges(policy, hop)) return hop;
    client = hop;
  }
  return policy.kind === 'ranges' ? undefined : client;
}

/**
 * The client's IP address, or `undefined` when it cannot be known safely.
 *
 * - `platform` set: only that platform's header is read; missing or malformed → `undefined`.
 * - otherwise the socket address, unless the socket is a trusted proxy (`trustProxy`); then the
 *   chosen forwarding header is walked right to left past trusted hops (see {@link walkHops}).
 *
 * The result is canonical: IPv4-mapped IPv6 unwrapped, ports and brackets dropped, IPv6 per RFC 5952.
 */
export function resolveClientIp(
  header: HeaderReader,
  socket: IpAddress | undefined,
  settings: ClientIpSettings,
): string | undefined {
  if (settings.platform !== undefined) return platformClientIp(header, settings.platform);
  const { policy } = settings;
  const internal = settings.onInternalBehindProxy;
  if (!(settings.peerTrusted ?? isPeerTrusted(policy, socket))) {
    if (socket === undefined) return undefined;
    if (internal !== undefined) {
      if (isInternalAddress(socket)) {
        if (header(settings.forwardedHeader) !== undefined) internal();
      } else {
        // A public peer is the visitor, unless it is a hosting platform's edge (Cloudflare in front
        // of a VM): then every event carries the edge's address. Its own header says so. A public
        // peer's plain X-Forwarded-For says nothing: corporate proxies add one on the way out.
        const edge = edgeOf(header);
        if (edge !== undefined) internal(edge);
      }
    }
    return formatIp(socket);
  }
  const value = header(settings.forwardedHeader);
  if (value === undefined || value.trim() === '') {
    // No chain: with `true` or a hop count the socket is the furthest address known (Express);
    // a socket inside a range list is a declared proxy, never the visitor.
    return policy.kind === 'ranges' || socket === undefined ? undefined : formatIp(socket);
  }
  const hops =
    settings.forwardedHeader === 'forwarded' ? forwardedForHops(value) : xForwardedForHops(value);
  if (hops === undefined) return undefined;
  const client = walkHops(hops, socket, policy);
  if (client === undefined) return undefined;
  if (internal !== undefined && isInternalAddress(client)) internal();
  return formatIp(client);
}
