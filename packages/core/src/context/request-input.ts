import { forwardedOrigin } from './forwarded-header.js';
import { parseIpv4, parseIpv6 } from './ip-address.js';
import { type PageUrl, plainPageUrl } from './plain-url.js';

/** Node-style headers (`IncomingMessage.headers`): lowercase names, repeated headers as arrays. */
export type NodeHeaders = Readonly<Record<string, string | readonly string[] | undefined>>;

/**
 * The parts of a Node.js `IncomingMessage` the context needs, so Express, Fastify, Koa or plain
 * `node:http` adapters can pass them without the core importing Node types.
 * @example getRequestContext({ method: req.method, url: req.url, headers: req.headers, remoteAddress: req.socket.remoteAddress })
 */
export interface NodeRequestLike {
  /** HTTP method; `GET` when absent. */
  method?: string | undefined;
  /** Request target: a path like `/x?y=1` (the host then comes from the `Host` header) or an absolute URL. */
  url?: string | undefined;
  /** `req.headers` of Node, or a Web `Headers`. */
  headers: NodeHeaders | Headers;
  /** The socket's peer address (`req.socket.remoteAddress`). */
  remoteAddress?: string | undefined;
  /**
   * Scheme of the connection when `url` is a path: `'https'` for a TLS socket
   * (`req.socket.encrypted`). Defaults to `'http'`; a trusted proxy's `X-Forwarded-Proto` overrides it.
   */
  protocol?: 'http' | 'https' | undefined;
}

/** The parts of a Node.js `IncomingMessage` that {@link fromIncomingMessage} reads. */
export interface IncomingMessageLike {
  /** `req.method`. */
  method?: string | undefined;
  /** `req.url` (a path) — pass `req.originalUrl` in Express sub-apps. */
  url?: string | undefined;
  /** `req.headers`. */
  headers: NodeHeaders;
  /** `req.socket`: its peer address and whether it is TLS. */
  socket?: { remoteAddress?: string | undefined; encrypted?: boolean } | null | undefined;
}

/**
 * A Node `IncomingMessage` (Express, Fastify's `request.raw`, Koa's `ctx.req`, `node:http`) as the
 * core's request shape, scheme included, so every Node adapter translates requests the same way.
 * @example getRequestContext(fromIncomingMessage(req), { trustProxy: 'loopback' })
 */
export function fromIncomingMessage(req: IncomingMessageLike, url = req.url): NodeRequestLike {
  return {
    method: req.method,
    url,
    headers: req.headers,
    remoteAddress: req.socket?.remoteAddress,
    protocol: req.socket?.encrypted === true ? 'https' : 'http',
    [NODE_HEADERS]: true,
  } as NodeRequestLike;
}

/**
 * Marks a request shape made by {@link fromIncomingMessage}: Node's `req.headers`, whose names
 * Node has already lowercased, so {@link headerReader} skips looking for uppercase names (a walk
 * over every header of every request, twice for a page view).
 */
const NODE_HEADERS = Symbol('capi-kit.nodeHeaders');

/** Whether `input` came from {@link fromIncomingMessage}: a Node request, with a socket. */
export function isFromIncomingMessage(input: Request | NodeRequestLike): boolean {
  return (input as { [NODE_HEADERS]?: boolean })[NODE_HEADERS] === true;
}

/** The header reader of a request: Node's, or a Web `Headers`, or a hand-built record. */
export function requestHeaderReader(input: Request | NodeRequestLike): HeaderReader {
  return headerReader(input.headers, isFromIncomingMessage(input));
}

/** Reads one request header by lowercase name; `undefined` when absent. */
export type HeaderReader = (name: string) => string | undefined;

function hasUppercase(name: string): boolean {
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c >= 0x41 && c <= 0x5a) return true;
  }
  return false;
}

function joinValue(
  name: string,
  value: string | readonly string[] | undefined,
): string | undefined {
  if (value === undefined || typeof value === 'string') return value;
  if (value.length === 0) return undefined;
  // Node joins repeated headers the same way (`cookie` with `; `, the rest with `, `).
  return value.join(name === 'cookie' ? '; ' : ', ');
}

/**
 * One reader over Web `Headers` or a Node record. Node lowercases header names; a hand-built
 * record may not, so it is lowercased once (only when needed) instead of on every lookup, unless
 * `lowercase` says its names are lowercase already.
 */
export function headerReader(headers: NodeHeaders | Headers, lowercase = false): HeaderReader {
  if (typeof (headers as Headers).get === 'function') {
    const web = headers as Headers;
    // Web `Headers` throws a TypeError on names that are not valid tokens, like HTTP/2's
    // `:authority`; such a header can't be in it, so it is simply absent.
    return (name) => (name.charCodeAt(0) === 0x3a ? undefined : (web.get(name) ?? undefined));
  }
  const source = lowercase ? (headers as NodeHeaders) : lowercased(headers as NodeHeaders);
  return (name) => (Object.hasOwn(source, name) ? joinValue(name, source[name]) : undefined);
}

/** `record`, or a copy with lowercase names when it has an uppercase one (first value wins). */
function lowercased(record: NodeHeaders): NodeHeaders {
  for (const key in record) {
    if (hasUppercase(key)) {
      const lowered: Record<string, string | readonly string[] | undefined> = {};
      for (const [k, v] of Object.entries(record)) {
        const lower = k.toLowerCase();
        if (lowered[lower] === undefined) lowered[lower] = v;
      }
      return lowered;
    }
  }
  return record;
}

