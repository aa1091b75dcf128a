import type { RequestContext } from '../context/index.js';
import type { DiagnosticsOptions, DiagnosticsWarning, EventSource } from '../diagnostics/types.js';
import type { Issue } from '../event/issues.js';
import type { DateOrder } from '../user-data/types.js';
import type { GraphErrorInfo, ResponseClass } from './classify.js';
import type { Destination } from './destination.js';
import type { Outbox, OutboxRecord } from './outbox/types.js';

/** Time source and timers; inject a fake one in tests to simulate minutes of backoff in milliseconds. */
export interface Clock {
  /** Epoch milliseconds (the wall clock): `event_time` and Meta's upload window. */
  now(): number;
  /**
   * Milliseconds from any origin that never steps back or jumps (`performance.now()`): backoff,
   * pauses and deadlines are scheduled on it. Optional; without it `now()` is used for those too.
   */
  monotonic?(): number;
  /** Runs `fn` after `ms`; the returned handle goes to `clearTimeout`. */
  setTimeout(fn: () => void, ms: number): unknown;
  /** Cancels a pending `setTimeout`. */
  clearTimeout(handle: unknown): void;
  /**
   * Makes a timer keep the process alive (Node's `timer.ref()`). Optional; `close()` uses it for its
   * deadline so a process whose only work left is the drain does not exit before it ends.
   */
  ref?(handle: unknown): void;
}

/** A pino-compatible logger (`logger.warn({ pixelId, count }, 'message')`); `consoleLogger` by default. */
export interface Logger {
  /** Detailed flow (batches, bisection steps). */
  debug(obj: Record<string, unknown>, msg: string): void;
  /** Notable but normal events (circuit closed, resume). */
  info(obj: Record<string, unknown>, msg: string): void;
  /** Retries, drops, dead letters. */
  warn(obj: Record<string, unknown>, msg: string): void;
  /** Auth failures (circuit open) and internal errors. */
  error(obj: Record<string, unknown>, msg: string): void;
}

/** The `fetch` signature the transport needs; inject to test or to use another HTTP client. */
export type FetchLike = (url: string, init: RequestInit) => Promise<Response>;

/** One destination pixel (dataset) and the token allowed to write to it. */
export interface PixelConfig {
  /** Pixel / dataset id. */
  pixelId: string;
  /** System-user access token with permission on this pixel. */
  accessToken: string;
  /** Overrides the client-level `testEventCode` for this pixel. */
  testEventCode?: string;
}

/** Retry and backoff settings; see src/delivery/README.md for the full table. */
export interface RetryOptions {
  /** First backoff ceiling (full jitter draws in [0, ceiling)); default 1000 ms. */
  baseDelayMs?: number;
  /** Backoff ceiling cap; default 60 000 ms. */
  maxDelayMs?: number;
  /** Failed attempts after which an event is dead-lettered (reason `max_attempts`); default 10. */
  maxAttempts?: number;
  /** Longest server-requested wait honoured (`Retry-After`, Meta's regain-access estimate); default 300 000 ms. */
  maxRetryAfterMs?: number;
  /** First throttle pause when Meta gives no wait hint, doubled per consecutive throttle; default 5000 ms. */
  throttleBaseDelayMs?: number;
  /** Consecutive throttles that do not spend an attempt; beyond this they count. Default 20. */
  freeThrottles?: number;
  /** After an auth error the pixel's circuit stays open this long before one probe batch; default 600 000 ms. */
  authProbeIntervalMs?: number;
}

/** Why an event was not (or will not be) delivered. */
export type DropReason =
  | 'consent'
  | 'closed'
  | 'invalid'
  | 'too_large'
  | 'overflow'
  | 'expired'
  | 'shutdown'
  | 'error';

/** Why Meta will never accept an event. */
export type DeadLetterReason = 'rejected' | 'max_attempts';

/** Reasons handed to `onUndeliverable` (losses after the event was accepted). */
export type UndeliverableReason =
  | Extract<DropReason, 'overflow' | 'expired' | 'shutdown'>
  | DeadLetterReason;

