import type { TikTokEvent } from './event.js';

// `POST https://business-api.tiktok.com/open_api/v1.3/event/track/` with the `Access-Token`
// header and `{ event_source: 'web', event_source_id: <pixel code>, data: [...] }` ([EAPI] in
// sources.ts); `test_event_code` beside them routes the request to Events Manager's test events.
// The token is only ever a header: never in the URL (proxies and access logs keep URLs) and never
// in the body (a logged body would carry it).

/** TikTok's Events API 2.0 track endpoint. */
export const TIKTOK_EVENTS_URL = 'https://business-api.tiktok.com/open_api/v1.3/event/track/';

/** Events per request: up to 1,000 ([BATCH]). */
export const TIKTOK_MAX_EVENTS_PER_REQUEST = 1000;

/** What every request to one TikTok pixel shares. */
export interface TikTokEndpointOptions {
  /** The TikTok pixel code (`event_source_id`). */
  pixelCode: string;
  /** The Events API access token; sent only in the `Access-Token` header. */
  accessToken: string;
  /** Events Manager test code; omit in production. */
  testEventCode?: string | undefined;
  /** Another endpoint (a mock, a proxy); default {@link TIKTOK_EVENTS_URL}. */
  url?: string | undefined;
}

/**
 * The fixed parts of every request to one pixel, shaped like the core's Meta endpoint
 * (`prefix` + comma-joined events + `suffix`), so the core can encode batches from each event's
 * cached JSON without re-serializing. `headers` holds the token: never log it.
 */
export interface TikTokEnvelope {
  url: string;
  headers: Readonly<Record<string, string>>;
  /** `{"event_source":"web","event_source_id":…[,"test_event_code":…],"data":[`. */
  prefix: string;
  /** `]}`. */
  suffix: string;
}

// A pixel code is a short alphanumeric id (`C4ABCD…`, [EAPI]'s `event_source_id`); an Events API
// token is a long secret. Given the wrong way round, the token would become the stream's name in
// `stats()`, logs and hooks, and the request body: so the two are told apart at configuration, by
// shape, and no message ever quotes either value.
const PIXEL_CODE = /^[A-Za-z0-9]{4,40}$/;
const TOKEN_LIKE = /^[0-9a-f]{32,}$/;
// What an HTTP header value may hold (RFC 9110 §5.5, visible ASCII; no spaces inside a token).
const HEADER_SAFE = /^[\x21-\x7e]+$/;

function checkCredentials(
  pixelCode: unknown,
  accessToken: unknown,
): { pixelCode: string; accessToken: string } {
  if (typeof pixelCode !== 'string' || pixelCode.trim() === '') {
    throw new TypeError('TikTok pixelCode is required');
  }
  if (typeof accessToken !== 'string' || accessToken.trim() === '') {
    throw new TypeError('TikTok accessToken is required');
  }
  const code = pixelCode.trim();
  const token = accessToken.trim();
  if (code === token || TOKEN_LIKE.test(code)) {
    throw new TypeError(
      'TikTok pixelCode looks like an access token: are pixelCode and accessToken swapped?',
    );
  }
  if (!PIXEL_CODE.test(code)) {
    throw new TypeError(
      'TikTok pixelCode must be the pixel code from Events Manager: 4 to 40 letters and digits',
    );
  }
  if (/^\d+$/.test(code)) {
    throw new TypeError(
      "TikTok pixelCode is all digits, like a Meta pixel id: TikTok's pixel code has letters (C4…)",
    );
  }
  if (!HEADER_SAFE.test(token)) {
    throw new TypeError(
      'TikTok accessToken must be printable ASCII without spaces (it is sent as an HTTP header)',
    );
  }
  return { pixelCode: code, accessToken: token };
}

/**
 * The envelope of every request to one TikTok pixel. Throws a `TypeError` (at configuration time,
 * never per event, quoting neither value) when the pixel code or token is missing or malformed,
 * when they look swapped, or when the URL is not https/http.
 * @example tiktokEnvelope({ pixelCode: 'C4ABCD', accessToken: process.env.TIKTOK_ACCESS_TOKEN })
 */