// Host names as browsers send them (LDH labels; `_` tolerated as some internal hosts use it), an
// IPv4 literal, or a bracketed IPv6 literal, then an optional port. Everything else is refused, so
// no `;`, `,`, spaces or control characters can come from a Host header into a cookie or a URL.
const HOST_PATTERN =
  /^(?:\[([0-9A-Fa-f:.]{2,45})\]|[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,62})(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,62}))*\.?)(?::([0-9]{1,5}))?$/;

// Hosts that passed: a site's own host (and its visitors' usual referrers) come back on every
// request, and the pattern below is among the dearest steps of a page view's context. Bounded.
const validHosts = new Set<string>();
const MAX_VALID_HOSTS = 256;

/** True for a syntactically safe `host[:port]` (RFC 9110 §7.2 Host). */
export function isValidHost(host: string): boolean {
  if (validHosts.has(host)) return true;
  if (host.length === 0 || host.length > 261) return false;
  const match = HOST_PATTERN.exec(host);
  if (match === null) return false;
  if (match[1] !== undefined && parseIpv6(match[1]) === undefined) return false;
  if (match[2] !== undefined && Number(match[2]) > 65535) return false;
  if (validHosts.size >= MAX_VALID_HOSTS) validHosts.clear();
  validHosts.add(host);
  return true;
}

/** What kind of host name a URL has, which decides the cookie domain and same-site comparison. */
export type HostKind = 'ip' | 'name';

/** Classifies a `URL.hostname` (already lowercased and punycoded by the URL parser). */
export function hostKind(hostname: string): HostKind {
  return hostname.startsWith('[') || parseIpv4(hostname) !== undefined ? 'ip' : 'name';
}

function firstListValue(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const comma = value.indexOf(',');
  const first = (comma === -1 ? value : value.slice(0, comma)).trim();
  return first === '' ? undefined : first;
}

function tryUrl(text: string): URL | undefined {
  try {
    return new URL(text);
  } catch {
    return undefined;
  }
}

/**
 * The URL as the browser sees it; `undefined` when the host is missing or unsafe. Behind a trusted
 * proxy the scheme and host come from `X-Forwarded-Proto`/`-Host`, or with `forwarded` (the app's
 * proxies write RFC 7239 `Forwarded`, `forwardedHeader: 'forwarded'`) from that header's `proto=`
 * and `host=` alone: the header the proxies do not write is the client's own.
 */
export function effectiveUrl(
  rawUrl: string | undefined,
  header: HeaderReader,
  protocol: 'http' | 'https' | undefined,
  proxyTrusted: boolean,
  forwarded = false,
): PageUrl | undefined {
  const target = rawUrl === undefined || rawUrl === '' ? '/' : rawUrl;
  let scheme: string;
  let host: string | undefined;
  let path: string;
  let parsed: URL | undefined;
  if (target.startsWith('/')) {
    scheme = protocol ?? 'http';
    // HTTP/2 carries the host as `:authority`; Node's compatibility API exposes it under that name.
    host = header('host') ?? header(':authority');
    path = target;
  } else {
    parsed = tryUrl(target);
    if (parsed === undefined || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')) {
      return undefined;
    }
    scheme = parsed.protocol.slice(0, -1);
    host = parsed.host;
    path = `${parsed.pathname}${parsed.search}`;
  }
  if (proxyTrusted) {
    // Express semantics (`req.protocol`, `req.host`): the first value, set by the outermost proxy.
    let forwardedProto: string | undefined;
    let forwardedHost: string | undefined;
    if (forwarded) {
      const value = header('forwarded');
      const origin = value === undefined ? undefined : forwardedOrigin(value);
      forwardedProto = origin?.proto?.toLowerCase();
      forwardedHost = origin?.host;
    } else {
      forwardedProto = firstListValue(header('x-forwarded-proto'))?.toLowerCase();
      forwardedHost = firstListValue(header('x-forwarded-host'));
    }
    if (forwardedProto === 'http' || forwardedProto === 'https') scheme = forwardedProto;
    if (forwardedHost !== undefined && isValidHost(forwardedHost)) host = forwardedHost;
  }
  if (host === undefined || !isValidHost(host)) return undefined;
  // Most are already in the parser's form, proved by a scan of the parts.
  if (parsed === undefined && (scheme === 'https' || scheme === 'http')) {
    const plain = plainPageUrl(scheme === 'https', host, path);
    if (plain !== undefined) return plain;
  }
  // Concatenated rather than resolved against a base: a target like `//evil.example/x` must stay
  // a path on this host, not become a scheme-relative URL.
  const text = `${scheme}://${host}${path}`;
  const url =
    parsed !== undefined && parsed.host === host && parsed.protocol === `${scheme}:`
      ? parsed
      : tryUrl(text);
  // The parser may rewrite the host (percent-decoding, IDNA): check what it made of it, unless it
  // kept the host already checked above.
  if (url === undefined || (url.host !== host && !isValidHost(url.host))) return undefined;
  // Browsers never send the fragment; drop one a caller's absolute URL may carry.
  if (url.hash !== '') url.hash = '';
  return url;
}
