import type { Classified, ContextNeeds, Destination, ServerEventInput } from '@capi-kit/core';
import { classifyTikTokResponse, isKnownTikTokCode, parseTikTokBody } from './classify.js';
import { isTikTokIdValue, type TikTokContext, TTCLID_PARAM, TTP_COOKIE } from './context.js';
import { type TikTokEvent, toTikTokEvent } from './event.js';
import { endpointEnvelope, TIKTOK_MAX_EVENTS_PER_REQUEST } from './request.js';

// This package's functions behind the core's `Destination` interface (docs/destinations.md), so
// `createCapi({ pixelId, accessToken, destinations: [tiktok({ pixelCode, accessToken })] })` sends
// every tracked event to TikTok too, with the same `event_id`, through the core's queue, retries,
// pauses, circuit breaker, bisection and outboxes. Every adapter passes its options to
// `createCapi` and to the request context, so the `ttclid` cookie and `_ttp` work there unchanged.

/** 90 days in seconds: how long the first-party `ttclid` cookie keeps the click, like `_fbc` ([EAPI]). */
export const TTCLID_COOKIE_MAX_AGE = 7_776_000;

/** Options of {@link tiktok}. */
export interface TikTokDestinationOptions {
  /** The TikTok pixel code (`event_source_id`), e.g. `C4ABCDEFGHIJ`. */
  pixelCode: string;
  /** The Events API access token; sent only in the `Access-Token` header, never logged. */
  accessToken: string;
  /** Events Manager test code; omit in production. */
  testEventCode?: string | undefined;
  /** Another endpoint (a mock, a proxy); default TikTok's `/open_api/v1.3/event/track/`. */
  apiUrl?: string | undefined;
  /** Event-name overrides (`{ Purchase: 'CompletePayment' }`), see `tiktokEventName`. */
  eventNames?: Readonly<Record<string, string>> | undefined;
}

/** What the request context captures for TikTok: the click ID (kept in a `ttclid` cookie) and `_ttp`. */
const NEEDS: ContextNeeds = Object.freeze({
  cookies: Object.freeze([TTP_COOKIE]),
  persist: Object.freeze([
    Object.freeze({
      param: TTCLID_PARAM,
      cookie: TTCLID_PARAM,
      maxAgeSeconds: TTCLID_COOKIE_MAX_AGE,
    }),
  ]),
});

/** The captures of one request (`RequestContext.destinations.tiktok`) as `toTikTokEvent` reads them. */
const contextOf = (captured: Readonly<Record<string, string>> | undefined): TikTokContext => {
  const context: TikTokContext = {};
  const ttclid = captured?.[TTCLID_PARAM];
  if (ttclid !== undefined && isTikTokIdValue(ttclid)) context.ttclid = ttclid;
  const ttp = captured?.[TTP_COOKIE];
  if (ttp !== undefined && isTikTokIdValue(ttp)) context.ttp = ttp;
  return context;
};

/** The kind of what a getter threw, never its message (which may carry a secret). */
const errorKind = (error: unknown): string =>
  error instanceof Error ? error.name : error === null ? 'null' : typeof error;

/**
 * Reads `source[key]` once; a getter that throws (a secrets vault, a lazy config, a proxy) is a
 * `TypeError` naming the option at configuration, instead of its own error naming nothing.
 */
const optionReader =
  (source: object, path = 'options') =>
  (key: string): unknown => {
    try {
      return (source as Record<string, unknown>)[key];
    } catch (error) {
      throw new TypeError(
        `tiktok(options): ${path}.${key} could not be read (its getter threw ${errorKind(error)})`,
      );
    }
  };

/**
 * TikTok's Events API 2.0 as a capi-kit destination. Throws a `TypeError` at configuration time
 * (empty pixel code or token, a URL that is not http(s), `eventNames` that is not an object, an
 * option whose getter throws); never per event. Options are read once, here.
 * @example
 * const capi = createCapi({
 *   pixelId: process.env.META_PIXEL_ID,
 *   accessToken: process.env.META_ACCESS_TOKEN,
 *   destinations: [
 *     tiktok({ pixelCode: 'C4ABCD', accessToken: process.env.TIKTOK_ACCESS_TOKEN ?? '' }),
 *   ],
 * });
 */
