import type { ContextNeeds } from '../context/destination-context.js';
import type { ServerEventInput } from '../event/index.js';
import type { Issue } from '../event/issues.js';
import type { DateOrder } from '../user-data/types.js';
import type { GraphErrorInfo, HeadersLike, ResponseClass } from './classify.js';
import type { OutboxRecord } from './outbox/types.js';

// One ad platform's rules behind one interface (docs/destinations.md): how an event is built, the
// request around a batch, the limits, and how an answer is read. The engine (queue, outbox,
// batching, retries, pauses, circuit, bisection, shutdown, counters) never names a platform: it
// runs one pipe per stream, driven by that stream's destination. Meta is the default destination,
// built from `createCapi`'s own options; others come from packages (`tiktok()` in @capi-kit/tiktok).

/** The fixed parts of every request to one stream, computed once at creation. */
export interface Envelope {
  /** Where batches are POSTed. Never holds a secret: URLs end up in proxies' and servers' logs. */
  url: string;
  /** JSON before the comma-joined events (`{"data":[`). */
  prefix: string;
  /** JSON after them (`]}`; Meta's holds its token, so bodies are never logged). */
  suffix: string;
  /** Extra request headers (TikTok's `Access-Token`). Never logged. */
  headers?: Readonly<Record<string, string>> | undefined;
  /** Values the logger and every error must never show (tokens, proofs): redacted everywhere. */
  secrets?: readonly (string | undefined)[] | undefined;
  /**
   * The Test Events code the prefix carries (TikTok's `test_event_code`), if any: an outbox that
   * hands the events to another process sends them in that process's envelope, so the client says
   * once that this code does not travel with them.
   */
  testEventCode?: string | undefined;
}

/** What a platform accepts per request and how old an event may be. */
export interface DestinationLimits {
  /** Events per request; the client's `maxBatchEvents` can only lower it. */
  maxEvents: number;
  /** Bytes per request body; the client's `maxBatchBytes` can only lower it. */
  maxBytes: number;
  /** Oldest `event_time` the platform takes, in seconds before now; default Meta's window (7 days, 62 for `physical_store`). */
  maxAgeSeconds?: ((record: Pick<OutboxRecord, 'actionSource'>) => number) | undefined;
}

/** What {@link Destination.build} is given besides the event. */
export interface DestinationBuildContext {
  /** The event's `event_id`, fixed once for every destination so each platform deduplicates with its Pixel. */
  eventId: string;
  /** What the request context captured for this destination (`RequestContext.destinations[name]`). */
  captured: Readonly<Record<string, string>> | undefined;
  /** Wall clock in epoch ms, for a missing `event_time`. */
  now: () => number;
  /** Day/month order for ambiguous dates of birth (`TrackOptions.dateOrder`). */
  dateOrder?: DateOrder | undefined;
  /** The client's `defaultCountry`, for national phone numbers when `user_data.country` is absent. */
  defaultCountry?: string | undefined;
}

/** What {@link Destination.build} returns: the wire event (absent when an issue is an error) and its issues. */
export interface DestinationBuild<Wire = unknown> {
  /** The platform's event, serialized once by the core and re-sent verbatim on retries. */
  event?: Wire | undefined;
  /** Findings (errors reject the event for this destination only, warnings do not). Never PII values. */
  issues: Issue[];
  /** The event name as sent, for hooks and logs; required with `event`. */
  eventName?: string | undefined;
  /** `event_time` as sent, Unix seconds (expiry); required with `event`. */
  eventTime?: number | undefined;
  /** Meta's `action_source` as given (the upload window of `physical_store` events). */
  actionSource?: string | undefined;
}

/** One answer of the platform, as the transport received it. */
export interface DestinationAnswer {
  status: number;
  headers: HeadersLike;
  /** Parsed JSON, the raw text when it is not JSON, `undefined` when empty. */
  body: unknown;
}