/** Options of {@link createCapi}. Unset credentials fall back to `META_*` environment variables. */
export interface CapiOptions {
  /** Pixel id (env `META_PIXEL_ID`). */
  pixelId?: string | undefined;
  /** Access token (env `META_ACCESS_TOKEN`); sent in the POST body, never in the URL. */
  accessToken?: string | undefined;
  /** Several destinations: each event is fanned out to every pixel. */
  pixels?: readonly PixelConfig[] | undefined;
  /**
   * Ad platforms beside Meta, each from its package (`tiktok({ pixelCode, accessToken })` from
   * `@capi-kit/tiktok`): every `track()` reaches each of them too, with the same `event_id`,
   * through its own stream (`stats().pixels['tiktok:<code>']`). Adapters pass it to
   * `getRequestContext` too, which then captures what each needs (click IDs, cookies). With
   * destinations and no Meta credentials at all, the client sends to them alone.
   */
  destinations?: readonly Destination[] | undefined;
  /** Graph API version; default `v26.0` (env `META_API_VERSION`). */
  apiVersion?: string | undefined;
  /** Graph base URL; default `https://graph.facebook.com` (env `META_GRAPH_URL`). */
  graphUrl?: string | undefined;
  /**
   * Routes events to Events Manager's Test Events tab (env `META_TEST_EVENT_CODE`). Meta says to
   * remove it in production: set while `NODE_ENV` is `production`, it is warned about once.
   */
  testEventCode?: string | undefined;
  /** `partner_agent` body field; default `capi-kit`. */
  partnerAgent?: string | undefined;
  /** Adds `appsecret_proof` = HMAC-SHA256(appSecret, accessToken) to every request. */
  appSecret?: string | undefined;
  /** HTTP client; default global `fetch`. It is given the JSON body as UTF-8 bytes (`Uint8Array`). */
  fetch?: FetchLike | undefined;
  /** Events per request, 1–1000 (Meta's cap); default 1000. */
  maxBatchEvents?: number | undefined;
  /** Request body size cap in bytes; default 1 MiB. */
  maxBatchBytes?: number | undefined;
  /** Longest time a partial batch waits before it is sent; default 1000 ms. */
  flushIntervalMs?: number | undefined;
  /** Queue bound per pixel (drop-oldest beyond it, reason `overflow`); default 10 000. Ignored with a custom `outbox`. */
  maxQueuedEvents?: number | undefined;
  /** Queue bound per pixel in bytes; default 16 MiB. Ignored with a custom `outbox`. */
  maxQueuedBytes?: number | undefined;
  /** Per-request deadline; default 1500 ms (Meta's advice). */
  timeoutMs?: number | undefined;
  /** Requests in flight per pixel; default 4. */
  maxConcurrency?: number | undefined;
  /** Retry and backoff settings. */
  retry?: RetryOptions | undefined;
  /**
   * pino-compatible logger; never receives PII or tokens. Default: the console, `warn` and up;
   * `false` silences everything.
   */
  logger?: Logger | false | undefined;
  /**
   * Development feedback: a warning for every event rejected, dropped or sent with changes
   * (rate-limited), and "did you mean" for misspelled standard events. Default
   * `NODE_ENV !== 'production'`, read from `env` when it sets `NODE_ENV`, else from `process.env`;
   * quiet where there is no `process` (Workers without `nodejs_compat`). In production only losses and delivery failures
   * are logged at `warn`; diagnostics advisories drop to `info`.
   */
  development?: boolean | undefined;
  /**
   * When the process is about to end on its own (Node's `beforeExit`: a script that tracked and
   * returned, a job, a CLI) with events still queued or in flight, `close({ timeoutMs })` them
   * first: delivered, or counted as dropped (`shutdown`) and handed to `onUndeliverable`, with a
   * log line either way, instead of left in memory as the process exits. Default on, with 2000 ms;
   * `false` leaves it to your own `close()`. A server never reaches `beforeExit` while it listens.
   * A process ended by `process.exit()` before the client's close ended (the app's own, or an
   * `uncaughtException` handler's) gets no chance to send: at Node's `exit`, what the in-memory
   * outbox still holds is counted as dropped (`shutdown`) and handed to `onUndeliverable` in one
   * synchronous step (a sink that writes synchronously still saves it), with a log line.
   */
  closeOnExit?: boolean | { timeoutMs: number } | undefined;
  /** Called with events that will never be delivered after being accepted (for a spill file, a DLQ…). */
  onUndeliverable?:
    | ((records: readonly OutboxRecord[], reason: UndeliverableReason) => void | Promise<void>)
    | undefined;
  /**
   * Passed to `buildEvent`: `defaultCountry` for national phone numbers, `dateOrder` for dates of
   * birth like `05/06/1990` that read both ways (per call: `TrackOptions.dateOrder`).
   */
  buildOptions?: { defaultCountry?: string; dateOrder?: DateOrder | undefined } | undefined;
  /** Time source and timers (tests). */
  clock?: Clock | undefined;
  /** Random source in [0, 1) for jitter (tests). */
  random?: (() => number) | undefined;
  /** `track()` throws `CapiValidationError` for invalid events instead of reporting them. */
  strict?: boolean | undefined;
  /** Where accepted events wait; default `memoryOutbox({ maxEvents: maxQueuedEvents, maxBytes: maxQueuedBytes })`. One client per outbox instance: another client on it is refused until this one's `close()` has resolved. */
  outbox?: Outbox | undefined;
  /** Serverless keep-alive (Vercel `waitUntil`, Cloudflare `ctx.waitUntil`): receives every background flush promise. */
  waitUntil?: ((promise: Promise<unknown>) => void) | undefined;
  /** Send at the end of the current tick instead of batching over `flushIntervalMs` (serverless). */
  flushOnEnd?: boolean | undefined;
  /** Environment to read `META_*` fallbacks from; default `process.env` when present, `false` to disable. */
  env?: Readonly<Record<string, string | undefined>> | false | undefined;
  /** Match-quality, dedup-key, overlap and freshness figures over a rolling window (`client.diagnostics()`); on by default, `false` to turn them off. */
  diagnostics?: DiagnosticsOptions | boolean | undefined;
}

