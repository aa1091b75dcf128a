import type { NodeRequestLike, RequestContext, RequestContextOptions } from '../context/index.js';
import type { CapiClient } from '../delivery/client.js';
import type { UserDataInput } from '../user-data/types.js';
import type { MemoryRateLimiterOptions, RelayRateLimiter } from './rate-limit.js';
import type { BodySource } from './read-body.js';

/** The signed-in user's customer information for a relayed event, or `undefined` when anonymous. */
export type RelayIdentify<R> = (
  request: R,
) => UserDataInput | undefined | Promise<UserDataInput | undefined>;

/** The relay's rules, shared by every adapter's `relay` option. All optional, safe defaults. */
export interface RelayOptions<R = Request | NodeRequestLike> {
  /** Pixel IDs the relay accepts in `pixel_id`; default every pixel the client delivers to. */
  pixelIds?: readonly string[] | undefined;
  /**
   * Event names forwarded; others are dropped and counted. Default the standard events and
   * `PageView` ({@link STANDARD_EVENTS}); list custom ones explicitly.
   * @example allowEvents: [...STANDARD_EVENTS, 'WatchedDemo']
   */
  allowEvents?: readonly string[] | ((eventName: string) => boolean) | undefined;
  /** `custom_data` keys forwarded (replaces the default {@link DEFAULT_RELAY_CUSTOM_DATA_KEYS}); other keys are dropped. */
  allowCustomData?: readonly string[] | undefined;
  /**
   * Forward customer information (`em`, `ph`…) a page puts in `user_data`. Default `false`:
   * ignored. At most 10 values a key are taken; the rest are dropped and counted
   * (`stats().userDataValuesDropped`).
   */
  allowUserData?: boolean | undefined;
  /**
   * The signed-in user behind the request (`em`, `external_id`…, raw: the core hashes them). It
   * gets the framework's own request; a promise is awaited, so the answer waits for it (never for
   * Meta). If it throws, the error goes to the client's `error` hook and events go without it.
   * @example identify: (req) => req.user && { em: req.user.email, external_id: req.user.id }
   */
  identify?: RelayIdentify<R> | undefined;
  /**
   * Milliseconds the relay waits for a promise from `identify`; past it the events go without the
   * user, and the client's `error` hook hears of it (source `relay identify`). Default 2000. A
   * session lookup that hangs (a store down) otherwise held every beacon's request open and its
   * events untracked until the server's own timeout.
   */
  identifyTimeoutMs?: number | undefined;
  /**
   * Body cap in bytes; larger bodies get `413` and nothing is tracked. Default 64 KiB. It holds
   * whatever ran first: a body the relay reads is counted as it arrives and reading stops at the
   * cap; one the app's JSON parser already read (chunked or not) is measured as its value
   * re-serialized as JSON, in UTF-8 bytes; and every body must also fit re-serialized. See
   * "How the body is measured" in `@capi-kit/browser`'s README. `@capi-kit/browser` fills its
   * requests up to the defaults (64 KiB, 20 events): below them, its fuller requests are refused
   * whole.
   */
  maxBodyBytes?: number | undefined;
  /**
   * Events per request; a request with more gets `413` and nothing is tracked. Default 20, the
   * most `@capi-kit/browser` puts in one request: a lower cap refuses its fuller requests whole.
   */
  maxEvents?: number | undefined;
  /**
   * Milliseconds for a body the relay reads itself to arrive whole, from when reading starts;
   * a body not whole by then gets `408` (`refused.body_timeout`) and nothing is tracked. Default
   * 10 000. Without it a client that sends half a body and stalls holds the request until the
   * server's own timeout (Node's `requestTimeout`: 300 s). A body the app's parser read first
   * (`express.json()`, Nest's parser on Express) is read under the server's own timeout.
   */
  bodyTimeoutMs?: number | undefined;
  /**
   * Per-client-IP token bucket in events (IPv6 keyed by /64; requests with no known client IP
   * share one bucket): `429` with `Retry-After` when empty. Settings for the in-memory limiter
   * (default 60 events a minute, burst 60), your own {@link RelayRateLimiter}, or `false`. A
   * limiter that throws, rejects (its store down) or has not answered within 2 s is reported
   * through the client's `error` hook (source `relay rateLimit`) and the request goes on unlimited.
   */
  rateLimit?: MemoryRateLimiterOptions | RelayRateLimiter | false | undefined;
  /** How far (seconds) a browser's `event_time` may lag the server clock before server time is used; default 300. */
  maxClockSkewSeconds?: number | undefined;
  /** Clock in epoch milliseconds (tests); default `Date.now`. */
  now?: (() => number) | undefined;
}

/** Options of {@link createRelay}: the rules, the client to track through, and the context options. */
export interface CreateRelayOptions<R = Request | NodeRequestLike> extends RelayOptions<R> {
  /** The delivery client; relayed events go through its normal queue and retries. */
  client: CapiClient;
  /** The same request-context options as the app's adapter (`trustProxy`, `consent`…). */
  requestContext?: RequestContextOptions | undefined;
}