export function tiktok(options: TikTokDestinationOptions): Destination<TikTokEvent> {
  if (options === null || typeof options !== 'object') {
    throw new TypeError(
      'tiktok(options): options must be an object with pixelCode and accessToken',
    );
  }
  const read = optionReader(options);
  const pixelCode = read('pixelCode') as string;
  const accessToken = read('accessToken') as string;
  const testEventCode = read('testEventCode') as string | undefined;
  const apiUrl = read('apiUrl') as string | undefined;
  const names: unknown = read('eventNames');
  if ('url' in options && apiUrl === undefined) {
    // tiktokRequest's and tiktokEnvelope's name for it: ignored here, the events went to TikTok
    // itself instead of the mock or proxy it named.
    throw new TypeError(
      "tiktok(options): the endpoint option is apiUrl (url is tiktokRequest's and tiktokEnvelope's): write apiUrl",
    );
  }
  const envelope = endpointEnvelope(
    { pixelCode, accessToken, testEventCode, url: apiUrl },
    'apiUrl',
  );
  // The overrides as read here, once: the build reads this copy, so an entry whose getter throws
  // later (or a proxy) cannot make every event's build throw.
  let eventNames: Record<string, string> | undefined;
  if (
    names !== undefined &&
    names !== null &&
    (typeof names !== 'object' || Array.isArray(names))
  ) {
    // Ignored, every event would go to TikTok under the table's names instead of the ones asked for.
    throw new TypeError(
      `tiktok(options): eventNames must be an object such as { Purchase: 'CompletePayment' }, got ${Array.isArray(names) ? 'an array' : typeof names}`,
    );
  }
  if (typeof names === 'object' && names !== null) {
    const prototype: unknown = Object.getPrototypeOf(names);
    if (prototype !== Object.prototype && prototype !== null) {
      // A Map's (or a class instance's) entries are no own properties: none were checked here,
      // none read at build, and every event went under the table's names without a word.
      const kind = (names as { constructor?: { name?: unknown } }).constructor?.name;
      throw new TypeError(
        `tiktok(options): eventNames must be a plain object such as { Purchase: 'CompletePayment' }, got ${typeof kind === 'string' && kind !== '' ? `a ${kind}` : 'another kind of object'}`,
      );
    }
    let keys: string[];
    try {
      keys = Object.keys(names);
    } catch (error) {
      throw new TypeError(
        `tiktok(options): options.eventNames could not be read (it threw ${errorKind(error)})`,
      );
    }
    const readName = optionReader(names, 'options.eventNames');
    eventNames = Object.create(null) as Record<string, string>;
    for (const metaName of keys) {
      const name = readName(metaName);
      // `''` keeps the table's name. A blank name went out as the event's name, TikTok refused
      // every batch holding one, and bisection dead-lettered each such event on its own; any
      // other value was ignored without a word.
      if (name === '' || (typeof name === 'string' && name.trim() === name && name !== '')) {
        eventNames[metaName] = name;
        continue;
      }
      throw new TypeError(
        `tiktok(options): eventNames.${metaName} must be a TikTok event name such as 'CompletePayment' (or '' for the default), got ${typeof name === 'string' ? 'a string with surrounding or only white space' : name === null ? 'null' : typeof name}`,
      );
    }
  }
  const token = envelope.headers['access-token'] as string;
  // As the envelope's prefix carries it (checked there): the core tells when it does not travel.
  const testCode =
    typeof testEventCode === 'string' && testEventCode.trim() !== ''
      ? testEventCode.trim()
      : undefined;
  return {
    name: 'tiktok',
    id: pixelCode.trim(), // checked by endpointEnvelope above
    label: 'TikTok',
    build: (input: ServerEventInput, context) => {
      const { event, issues } = toTikTokEvent(input, {
        eventId: context.eventId,
        context: contextOf(context.captured),
        eventNames,
        now: context.now,
        defaultCountry: context.defaultCountry,
      });
      if (event === undefined) return { issues };
      return {
        event,
        issues,
        eventName: event.event,
        eventTime: event.event_time,
        actionSource: typeof input.action_source === 'string' ? input.action_source : 'website',
      };
    },
    // The token travels in the `Access-Token` header only; `secrets` makes the core redact it
    // from every log line and error, whatever a proxy or TikTok echoes back.
    envelope: () =>
      testCode === undefined
        ? { ...envelope, secrets: [token] }
        : { ...envelope, secrets: [token], testEventCode: testCode },
    limits: {
      maxEvents: TIKTOK_MAX_EVENTS_PER_REQUEST,
      // TikTok's per-request byte limit is not documented in the sources this package cites
      // (docs/destinations.md, "Not built yet"): the client's `maxBatchBytes` (1 MiB) applies.
      maxBytes: Number.POSITIVE_INFINITY,
    },
    classify: (answer, _eventsSent, nowMs): Classified => {
      const verdict = classifyTikTokResponse(answer, nowMs);
      const out: Classified = { class: verdict.class };
      if (verdict.class === 'success') return out;
      if (verdict.retryAfterMs !== undefined) out.retryAfterMs = verdict.retryAfterMs;
      if (verdict.code !== undefined) out.code = verdict.code;
      if (verdict.code !== undefined && !isKnownTikTokCode(verdict.code)) {
        // The same text for every answer with this code (no request_id, nor TikTok's message,
        // which may echo what it was sent): the core tells it once per stream.
        out.warning = `capi-kit: TikTok answered code ${verdict.code}, which capi-kit does not know: its events are retried as transient, with backoff, and dead-lettered once they run out of attempts (retry.maxAttempts). If the code means the request is wrong, check the pixel code, the token and the events.`;
      }
      if (verdict.requestId !== undefined) out.traceId = verdict.requestId;
      // TikTok names no event in a rejected batch: the core bisects it.
      out.message =
        verdict.code === undefined
          ? `HTTP ${answer.status} without TikTok's answer envelope`
          : `HTTP ${answer.status} TikTok code ${verdict.code}${verdict.message ? `: ${verdict.message}` : ''}`;
      return out;
    },
    acknowledgement: (body) => {
      const requestId = parseTikTokBody(body)?.request_id;
      return requestId === undefined ? {} : { traceId: requestId };
    },
    context: NEEDS,
  };
}
