import {
  getRequestContextOrEmpty,
  type NodeRequestLike,
  type RequestContext,
  type RequestContextOptions,
} from '../context/index.js';
import { withClientDestinations } from '../context/request-context.js';
import { requestHeaderReader } from '../context/request-input.js';
import { proxyWarningOnce } from '../context/trust-proxy.js';
import { MAX_TIMER_MS, systemClock } from '../delivery/clock.js';
import { isPromise } from '../delivery/outbox-calls.js';
import type { TrackOptions } from '../delivery/types.js';
import { STANDARD_EVENTS } from '../event/standard-events.js';
import type { UserDataInput } from '../user-data/types.js';
import { checkFirstParty, relayRequestUrl } from './first-party.js';
import { jsonByteLength } from './json-size.js';
import { pageClicksOf } from './page-clicks.js';
import {
  DEFAULT_RELAY_MAX_BODY_BYTES,
  DEFAULT_RELAY_MAX_EVENTS,
  RELAY_MAX_EVENT_ID_LENGTH,
  RELAY_PROTOCOL_VERSION,
} from './protocol.js';
import {
  createMemoryRateLimiter,
  type MemoryRateLimiterOptions,
  type RateLimitDecision,
  type RelayRateLimiter,
  rateLimitKey,
} from './rate-limit.js';
import { type BodySource, readRelayBodyWithin, type TimedRelayBody } from './read-body.js';
import {
  browserUserData,
  DEFAULT_RELAY_CLOCK_SKEW_SECONDS,
  DEFAULT_RELAY_CUSTOM_DATA_KEYS,
  type RelayEventRules,
  relayEventInput,
} from './relay-event.js';
import type {
  CreateRelayOptions,
  Relay,
  RelayEventDropReason,
  RelayInput,
  RelayRefusal,
  RelayResponse,
} from './types.js';

/**
 * Default deadline for reading a body: 10 s. A beacon is at most 64 KiB, sent as the event fires,
 * which even a slow mobile link delivers in a second or two; a client still sending after 10 s is
 * stalled (or stalling on purpose), and without a deadline it held the request until the server's
 * own `requestTimeout` (Node: 300 s).
 */
export const DEFAULT_RELAY_BODY_TIMEOUT_MS = 10_000;
/** What {@link within} answers when the deadline came first. */
const LATE: unique symbol = Symbol('late');
/** Default of `identifyTimeoutMs`: how long a promise from `identify` is awaited. */
export const DEFAULT_RELAY_IDENTIFY_TIMEOUT_MS = 2000;
/**
 * How long a promise from a custom `rateLimit`'s `take` is awaited: 2 s. A store that neither
 * answers nor fails (a Redis client queueing commands while it reconnects) held every beacon's
 * request open and its events untracked; past this the request goes on unlimited, as when the
 * store fails.
 */
export const RELAY_RATE_LIMIT_TIMEOUT_MS = 2000;

/** `promise`'s value, or {@link LATE} when it has not settled within `ms` (unref'd timer). */
async function within<T>(promise: Promise<T>, ms: number): Promise<T | typeof LATE> {
  let timer: unknown;
  try {
    return await Promise.race([
      promise,
      new Promise<typeof LATE>((resolve) => {
        timer = systemClock.setTimeout(() => resolve(LATE), ms);
      }),
    ]);
  } finally {
    if (timer !== undefined) systemClock.clearTimeout(timer);
  }
}

const emptyRefusals = (): Record<RelayRefusal, number> => ({
  method_not_allowed: 0,
  cross_site: 0,
  unknown_origin: 0,
  unsupported_media_type: 0,
  body_too_large: 0,
  too_many_events: 0,
  rate_limited: 0,
  invalid_payload: 0,
  body_timeout: 0,
  unsupported_version: 0,
  unknown_pixel: 0,
});