/** How the engine handles an answer: the five classes it reacts to, and what to say about it. */
export interface Classified {
  /** `success` ack · `transient` backoff · `throttled` pause · `auth` circuit · `invalid` bisection. */
  class: ResponseClass;
  /** Server-requested wait (`Retry-After`), uncapped; the engine caps it, and under one second counts as no hint. */
  retryAfterMs?: number | undefined;
  /** The index in the batch of the event the platform blamed, when it names one. */
  rejectedIndex?: number | undefined;
  /** One-line explanation for logs, hooks and dead letters; redacted by the engine. Default `HTTP <status>`. */
  message?: string | undefined;
  /** The platform's error code, for log lines. */
  code?: number | undefined;
  /** The platform's request/trace id (Meta `fbtrace_id`, TikTok `request_id`), for log lines. */
  traceId?: string | undefined;
  /**
   * What the developer should hear once about this kind of answer (TikTok: a code its table does
   * not name), the same text each time: told at `warn` level and through the `warn` hook the first
   * time the stream gets it. Redacted by the engine; never a value sent.
   */
  warning?: string | undefined;
  /** Meta's Graph error fields (hooks' `graphError`); other platforms leave it out. */
  graphError?: GraphErrorInfo | undefined;
}

/** What a success tells the `sent` hook. */
export interface Acknowledgement {
  /** Events the platform says it received. */
  received?: number | undefined;
  /** Its trace id (Meta `fbtrace_id`, TikTok `request_id`). */
  traceId?: string | undefined;
}

/**
 * One ad platform's rules, for one account object (a Meta pixel, a TikTok pixel code). A package
 * exports a factory returning one; `createCapi({ destinations: [tiktok({ pixelCode, accessToken })] })`.
 * Every method is pure and synchronous and must not throw on any input (a throw is counted as an
 * intake drop of reason `error` for this destination).
 */
export interface Destination<Wire = unknown> {
  /** Short stable name: the stream-key prefix (`tiktok:C4A…`) and the key of request captures. Lowercase `[a-z0-9_-]`. */
  readonly name: string;
  /** The account object events go to (TikTok pixel code). */
  readonly id: string;
  /** The platform as log lines name it (`TikTok`); default `name`. */
  readonly label?: string | undefined;
  /** Meta-named input (request context merged, `event_id` fixed) → this platform's wire event. */
  build(input: ServerEventInput, context: DestinationBuildContext): DestinationBuild<Wire>;
  /** The request around every batch. Called once, at `createCapi`. */
  envelope(): Envelope;
  /** Events and bytes per request, and how old an event may be. */
  readonly limits: DestinationLimits;
  /** The platform's answer → the engine's reaction. `nowMs` is the wall clock (`Retry-After` dates). */
  classify(answer: DestinationAnswer, eventsSent: number, nowMs: number): Classified;
  /** What a success tells the `sent` hook. */
  acknowledgement(body: unknown): Acknowledgement;
  /** What this destination reads from the request (click IDs, cookies) and the cookies it keeps. */
  readonly context?: ContextNeeds | undefined;
}

/** Name of the default destination, built from `createCapi`'s Meta options. */
export const META_DESTINATION = 'meta';

const NAME = /^[a-z0-9_-]{1,32}$/;

/**
 * The outbox key of a destination's records: Meta's stays the bare pixel id (existing outboxes,
 * `stats()` and hooks read the same), others are `"<name>:<id>"`.
 * @example streamKey({ name: 'tiktok', id: 'C4ABCD' }) // 'tiktok:C4ABCD'
 */
export const streamKey = (destination: Pick<Destination, 'name' | 'id'>): string =>
  destination.name === META_DESTINATION ? destination.id : `${destination.name}:${destination.id}`;

/** Checks a destination given to `createCapi`; throws a `TypeError` naming the rule (never a secret). */
export const checkDestination = (destination: unknown, index: number): Destination => {
  const d = destination as Partial<Destination> | null | undefined;
  const at = `createCapi: destinations[${index}]`;
  if (typeof d !== 'object' || d === null)
    throw new TypeError(`${at} must be a destination object`);
  if (typeof d.name !== 'string' || !NAME.test(d.name) || d.name === META_DESTINATION) {
    throw new TypeError(
      `${at}.name must be 1–32 characters of [a-z0-9_-] other than 'meta' (Meta is configured with pixelId/pixels)`,
    );
  }
  if (typeof d.id !== 'string' || d.id === '' || /[\s:]/.test(d.id)) {
    throw new TypeError(`${at}.id must be a non-empty string without spaces or ':'`);
  }
  for (const method of ['build', 'envelope', 'classify', 'acknowledgement'] as const) {
    if (typeof d[method] !== 'function') throw new TypeError(`${at}.${method} must be a function`);
  }
  const limits = d.limits;
  if (
    typeof limits !== 'object' ||
    limits === null ||
    !(limits.maxEvents >= 1) ||
    !(limits.maxBytes >= 1)
  ) {
    throw new TypeError(`${at}.limits needs maxEvents ≥ 1 and maxBytes ≥ 1`);
  }
  return d as Destination;
};