export function tiktokEnvelope(options: TikTokEndpointOptions): TikTokEnvelope {
  return endpointEnvelope(options, 'url');
}

/**
 * {@link tiktokEnvelope}, its URL's messages naming the option the caller was given: `url` here,
 * `apiUrl` for `tiktok()`, whose users read "TikTok url must be an absolute URL" for an option
 * they never set.
 */
export function endpointEnvelope(
  options: TikTokEndpointOptions,
  urlName: 'url' | 'apiUrl',
): TikTokEnvelope {
  if (options === null || typeof options !== 'object') {
    throw new TypeError('TikTok options must be an object with pixelCode and accessToken');
  }
  const { pixelCode, accessToken } = checkCredentials(options.pixelCode, options.accessToken);
  const given: unknown = options.testEventCode;
  if (given !== undefined && given !== null && typeof given !== 'string') {
    // Ignored, it would send test traffic to the live pixel.
    throw new TypeError(`TikTok testEventCode must be a string, got ${typeof given}`);
  }
  const testEventCode = typeof given === 'string' && given.trim() !== '' ? given.trim() : undefined;
  // An empty or blank URL is none (`TIKTOK_EVENTS_URL=` in a .env file, passed on as
  // `process.env.TIKTOK_EVENTS_URL`), as the core reads an empty META_GRAPH_URL: the default.
  const givenUrl: unknown = options.url;
  const url =
    givenUrl === undefined ||
    givenUrl === null ||
    (typeof givenUrl === 'string' && givenUrl.trim() === '')
      ? TIKTOK_EVENTS_URL
      : typeof givenUrl === 'string'
        ? givenUrl
        : undefined;
  let parsed: URL | undefined;
  try {
    parsed = url === undefined ? undefined : new URL(url);
  } catch {
    parsed = undefined;
  }
  if (url === undefined || parsed === undefined) {
    throw new TypeError(`TikTok ${urlName} must be an absolute URL`);
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
    throw new TypeError(`TikTok ${urlName} must be http(s)`);
  }
  if (parsed.username !== '' || parsed.password !== '') {
    // Not echoed: it may be a secret. `fetch` refuses to send such a URL at all.
    throw new TypeError(`TikTok ${urlName} must not carry a user name or password`);
  }
  let prefix = `{"event_source":"web","event_source_id":${JSON.stringify(pixelCode)}`;
  if (testEventCode !== undefined) prefix += `,"test_event_code":${JSON.stringify(testEventCode)}`;
  prefix += ',"data":[';
  return {
    url,
    headers: {
      'content-type': 'application/json',
      accept: 'application/json',
      'access-token': accessToken,
    },
    prefix,
    suffix: ']}',
  };
}

/** One request, ready for `fetch(url, { method: 'POST', headers, body })`. */
export interface TikTokRequest {
  url: string;
  headers: Readonly<Record<string, string>>;
  body: string;
}

/**
 * The request carrying `events` to one pixel. Throws a `RangeError` for an empty batch or one over
 * {@link TIKTOK_MAX_EVENTS_PER_REQUEST}: splitting batches is the caller's job (the core's batcher).
 * @example const { url, headers, body } = tiktokRequest({ pixelCode, accessToken }, [event])
 */
export function tiktokRequest(
  options: TikTokEndpointOptions | TikTokEnvelope,
  events: readonly TikTokEvent[],
): TikTokRequest {
  if (events.length === 0) throw new RangeError('A TikTok request needs at least one event');
  if (events.length > TIKTOK_MAX_EVENTS_PER_REQUEST) {
    throw new RangeError(
      `A TikTok request holds at most ${TIKTOK_MAX_EVENTS_PER_REQUEST} events (got ${events.length})`,
    );
  }
  const envelope = 'prefix' in options ? options : tiktokEnvelope(options);
  const body =
    envelope.prefix + events.map((event) => JSON.stringify(event)).join(',') + envelope.suffix;
  return { url: envelope.url, headers: envelope.headers, body };
}