const STATUS: Record<RelayRefusal, number> = {
  method_not_allowed: 405,
  cross_site: 403,
  unknown_origin: 403,
  unsupported_media_type: 415,
  body_too_large: 413,
  too_many_events: 413,
  rate_limited: 429,
  invalid_payload: 400,
  body_timeout: 408,
  unsupported_version: 400,
  unknown_pixel: 403,
};

/** What each refusal means for the app, and what to check: the feedback line's second half. */
const REFUSAL_TEXT: Record<RelayRefusal, string> = {
  method_not_allowed: "not a POST; the relay takes the browser module's POSTs only",
  cross_site:
    "sent from another site (Fetch Metadata or Origin); the relay takes requests of the site's own pages only",
  unknown_origin:
    "neither Sec-Fetch-Site nor Origin says the request came from one of the site's pages",
  unsupported_media_type: 'its Content-Type is not application/json or text/plain',
  body_too_large: 'its body is over maxBodyBytes',
  too_many_events: 'it carries more events than maxEvents',
  rate_limited: "its client IP is over the relay's rateLimit",
  invalid_payload: 'its body is not a relay payload (or was cut off); nothing of it was tracked',
  body_timeout: 'its body did not arrive whole within bodyTimeoutMs',
  unsupported_version:
    "the page's browser module speaks another protocol version: deploy @capi-kit/browser and the server package from one release",
  unknown_pixel:
    "its pixel_id is not one this client sends to: give the browser module the pixel ID the server uses (or add it to the client's pixels)",
};

/** What each per-event drop means for the app, and what to change (see {@link REFUSAL_TEXT}). */
const DROP_TEXT: Record<'malformed' | 'not_allowed', string> = {
  not_allowed:
    "its event_name is not in the relay's allowEvents (default: the standard events and PageView); list the page's custom events there, e.g. allowEvents: [...STANDARD_EVENTS, 'WatchedDemo']",
  malformed: `it is not a relay event: event_name (at most 100 characters) or event_id (at most ${RELAY_MAX_EVENT_ID_LENGTH}) missing, empty or too long, or custom_data not an object`,
};

// The browser posts `application/json` (beacon Blob or fetch); `text/plain` is accepted for pages
// that post a string beacon, which browsers send without a preflight. Form encodings are refused:
// they are what a cross-site HTML form can post.
const MEDIA_TYPES: ReadonlySet<string> = new Set(['application/json', 'text/plain']);

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const positiveInt = (value: number | undefined, fallback: number): number =>
  typeof value === 'number' && Number.isFinite(value) && value >= 1 ? Math.floor(value) : fallback;

/**
 * A list option (`allowEvents`, `allowCustomData`, `pixelIds`) as a set. A string (`allowEvents:
 * 'Lead'`, `pixelIds: process.env.META_PIXEL_ID`) became the set of its characters: every event
 * refused as not allowed, or every request refused as another pixel's (403), with nothing saying
 * why at creation. Refused here, naming the fix.
 */
const listOption = (
  name: string,
  value: unknown,
  example: string,
): ReadonlySet<string> | undefined => {
  if (value === undefined || value === null) return undefined;
  if (
    typeof value === 'string' ||
    typeof (value as Iterable<unknown>)[Symbol.iterator] !== 'function'
  ) {
    throw new TypeError(
      `createRelay: ${name} must be a list (${example}), got ${typeof value === 'string' ? 'a string: wrap it in [ ]' : typeof value}`,
    );
  }
  return new Set(value as Iterable<string>);
};

/**
 * `maxClockSkewSeconds` within 0 to a day; the default for what is no number. `NaN` (an unset
 * environment variable through `Number()`) made every `event_time` comparison false, so no browser
 * time was corrected: a week-old one went to the client, which dropped the event.
 */
const clockSkewSeconds = (value: number | undefined): number =>
  typeof value === 'number' && !Number.isNaN(value)
    ? Math.min(86_400, Math.max(0, value))
    : DEFAULT_RELAY_CLOCK_SKEW_SECONDS;

