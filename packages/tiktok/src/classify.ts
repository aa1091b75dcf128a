import { type HeadersLike, parseRetryAfter, type ResponseClass } from '@capi-kit/core';

// TikTok's Business API answers HTTP 200 with an envelope `{ code, message, request_id, data }`
// whatever happened; `code: 0` is success and the code says the rest ([CODES] in sources.ts):
//
// | condition (first match wins)                                       | class     |
// | ------------------------------------------------------------------ | --------- |
// | status 0 (network error, reset, timeout)                           | transient |
// | TikTok envelope, code 0, 2xx                                       | success   |
// | code 40100 whose message names the token or authentication         | auth      |
// | code 40100 (too many requests)                                     | throttled |
// | code 40001 (no permission), 40007 (object, e.g. the pixel, not     | auth      |
// | found), 40101–40105 (access token missing, expired, invalid)       |           |
// | code 40002 naming a request field (`event_source_id`,              | auth      |
// | `test_event_code`, `event_source`, `pixel_code`) and no event      |           |
// | (`data[…]`): the request itself is wrong, which no split can fix   |           |
// | code 40002 (parameters: an event is at fault)                      | invalid   |
// | any other code: 5xxxx (TikTok internal errors), and every code     | transient |
// | [CODES] does not name, in the 4xxxx range too                      |           |
// | no envelope (nor a code outside TikTok's five digits): HTTP 429    | throttled |
// | no envelope: HTTP 401, 403                                         | auth      |
// | no envelope: HTTP 413                                              | invalid   |
// | no envelope: anything else (a 2xx proxy page, 5xx, HTML, 3xx)      | transient |
//
// The five classes are the core's (`ResponseClass`), so the shared engine reacts to TikTok as it
// does to Meta: back off, pause the stream, open the circuit, or split the batch. Only `invalid`
// splits: TikTok fails the whole batch for one bad event ([BATCH]).
//
// A code TikTok's table does not name is `transient`, whatever its range: TikTok's code table is
// not in /work/shared/reference/destinations.md (it lists no codes) nor in this package's sources,
// which name five ([CODES]; third-party pages even disagree on those). Only that class is safe
// both ways. As `invalid`, the batch was split and every event dead-lettered on the spot, with no
// retry, had the code meant "busy"; as `auth` (which every 401xx was), the stream stopped and
// probed for good, its events held until the queue filled, had the code meant a bad event. As
// `transient` the events are retried with backoff and, should the code persist, dead-lettered once
// they run out of `retry.maxAttempts`: neither lost at the first answer nor retried forever, and
// the destination says so once per code (`isKnownTikTokCode`), at `warn`, lest a code that means
// the request is wrong read like an outage until the events are dead-lettered. The
// core reads an unknown Graph code the same way (core delivery/classify.ts). 40101–40104 beside
// [CODES]'s 40105 are this package's reading of TikTok's token codes, unverified. 40105's
// message, "Access token is incorrect or has been revoked", is also quoted from a Business API
// answer in https://www.volcengine.com/article/1422075 . For 40100, read both ways by
// third-party pages, see TOKEN_MESSAGE below: TikTok's own code table
// (business-api.tiktok.com/portal/docs) was not found.

// 40100 is the rate limit in [CODES] (SleekFlow: "You've hit the rate limit for this API"), and
// TikTok's own QPS answers quoted by integrators read "App … reaches the QPS limit"; adskull.io
// and theautomationengine.com read the same code as an invalid token or a failed authentication.
// /work/shared/reference/destinations.md lists no codes and sends readers to TikTok's own docs,
// whose code table is not in the corpus. So the message decides: one that names the access token
// or authentication opens the circuit, as Meta's code 190 does (events kept, one request, the
// auth hook told), since as `throttled` a revoked token was paused and retried until every event
// was dead-lettered, with no word about the token; any other 40100 is the rate limit.
const TOKEN_MESSAGE = /access[\s_-]?token|authenticat|unauthori[sz]ed/i;

/** TikTok's rate-limit code. */
export const TIKTOK_THROTTLE_CODE = 40100;

// TikTok's "invalid parameters" code ([CODES]): the only one that blames an event.
const TIKTOK_PARAMETER_CODE = 40002;

/** What {@link classifyTikTokResponse} found. */
export interface TikTokVerdict {
  /** What the delivery engine does with the answer. */
  class: ResponseClass;
  /** TikTok's `code`, when the body was TikTok's envelope. */
  code?: number;
  /** TikTok's `message`; may echo request values, so redact before logging. */
  message?: string;
  /** TikTok's `request_id`, to quote to TikTok support. */
  requestId?: string;
  /** Server-requested wait in ms (`Retry-After`). */
  retryAfterMs?: number;
}