/** One relay request as an adapter hands it over. */
export interface RelayInput<R = Request | NodeRequestLike> {
  /** The request: a Web `Request` or the Node shape (`fromIncomingMessage(req)`). */
  request: Request | NodeRequestLike;
  /**
   * The raw body (text or bytes), or a stream the relay reads itself, capped at `maxBodyBytes`
   * and only once the request passed the method, origin and content-type checks.
   */
  body?: string | Uint8Array | BodySource | null | undefined;
  /**
   * The body as a framework's JSON parser left it (`express.json()` ran first); used when `body` is
   * absent, and measured against `maxBodyBytes` as its JSON re-serialization.
   */
  parsedBody?: unknown;
  /** The adapter stopped reading the body at the cap. */
  bodyTooLarge?: boolean | undefined;
  /** The request context when the adapter already computed it (and wrote its cookies). */
  context?: RequestContext | undefined;
  /** What `identify` receives: the framework's request (Express `req`…); default `request`. */
  appRequest?: R | undefined;
  /** The socket's peer address when `request` carries none (a Web `Request` on Bun, Deno…). */
  remoteAddress?: string | undefined;
  /** Request-scoped keep-alive (serverless) for the flush the relayed events trigger. */
  waitUntil?: ((promise: Promise<unknown>) => void) | undefined;
}

/** What to answer: adapters copy it to their response as is. */
export interface RelayResponse {
  /** `204` accepted; `400`, `403`, `405`, `408`, `413`, `415`, `429` refused (for logs: the browser never reads it). */
  status: number;
  /** Response headers (`Retry-After`, `Allow`, `Cache-Control`, `Content-Type`). */
  headers: Record<string, string>;
  /** A small JSON body naming the refusal, e.g. `{"error":"cross_site"}`; none for `204`. */
  body?: string;
  /**
   * `Set-Cookie` values to add: the context's when the relay computed it itself (a minted `_fbp`),
   * and the cookie of a click ID only the events' page carried, not yet held by that cookie
   * (`_fbc` for `?fbclid=`, a destination's own for its click, TikTok's `ttclid`).
   */
  cookies: string[];
}

/** Why a whole relay request was refused. */
export type RelayRefusal =
  | 'method_not_allowed'
  | 'cross_site'
  | 'unknown_origin'
  | 'unsupported_media_type'
  | 'body_too_large'
  | 'too_many_events'
  | 'rate_limited'
  | 'invalid_payload'
  | 'body_timeout'
  | 'unsupported_version'
  | 'unknown_pixel';

/** Why one event of an accepted request was not tracked. */
export type RelayEventDropReason = 'malformed' | 'not_allowed' | 'not_accepted' | 'error';

/** Counters of one relay since it was created. */
export interface RelayStats {
  /** Requests handled. */
  requests: number;
  /** Requests answered `204`. */
  accepted: number;
  /** Requests refused, by reason. */
  refused: Record<RelayRefusal, number>;
  /**
   * Requests that failed as a whole (reported through the client's `error` hook, source `relay`):
   * answered `204`, nothing tracked, their events never read. `requests` is `accepted` + the
   * refusals + this.
   */
  failed: number;
  /** Events in accepted requests. */
  events: {
    /** Events received in accepted requests. */
    received: number;
    /** Events handed to `track()` and accepted by it. */
    tracked: number;
    /** Events not tracked, by reason (`not_accepted`: `track()` refused it; see the client's stats). */
    dropped: Record<RelayEventDropReason, number>;
    /** Events whose browser time was replaced by server time. */
    timeCorrected: number;
  };
  /** `custom_data` keys dropped because they are not allowed. */
  customDataKeysDropped: number;
  /** Events whose `user_data` from the page was ignored (`allowUserData` off). */
  userDataIgnored: number;
  /**
   * Values of the page's `user_data` dropped unread (`allowUserData` on): beyond the first 10 of
   * a key, which are kept and the event tracked with them.
   */
  userDataValuesDropped: number;
}

/** The server side of the first-party relay (protocol v1): one per app, shared by all requests. */
export interface Relay<R = Request | NodeRequestLike> {
  /** Checks, enriches and tracks one relay request; resolves with the answer. Never rejects. */
  handle(input: RelayInput<R>): Promise<RelayResponse>;
  /**
   * `handle` for Web runtimes (Next route handlers, Hono, Bun, Workers): reads the body itself and
   * returns a `Response`, with the answer's cookies (a minted `_fbp`, a page's `_fbc`).
   * @example export const POST = (request: Request) => relay.handleRequest(request)
   */
  handleRequest(
    request: Request,
    options?: Pick<RelayInput<R>, 'remoteAddress' | 'appRequest' | 'waitUntil'>,
  ): Promise<Response>;
  /** Counters since creation. */
  stats(): RelayStats;
  /** The body cap, for adapters that read the body themselves. */
  readonly maxBodyBytes: number;
}