/** Per-call options of `track()`. */
export interface TrackOptions {
  /** The request's context (from `getRequestContext`): fills IP, UA, fbp/fbc, URLs, consent. */
  context?: RequestContext;
  /** Request-scoped keep-alive (Cloudflare `ctx.waitUntil`) for the flush this event triggers. */
  waitUntil?: (promise: Promise<unknown>) => void;
  /** `relay` when the event came from the browser through the relay; default `server`. Feeds dedup diagnostics. */
  source?: EventSource | undefined;
  /**
   * Only these of the client's pixels (default all). The relay sends a browser event to the one
   * pixel that fired it, so it dedups with that Pixel's copy and no other pixel gets it twice.
   */
  pixelIds?: readonly string[] | undefined;
  /**
   * Only the destinations of these names (`'meta'`, `'tiktok'`; default all). With `pixelIds`,
   * a stream must match both; `pixelIds` also matches other destinations' ids or stream keys.
   */
  destinations?: readonly string[] | undefined;
  /**
   * Names the event over `input`'s own `event_name`. With it, `input` may be the rest of the event
   * (`TrackParams`) or a function returning it, called inside `track()`: this is how
   * `req.capi.track(name, params)` hands its params over unread, so that every read of them happens
   * inside `track()`'s guard. A throwing function is reported (kind `callback`) and counted as
   * dropped (reason `error`), never thrown, not even in `strict` mode.
   */
  eventName?: string | undefined;
  /**
   * Day/month order for this event's year-last dates of birth that read both ways (`05/06/1990`),
   * over the client's `buildOptions.dateOrder`.
   */
  dateOrder?: DateOrder | undefined;
}

/** What `track()` did with the event. */
export interface TrackResult {
  /**
   * The event's `event_id` (given or generated): hand it to the browser Pixel for deduplication.
   * Never empty: an event refused without a usable id of its own gets a generated one, so the
   * browser copy still fires, as its own event.
   */
  event_id: string;
  /** True when the event was queued for at least one pixel. */
  accepted: boolean;
  /** Validation findings (errors reject, warnings do not). Never contain PII values. */
  issues: Issue[];
  /** Why it was not accepted. */
  reason?: DropReason;
  /**
   * Per stream (`'<pixel id>'`, `'tiktok:<code>'`), only on clients with destinations beside
   * Meta: whether that destination took the event, its own issues, and why not. An event one
   * destination rejects is dropped for that destination only.
   */
  destinations?: Record<string, DestinationOutcome>;
}

/** What one destination did with a tracked event (`TrackResult.destinations`). */
export interface DestinationOutcome {
  /** Queued for this stream. */
  accepted: boolean;
  /** This destination's findings (errors reject it here only). Never PII values. */
  issues: Issue[];
  /** Why not, when not accepted. */
  reason?: DropReason;
}

/** Counters of one pixel, or of the whole client (summed over pixels). */
export interface DeliveryCounters {
  /** Waiting in the outbox (not in flight). */
  queued: number;
  /** In requests that have not answered yet. */
  inFlight: number;
  /** Acknowledged by Meta. */
  sent: number;
  /** Re-queued after a transient error or a throttle (counted per event per retry). */
  retried: number;
  /** Not delivered, by reason. */
  dropped: Record<DropReason, number>;
  /** Rejected by Meta or out of attempts. */
  deadLettered: number;
  /** Age of the oldest waiting event, 0 when none. */
  oldestQueuedAgeMs: number;
}

/** Counters and state of one pixel. */
export interface PixelStats extends DeliveryCounters {
  /** Pixel id. */
  pixelId: string;
  /** `open` sending; `paused` throttled or backing off; `circuit_open` after an auth error. */
  state: 'open' | 'paused' | 'circuit_open';
  /** When a pause or open circuit ends (epoch ms). */
  pausedUntil?: number;
}

/** Deduplication accounting of accepted events, since the client started (each event once, not per pixel). */
export interface DedupCounters {
  /** Events tracked by the app itself (`source: 'server'`). */
  server: number;
  /** Events that came from the browser through the relay (`source: 'relay'`). */
  relay: number;
  /** Events whose `event_id` the caller or the browser supplied (not generated), so the Pixel can share it. */
  withEventId: number;
}