/** TikTok's answer envelope, when `body` (object or JSON text) is one. */
export interface TikTokEnvelopeBody {
  code: number;
  message?: string;
  request_id?: string;
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Reads `{ code, message, request_id }`; `undefined` when the body is not TikTok's envelope. */
export function parseTikTokBody(body: unknown): TikTokEnvelopeBody | undefined {
  let value = body;
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value);
    } catch {
      return undefined;
    }
  }
  if (!isRecord(value)) return undefined;
  const code =
    typeof value.code === 'number'
      ? value.code
      : typeof value.code === 'string' && /^\d+$/.test(value.code)
        ? Number(value.code)
        : undefined;
  if (code === undefined || !Number.isSafeInteger(code)) return undefined;
  // TikTok's codes are 0 and five-digit numbers ([CODES]). A gateway's or proxy's JSON error page
  // that echoes its HTTP status (`{"code":429,"message":"Too Many Requests"}`) is not TikTok's
  // answer: read as one, a 429 or 401 became `transient` and spent the events' retries until they
  // were dead-lettered, instead of pausing the stream or opening its circuit with the events kept.
  if (code !== 0 && code < 10_000) return undefined;
  const out: TikTokEnvelopeBody = { code };
  if (typeof value.message === 'string') out.message = value.message;
  if (typeof value.request_id === 'string') out.request_id = value.request_id;
  return out;
}

// A parameter error about the request rather than one of its events: splitting the batch would
// send every event alone (2n - 1 requests for n events) to have each refused the same way, and
// drop them all. As `auth`, the stream stops and keeps its events until the configuration is fixed.
const REQUEST_FIELD = /\b(event_source_id|event_source|test_event_code|pixel_code)\b/;
const EVENT_FIELD = /\bdata\s*[[.]/;

/**
 * Whether TikTok's table ([CODES], table above) names `code`, or it is one of TikTok's internal
 * errors (5xxxx), transient by what they are. Any other is retried as transient for want of
 * knowing better, which the destination says once per code.
 */
export const isKnownTikTokCode = (code: number): boolean =>
  code === 0 ||
  code === TIKTOK_THROTTLE_CODE ||
  code === TIKTOK_PARAMETER_CODE ||
  code === 40001 ||
  code === 40007 ||
  (code >= 40101 && code <= 40105) ||
  (code >= 50_000 && code <= 59_999);

function classOfCode(code: number, status: number, message: string | undefined): ResponseClass {
  if (code === 0) return status >= 200 && status < 300 ? 'success' : 'transient';
  if (code === TIKTOK_THROTTLE_CODE) {
    return message !== undefined && TOKEN_MESSAGE.test(message) ? 'auth' : 'throttled';
  }
  if (code === 40001 || code === 40007 || (code >= 40101 && code <= 40105)) return 'auth';
  if (code === TIKTOK_PARAMETER_CODE) {
    const aboutRequest =
      message !== undefined && REQUEST_FIELD.test(message) && !EVENT_FIELD.test(message);
    return aboutRequest ? 'auth' : 'invalid';
  }
  // Unknown (the table's last rows): retried with backoff until retry.maxAttempts.
  return 'transient';
}

function classOfStatus(status: number): ResponseClass {
  if (status === 429) return 'throttled';
  if (status === 401 || status === 403) return 'auth';
  if (status === 413) return 'invalid';
  return 'transient';
}

function readHeader(headers: HeadersLike | undefined, name: string): string | undefined {
  if (!headers) return undefined;
  if (typeof (headers as { get?: unknown }).get === 'function') {
    return (headers as { get(n: string): string | null }).get(name) ?? undefined;
  }
  for (const [key, value] of Object.entries(headers as Record<string, unknown>)) {
    if (key.toLowerCase() !== name) continue;
    if (typeof value === 'string') return value;
    if (Array.isArray(value) && typeof value[0] === 'string') return value[0];
  }
  return undefined;
}

/**
 * Classifies one answer from the track endpoint (table above). `status` 0 means no answer. Pure.
 * @example classifyTikTokResponse({ status: 200, body: { code: 40100, message: 'Too many requests' } }).class // 'throttled'
 */
export function classifyTikTokResponse(
  answer: { status: number; body?: unknown; headers?: HeadersLike | undefined },
  nowMs: number = Date.now(),
): TikTokVerdict {
  const { status } = answer;
  if (status === 0) return { class: 'transient' };
  const envelope = parseTikTokBody(answer.body);
  const verdict: TikTokVerdict = {
    class:
      envelope === undefined
        ? classOfStatus(status)
        : classOfCode(envelope.code, status, envelope.message),
  };
  if (envelope !== undefined) {
    verdict.code = envelope.code;
    if (envelope.message !== undefined) verdict.message = envelope.message;
    if (envelope.request_id !== undefined) verdict.requestId = envelope.request_id;
  }
  if (verdict.class !== 'success') {
    const wait = parseRetryAfter(readHeader(answer.headers, 'retry-after'), nowMs);
    if (wait !== undefined) verdict.retryAfterMs = wait;
  }
  return verdict;
}
