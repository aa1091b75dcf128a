// Who may use the `/_mock/*` routes. They reset, script faults and read every recorded event, and
// the mock runs on a developer's machine beside their browser: a web page there can send a form
// post to `http://127.0.0.1:4000/_mock/reset` (cross-site request forgery), or point its own name
// at 127.0.0.1 and then read `/_mock/events` as same-origin (DNS rebinding). Refused: a `Host` that
// is not a loopback name or address, nor the mock's own host, and a state-changing request from a
// page of another origin. Tests, the CLI and scripts send no `Origin` and a loopback `Host`. The
// Host rule guards the Graph reads too (`GET /{version}/me`, a pixel, dataset_quality).

/** `localhost`, `*.localhost` (RFC 6761 keeps them on loopback), 127.0.0.0/8, `[::1]`. */
const isLoopback = (hostname: string): boolean =>
  hostname === 'localhost' ||
  hostname.endsWith('.localhost') ||
  hostname === '[::1]' ||
  /^127(?:\.\d{1,3}){3}$/.test(hostname);

/** An address, not a name: DNS rebinding needs a name the attacker controls. */
const isAddress = (hostname: string): boolean =>
  hostname.startsWith('[') || /^\d{1,3}(?:\.\d{1,3}){3}$/.test(hostname);

/** A `Host` header as the WHATWG URL parser normalizes it; undefined when it is not a bare host. */
const parseHost = (host: string): URL | undefined => {
  if (/[/?#@\\]/.test(host)) return undefined;
  try {
    return new URL(`http://${host}`);
  } catch {
    return undefined;
  }
};

/** The interface the mock listens on, written as a `Host` header writes it (IPv6 in brackets). */
const configuredHostname = (listenHost: string): string | undefined =>
  parseHost(listenHost.includes(':') ? `[${listenHost}]` : listenHost)?.hostname;

const WILDCARDS: ReadonlySet<string> = new Set(['0.0.0.0', '::', '[::]']);

const SAFE_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS']);

/** What a `/_mock/*` request carries that the guard reads. */
export interface ControlRequest {
  method: string;
  /** The `Host` header, absent in an HTTP/1.0 request (no browser sends one without it). */
  host: string | undefined;
  /** The `Origin` header; browsers send it on every cross-origin and every non-GET request. */
  origin: string | undefined;
}

/**
 * Why a request naming `host` (its `Host` header) is refused, or undefined: DNS rebinding needs a
 * name the attacker controls, so only loopback names and addresses, the mock's `host` option, and
 * any address (not a name) when the mock listens on every interface (`0.0.0.0`, `::`) are taken.
 * An absent `Host` (HTTP/1.0, never a browser) is taken.
 */
export const hostRefusal = (host: string | undefined, listenHost: string): string | undefined => {
  if (host === undefined) return undefined;
  const hostname = parseHost(host)?.hostname;
  const allowed =
    hostname !== undefined &&
    (isLoopback(hostname) ||
      hostname === configuredHostname(listenHost) ||
      (WILDCARDS.has(listenHost) && isAddress(hostname)));
  return allowed
    ? undefined
    : 'the Host header must be a loopback name or address, or the mock’s host option (DNS rebinding guard)';
};

/**
 * Why a `/_mock/*` request is refused, or undefined when it may go on: a foreign `Host`
 * ({@link hostRefusal}), or a state-changing request from a page of another origin.
 */
export const controlRefusal = (request: ControlRequest, listenHost: string): string | undefined => {
  const refused = hostRefusal(request.host, listenHost);
  if (refused !== undefined) return refused;
  const host = request.host === undefined ? undefined : parseHost(request.host);
  if (request.origin !== undefined && !SAFE_METHODS.has(request.method)) {
    let origin: URL | undefined;
    try {
      origin = new URL(request.origin); // 'null' (a sandboxed page, a file) does not parse
    } catch {
      origin = undefined;
    }
    if (origin?.protocol !== 'http:' || host === undefined || origin.host !== host.host) {
      return 'the Origin header must be the mock’s own origin for a request that changes its state (cross-site request guard)';
    }
  }
  return undefined;
};