/** `client.stats()`: totals plus one entry per pixel. Intake drops (consent, invalid, closed) count once per event. */
export interface CapiStats extends DeliveryCounters {
  /** Per pixel id. */
  pixels: Record<string, PixelStats>;
  /** Accepted events by source and with a caller-supplied `event_id`. */
  dedup: DedupCounters;
}

/** A reference to an event that never contains user data. */
export interface EventRef {
  /** `event_id`. */
  eventId: string;
  /** `event_name`. */
  eventName: string;
}

/** `sent` hook payload: a batch Meta acknowledged. */
export interface SentInfo {
  /** Pixel id. */
  pixelId: string;
  /** Events in the batch. */
  count: number;
  /** `event_id`s of the batch. */
  eventIds: string[];
  /** Request duration. */
  durationMs: number;
  /** Meta's `events_received`. */
  eventsReceived?: number;
  /** Meta's `fbtrace_id`. */
  fbtraceId?: string;
  /** Another destination's trace id (TikTok's `request_id`). */
  traceId?: string;
}

/** `retry` hook payload: a batch goes back to the queue. */
export interface RetryInfo {
  /** Pixel id. */
  pixelId: string;
  /** Events re-queued. */
  count: number;
  /** `transient` (backoff, counts an attempt) or `throttled` (pixel pause). */
  reason: Extract<ResponseClass, 'transient' | 'throttled'>;
  /** Wait before the next try. */
  delayMs: number;
  /** HTTP status, 0 for network errors and timeouts. */
  status: number;
  /** Redacted description. */
  error: string;
  /** Meta's error fields when the answer was Graph-shaped. */
  graphError?: GraphErrorInfo;
}

/** `dropped` hook payload. */
export interface DroppedInfo {
  /** Why. */
  reason: DropReason;
  /** Pixel id; absent for intake drops that precede fan-out. */
  pixelId?: string;
  /** Events dropped. */
  count: number;
  /** The events (ids and names only). */
  events: EventRef[];
}

/** `deadLetter` hook payload: Meta will never accept these events. */
export interface DeadLetterInfo {
  /** Pixel id. */
  pixelId: string;
  /** `rejected` by Meta (isolated by bisection) or `max_attempts`. */
  reason: DeadLetterReason;
  /** Events dead-lettered. */
  count: number;
  /** The events (ids and names only). */
  events: EventRef[];
  /** Meta's error (redacted) or the last transient failure. */
  error: CapiDeliveryError;
}

/** `error` hook payload. */
export interface ErrorInfo {
  /**
   * `auth` (circuit opened), `validation` (event rejected by `track`), `outbox`, `internal`, or
   * `callback` (a user callback such as an adapter's `map` threw; see `source`).
   */
  kind: 'auth' | 'validation' | 'outbox' | 'internal' | 'callback';
  /** Which callback threw (kind `callback`), e.g. `trackConversion map`. */
  source?: string;
  /** Pixel id when one is concerned. */
  pixelId?: string;
  /** The error, redacted. */
  error: Error;
  /** Validation issues (kind `validation`). */
  issues?: Issue[];
}

/** `warn` hook payload: something worth a look that is not an error. */
export interface WarnInfo {
  /** What happened. */
  message: string;
  /** Pixel id when one is concerned. */
  pixelId?: string;
  /** Set when a diagnostics figure crossed its threshold (once per window per figure). */
  diagnostics?: DiagnosticsWarning;
}

/** Hook names and their payloads. */
export interface CapiHookMap {
  /** A batch was acknowledged. */
  sent: SentInfo;
  /** A batch was re-queued. */
  retry: RetryInfo;
  /** Events were dropped. */
  dropped: DroppedInfo;
  /** Something needs attention (auth failure, invalid event, outbox failure). */
  error: ErrorInfo;
  /** Events are permanently undeliverable. */
  deadLetter: DeadLetterInfo;
  /** Advisory message. */
  warn: WarnInfo;
}

/** A delivery failure as reported through hooks; the message never contains a token. */
export class CapiDeliveryError extends Error {
  /** How the answer was classified. */
  readonly classification: ResponseClass;
  /** HTTP status, 0 when there was no answer. */
  readonly status: number;
  /** Pixel id. */
  readonly pixelId: string;
  /** Meta's error fields, redacted. */
  readonly graphError?: GraphErrorInfo;
  constructor(
    message: string,
    details: {
      classification: ResponseClass;
      status: number;
      pixelId: string;
      graphError?: GraphErrorInfo;
    },
  ) {
    super(message);
    this.name = 'CapiDeliveryError';
    this.classification = details.classification;
    this.status = details.status;
    this.pixelId = details.pixelId;
    if (details.graphError) this.graphError = details.graphError;
  }
}