const isBodySource = (body: unknown): body is BodySource =>
  typeof body === 'object' &&
  body !== null &&
  (typeof (body as ReadableStream).getReader === 'function' ||
    typeof (body as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function');

// A Node HTTP/1 request whose body was left unread: the connection must close after the answer.
const isHttp1Stream = (body: unknown): boolean =>
  typeof body === 'object' &&
  body !== null &&
  (body as { httpVersionMajor?: unknown }).httpVersionMajor === 1;

type Payload = { version: unknown; pixelId: unknown; events: unknown[] };

function parsePayload(value: unknown): Payload | undefined {
  if (!isRecord(value) || !Array.isArray(value.events)) return undefined;
  return { version: value.v, pixelId: value.pixel_id, events: value.events };
}

/**
 * Creates the server side of `@capi-kit/browser`'s first-party relay (protocol v1). Each request
 * must be a same-site `POST` of JSON within the size and event caps and the client IP's rate
 * limit; then each allowed event is forwarded with its browser `event_id` (so Meta dedups it with
 * the Pixel's copy), server-side IP, user agent, `_fbp`/`_fbc`, consent and the signed-in user from
 * `identify`, through `client.track(…, { source: 'relay' })`. Answers `204` without waiting for
 * Meta; a bad event is dropped and counted, never a `500`.
 * https://developers.facebook.com/documentation/ads-commerce/conversions-api/deduplicate-pixel-and-server-events
 * @example const relay = createRelay({ client, requestContext: { trustProxy: 'loopback' } })
 */
export function createRelay<R = Request | NodeRequestLike>(
  options: CreateRelayOptions<R>,
): Relay<R> {
  const { client } = options;
  // Diagnostics start remembering event IDs to pair the server and browser copies. Guarded: a
  // hand-made client object (tests, wrappers) may not have it.
  if (typeof client.attachRelay === 'function') client.attachRelay();
  // The client's destinations need the relayed request's context too (TikTok's `_ttp` and
  // `ttclid`): adapters hand the relay their own options, which lack them when the client is shared.
  const contextOptions = withClientDestinations(options.requestContext ?? {}, client.destinations);
  // Checked until told once, as adapters do (`CapiClient.reportProxyNotTrusted`).
  const proxyWarning = proxyWarningOnce(client, contextOptions.forwardedHeader);
  const maxBodyBytes = positiveInt(options.maxBodyBytes, DEFAULT_RELAY_MAX_BODY_BYTES);
  const maxEvents = positiveInt(options.maxEvents, DEFAULT_RELAY_MAX_EVENTS);
  const bodyTimeoutMs = Math.min(
    positiveInt(options.bodyTimeoutMs, DEFAULT_RELAY_BODY_TIMEOUT_MS),
    MAX_TIMER_MS,
  );
  // Unref'd timers (systemClock): a body read in progress never keeps a process alive.
  const bodyLimits = { maxBytes: maxBodyBytes, timeoutMs: bodyTimeoutMs, timers: systemClock };
  const identifyTimeoutMs = Math.min(
    positiveInt(options.identifyTimeoutMs, DEFAULT_RELAY_IDENTIFY_TIMEOUT_MS),
    MAX_TIMER_MS,
  );
  const now = options.now ?? Date.now;
  const allowEvents = options.allowEvents ?? STANDARD_EVENTS;
  const allowedNames: ReadonlySet<string> | undefined =
    typeof allowEvents === 'function'
      ? undefined
      : listOption(
          'allowEvents',
          allowEvents,
          "[...STANDARD_EVENTS, 'WatchedDemo'], or a function of the event name",
        );
  const rules: RelayEventRules = {
    allowEvent: (name) => {
      if (allowedNames !== undefined) return allowedNames.has(name);
      try {
        return (allowEvents as (eventName: string) => boolean)(name) === true;
      } catch (error) {
        client.reportError(error, 'relay allowEvents');
        return false;
      }
    },
    customDataKeys:
      listOption('allowCustomData', options.allowCustomData, "['value', 'currency']") ??
      new Set(DEFAULT_RELAY_CUSTOM_DATA_KEYS),
    allowUserData: options.allowUserData === true,
    maxSkewSeconds: clockSkewSeconds(options.maxClockSkewSeconds),
  };
  // `null` (a config file's "not set") is the default limiter: read as settings, it threw at
  // creation (reading `eventsPerMinute` of null).
  const rateLimit = options.rateLimit ?? undefined;
  const limiter: RelayRateLimiter | undefined =
    rateLimit === false
      ? undefined
      : rateLimit !== undefined && typeof (rateLimit as RelayRateLimiter).take === 'function'
        ? (rateLimit as RelayRateLimiter)
        : createMemoryRateLimiter(rateLimit as MemoryRateLimiterOptions | undefined);
  // The client's streams are fixed at creation; read them once, on first use.
  let pixelIds: ReadonlySet<string> | undefined = listOption(
    'pixelIds',
    options.pixelIds,
    "['1234567890']",
  );
  let otherStreams: readonly string[] | undefined;
  const readStreams = (): void => {
    try {
      const keys = Object.keys(client.stats().pixels);
      // A relayed event is what one Meta Pixel fired: the browser addresses Meta's pixels only.
      // Other destinations' streams (`tiktok:…`, never a bare pixel id) each get the event too,
      // with the same event_id: the page's own pixel for that platform (`ttq.track`, mirrored by
      // @capi-kit/browser) fired its copy with that id, so the platform counts it once.
      pixelIds ??= new Set(keys.filter((key) => !key.includes(':')));
      otherStreams = keys.filter((key) => key.includes(':'));
    } catch (error) {
      client.reportError(error, 'relay pixelIds');
    }
  };
  const knownPixels = (): ReadonlySet<string> => {
    if (otherStreams === undefined) readStreams();
    return pixelIds ?? new Set();
  };

  const counters = {
    requests: 0,
    accepted: 0,
    refused: emptyRefusals(),
    failed: 0,
    received: 0,
    tracked: 0,
    dropped: { malformed: 0, not_allowed: 0, not_accepted: 0, error: 0 } as Record<
      RelayEventDropReason,
      number
    >,
    timeCorrected: 0,
    customDataKeysDropped: 0,
    userDataIgnored: 0,
    userDataValuesDropped: 0,
  };

  const refuse = (reason: RelayRefusal, headers: Record<string, string> = {}): RelayResponse => {
    counters.refused[reason]++;
    // Told the app (rate-limited): the browser never reads the answer. Guarded like attachRelay.
    try {
      client.reportRelayRefusal?.(reason, STATUS[reason], REFUSAL_TEXT[reason]);
    } catch {
      // A hand-made client's report failing changes nothing of the answer.
    }
    return {
      status: STATUS[reason],
      headers: {
        'cache-control': 'no-store',
        'content-type': 'application/json; charset=utf-8',
        ...headers,
      },
      body: JSON.stringify({ error: reason }),
      cookies: [],
    };
  };

  // Guarded like `refuse`'s report: a hand-made client's failing changes nothing of the event's fate.
  const tellDrop = (reason: 'malformed' | 'not_allowed', raw: unknown): void => {
    try {
      const name = isRecord(raw) && typeof raw.event_name === 'string' ? raw.event_name : undefined;
      // A name left out of allowEvents may be the app's choice (that event for the Pixel alone):
      // said in development, where a forgotten list is noticed, not every minute in production.
      // A malformed event is a loss whoever sent it, as a refused request is.
      client.reportRelayEventDrop?.(reason, name, DROP_TEXT[reason], reason === 'not_allowed');
    } catch {
      // Counted in stats() all the same.
    }
  };

  const identify = async (input: RelayInput<R>): Promise<UserDataInput | undefined> => {
    // `null` (a config file's "not set") is no callback: called, it threw on every request.
    if (options.identify === undefined || options.identify === null) return undefined;
    try {
      const answer = options.identify((input.appRequest ?? input.request) as R);
      const user = isPromise(answer) ? await within(answer, identifyTimeoutMs) : answer;
      if (user === LATE) {
        client.reportError(
          new Error(
            `identify did not answer within identifyTimeoutMs (${identifyTimeoutMs} ms); the events went without the signed-in user`,
          ),
          'relay identify',
        );
        return undefined;
      }
      return isRecord(user) ? (user as UserDataInput) : undefined;
    } catch (error) {
      client.reportError(error, 'relay identify');
      return undefined;
    }
  };

  const contextOf = (
    input: RelayInput<R>,
    requestOptions: RequestContextOptions,
  ): { context: RequestContext; own: boolean } => {
    if (input.context !== undefined) return { context: input.context, own: false };
    let failed = false;
    const context = getRequestContextOrEmpty(
      input.request,
      requestOptions,
      (error) => {
        failed = true;
        client.reportError(error, 'relay context');
      },
      proxyWarning(),
    );
    return { context, own: !failed };
  };

  const readBody = async (
    input: RelayInput<R>,
  ): Promise<{ ok: true; value: unknown } | { ok: false; reason: RelayRefusal }> => {
    const { body } = input;
    let bytes: Uint8Array | string;
    if (body === undefined || body === null) {
      if (!('parsedBody' in input)) return { ok: false, reason: 'invalid_payload' };
      // The app's parser read the bytes and kept none; what is left to measure is the JSON the
      // relay forwards from, re-serialized (see `maxBodyBytes`).
      if (jsonByteLength(input.parsedBody, maxBodyBytes) > maxBodyBytes) {
        return { ok: false, reason: 'body_too_large' };
      }
      return { ok: true, value: input.parsedBody };
    }
    if (typeof body === 'string' || body instanceof Uint8Array) {
      bytes = body;
    } else if (isBodySource(body)) {
      // A Web stream the app (or a middleware) already read is the app's mistake, reported as one
      // by the caller's catch; a failed read below is the client's doing.
      if ((body as { locked?: unknown }).locked === true) {
        throw new TypeError('the request body stream was already read (locked) before the relay');
      }
      let read: TimedRelayBody;
      try {
        read = await readRelayBodyWithin(body, bodyLimits);
      } catch {
        // The client went away mid-body (a closed tab, a reset): a truncated body, like one that
        // is not JSON. Not the app's error, and no event of it was received.
        return { ok: false, reason: 'invalid_payload' };
      }
      if (read.tooLarge) return { ok: false, reason: 'body_too_large' };
      // Half a body and then nothing: refused like a truncated one, with its own answer.
      if ('timedOut' in read) return { ok: false, reason: 'body_timeout' };
      bytes = read.bytes;
    } else {
      return { ok: false, reason: 'invalid_payload' };
    }
    const size =
      typeof bytes === 'string' ? new TextEncoder().encode(bytes).byteLength : bytes.byteLength;
    if (size > maxBodyBytes) return { ok: false, reason: 'body_too_large' };
    const text = typeof bytes === 'string' ? bytes : new TextDecoder().decode(bytes);
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      return { ok: true, value: undefined };
    }
    // The same rule as for a parsed body, so a body gets one answer whoever parsed it: a few bytes
    // on the wire (`1e20`) can stand for many more in what is forwarded.
    if (jsonByteLength(value, maxBodyBytes) > maxBodyBytes) {
      return { ok: false, reason: 'body_too_large' };
    }
    return { ok: true, value };
  };

  const handleInput = async (input: RelayInput<R>): Promise<RelayResponse> => {
    const { request } = input;
    const header = requestHeaderReader(request);
    // A refusal before the body is read leaves a Node HTTP/1 body unread, and Node drains the rest
    // after the answer to keep the connection: a cross-site or non-POST upload was read to its end
    // (any size, until the server's `requestTimeout`) past `maxBodyBytes`. Close it instead.
    const unreadHeaders: Record<string, string> = isHttp1Stream(input.body)
      ? { connection: 'close' }
      : {};
    if ((request.method ?? 'GET').toUpperCase() !== 'POST') {
      return refuse('method_not_allowed', { allow: 'POST', ...unreadHeaders });
    }
    const requestOptions =
      input.remoteAddress === undefined
        ? contextOptions
        : { ...contextOptions, remoteAddress: input.remoteAddress };
    const requestUrl = relayRequestUrl(request, header, requestOptions);
    const notFirstParty = checkFirstParty(header, requestUrl);
    if (notFirstParty !== undefined) return refuse(notFirstParty, unreadHeaders);
    const contentType = header('content-type');
    if (contentType !== undefined && contentType.trim() !== '') {
      const mediaType = contentType.split(';', 1)[0]?.trim().toLowerCase() ?? '';
      if (!MEDIA_TYPES.has(mediaType)) return refuse('unsupported_media_type', unreadHeaders);
    }
    // The rest of an unread Node body would be drained after the answer: close the connection.
    const unread = (reason: 'body_too_large' | 'body_timeout') => refuse(reason, unreadHeaders);
    const declared = Number(header('content-length'));
    if (input.bodyTooLarge === true || (Number.isFinite(declared) && declared > maxBodyBytes)) {
      return unread('body_too_large');
    }
    const read = await readBody(input);
    if (!read.ok) {
      const { reason } = read;
      return reason === 'body_too_large' || reason === 'body_timeout'
        ? unread(reason)
        : refuse(reason);
    }
    const payload = parsePayload(read.value);

    const { context, own } = contextOf(input, requestOptions);
    if (limiter !== undefined) {
      // Every request costs at least one token, so a flood of junk is limited like one of events.
      const cost = Math.min(Math.max(payload?.events.length ?? 1, 1), maxEvents);
      const key = rateLimitKey(context.user_data.client_ip_address);
      let decision: RateLimitDecision | undefined;
      try {
        const answer = limiter.take(key, cost, now());
        const taken = isPromise(answer)
          ? await within(answer, RELAY_RATE_LIMIT_TIMEOUT_MS)
          : answer;
        if (taken === LATE) {
          client.reportError(
            new Error(
              `rateLimit did not answer within ${RELAY_RATE_LIMIT_TIMEOUT_MS} ms; the request went on unlimited`,
            ),
            'relay rateLimit',
          );
        } else decision = taken;
      } catch (error) {
        // The app's limiter store failing (Redis down) is the app's to hear of; the visitors'
        // events are not lost to it: the request goes on unlimited. It fell to the catch-all
        // below, which answered 204 and tracked nothing, counted as no refusal and no event.
        client.reportError(error, 'relay rateLimit');
      }
      if (decision !== undefined && !decision.allowed) {
        return refuse('rate_limited', { 'retry-after': String(decision.retryAfterSeconds) });
      }
    }
    if (payload === undefined || payload.events.length === 0) return refuse('invalid_payload');
    if (payload.version !== RELAY_PROTOCOL_VERSION) return refuse('unsupported_version');
    if (typeof payload.pixelId !== 'string' || !knownPixels().has(payload.pixelId)) {
      return refuse('unknown_pixel');
    }
    if (payload.events.length > maxEvents) return refuse('too_many_events');
    const pixelId = payload.pixelId;

    const user = await identify(input);
    const nowSeconds = Math.floor(now() / 1000);
    const trackOptions: TrackOptions = {
      context,
      source: 'relay',
      pixelIds: otherStreams?.length ? [pixelId, ...otherStreams] : [pixelId],
    };
    if (input.waitUntil !== undefined) trackOptions.waitUntil = input.waitUntil;
    counters.received += payload.events.length;
    // The clicks of the request's pages the request itself did not carry (an origin-only Referer,
    // no `_fbc` yet): filled in per event, kept as cookies in the answer.
    const clicks = pageClicksOf(requestUrl, requestOptions, context);
    for (const raw of payload.events) {
      try {
        const fromPage = isRecord(raw) ? raw.user_data : undefined;
        let userData: UserDataInput | undefined;
        let valuesDropped = 0;
        if (rules.allowUserData) {
          // Capped before anything reads the values: normalizing them is the costly part.
          ({ userData, valuesDropped } = browserUserData(fromPage));
        } else if (fromPage !== undefined) counters.userDataIgnored++;
        // The signed-in user (the server's truth) wins over what the page says.
        if (user !== undefined) userData = { ...userData, ...user };
        const result = relayEventInput(
          raw,
          rules,
          requestUrl,
          nowSeconds,
          userData,
          context.user_data.fbc,
          clicks.fbc,
        );
        if ('drop' in result) {
          counters.dropped[result.drop]++;
          // Counted alone, a custom event the page tracks without allowEvents listing it lost its
          // relayed copy with nothing said (the Pixel's still arrives, so it went unnoticed).
          tellDrop(result.drop, raw);
          continue;
        }
        if (result.timeCorrected) counters.timeCorrected++;
        counters.customDataKeysDropped += result.keysDropped;
        counters.userDataValuesDropped += valuesDropped;
        const eventContext = clicks.contextOf(result.clickPage);
        const tracked = client.track(
          result.input,
          eventContext === context ? trackOptions : { ...trackOptions, context: eventContext },
        );
        if (tracked.accepted) counters.tracked++;
        else counters.dropped.not_accepted++;
      } catch (error) {
        // `strict` clients throw on invalid events; the relay still answers 204.
        counters.dropped.error++;
        client.reportError(error, 'relay track');
      }
    }
    counters.accepted++;
    const cookies = own ? context.cookiesToSet.map((cookie) => cookie.header) : [];
    cookies.push(...clicks.cookies());
    return { status: 204, headers: { 'cache-control': 'no-store' }, cookies };
  };

  const handle = async (input: RelayInput<R>): Promise<RelayResponse> => {
    counters.requests++;
    try {
      return await handleInput(input);
    } catch (error) {
      // Never a 500: the browser ignores the answer anyway, and the failure is reported. A failed
      // request, not a dropped event: its events were never read (those are counted per event).
      client.reportError(error, 'relay');
      counters.failed++;
      return { status: 204, headers: { 'cache-control': 'no-store' }, cookies: [] };
    }
  };

  return {
    handle,
    async handleRequest(request, requestOptions = {}) {
      const input: RelayInput<R> = { request, body: request.body };
      if (requestOptions.appRequest !== undefined) input.appRequest = requestOptions.appRequest;
      if (requestOptions.remoteAddress !== undefined) {
        input.remoteAddress = requestOptions.remoteAddress;
      }
      if (requestOptions.waitUntil !== undefined) input.waitUntil = requestOptions.waitUntil;
      const answer = await handle(input);
      const headers = new Headers(answer.headers);
      for (const cookie of answer.cookies) headers.append('set-cookie', cookie);
      return new Response(answer.body ?? null, { status: answer.status, headers });
    },
    stats: () => ({
      requests: counters.requests,
      accepted: counters.accepted,
      refused: { ...counters.refused },
      failed: counters.failed,
      events: {
        received: counters.received,
        tracked: counters.tracked,
        dropped: { ...counters.dropped },
        timeCorrected: counters.timeCorrected,
      },
      customDataKeysDropped: counters.customDataKeysDropped,
      userDataIgnored: counters.userDataIgnored,
      userDataValuesDropped: counters.userDataValuesDropped,
    }),
    maxBodyBytes,
  };
}
