/**
 * Retry classification of a Graph API answer. Pure functions, no I/O: the table below is the
 * single source of truth and is exhaustively tested in test/delivery/classify.test.ts.
 *
 * Sources (see /work/shared/reference/capi.md §1):
 * - Graph error handling, codes 1/2/4/17/341/368/190/102/10/200–299/3:
 *   https://developers.facebook.com/docs/graph-api/guides/error-handling
 * - Marketing API error reference, 100, 100/33, 294, 613, 80003/80004, `is_transient`:
 *   https://developers.facebook.com/documentation/ads-commerce/marketing-api/error-reference
 * - Rate limiting and the `X-Business-Use-Case-Usage` header:
 *   https://developers.facebook.com/docs/marketing-api/overview/rate-limiting
 * - "Retry non-client errors (for example timeouts)":
 *   https://developers.facebook.com/documentation/ads-commerce/conversions-api/support
 */

import { looksPersonal, reportedPath } from './redact.js';

/** What the engine does with an answer: deliver, back off, pause the pixel, open the circuit, or bisect. */
export type ResponseClass = 'success' | 'transient' | 'throttled' | 'auth' | 'invalid';

/** Headers as `fetch` gives them (`Headers`) or as a plain object (tests, other transports). */
export type HeadersLike =
  | { get(name: string): string | null }
  | Readonly<Record<string, string | readonly string[] | undefined>>;

/** The fields of Meta's error object the engine acts on (`{"error":{…}}`). */
export interface GraphErrorInfo {
  /** Human-readable message from Meta; may echo request parameters, so redact before logging. */
  message?: string;
  /** `OAuthException`, `GraphMethodException`, … */
  type?: string;
  /** Graph error code, e.g. 100, 190, 613. */
  code?: number;
  /** `error_subcode`, e.g. 33 or 2804019. */
  subcode?: number;
  /** `is_transient` — a hint only: Meta does not define its semantics. */
  isTransient?: boolean;
  /** `error_user_title`. */
  userTitle?: string;
  /** `error_user_msg`. */
  userMessage?: string;
  /** `fbtrace_id`, quote it to Meta support. */
  fbtraceId?: string;
  /**
   * The fields Meta blamed (`error_data.blame_field_specs`), as paths: `data[0].user_data.em`. A
   * path that looks like customer information (an email used as a key) is hidden past its container.
   */
  blameFields?: string[];
}

/**
 * Throttling codes: one shared pause for the pixel, not counted as an attempt. Meta answers these
 * with HTTP 400, so the code must win over the status. 32 (page limit) is not in the CAPI docs and
 * is treated as throttling (unverified, capi.md §1).
 */
export const THROTTLE_CODES: ReadonlySet<number> = new Set([
  4, 17, 32, 341, 368, 613, 80003, 80004,
]);

/** Auth / permission codes: retrying cannot help until a human fixes the token or the grants. */
export const AUTH_CODES: ReadonlySet<number> = new Set([3, 10, 102, 190, 294]);

const APPSECRET_PROOF = /appsecret_proof/i;

/** Graph "temporary downtime" codes: back off and retry. */
export const TRANSIENT_CODES: ReadonlySet<number> = new Set([1, 2]);

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

const asNumber = (v: unknown): number | undefined => {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && /^-?\d+$/.test(v.trim())) return Number(v);
  return undefined;
};

const asString = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** Blamed fields kept, and segments per field: an answer's lists are not ours to trust. */
const MAX_BLAMED_FIELDS = 10;
const MAX_BLAMED_SEGMENTS = 12;
/** The event a blamed field's path starts in (`data[3].…`), index captured. */
const BLAMED_EVENT = /^data\[(\d+)\](?:\.|$)/;
/** A segment printed as is: a field name or an index, nothing that could forge a log line. */
const PLAIN_SEGMENT = /^[\w$-]{1,64}$/;

/** Graph gives some values as an object or as JSON text: the value read, `undefined` for text that is not JSON. */
const objectOrJsonText = (value: unknown): unknown => {
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value);
  } catch {
    return undefined;
  }
};

/**
 * `error_data.blame_field_specs`: each blamed field as a list of path segments
 * (`[["data", 0, "user_data", "em"]]`); Graph gives `error_data` as an object or as JSON text.
 * Marketing API error reference: https://developers.facebook.com/documentation/ads-commerce/marketing-api/error-reference
 */
const blamedFields = (errorData: unknown): string[] | undefined => {
  const data = objectOrJsonText(errorData);
  if (!isRecord(data) || !Array.isArray(data.blame_field_specs)) return undefined;
  const fields: string[] = [];
  for (const spec of data.blame_field_specs.slice(0, MAX_BLAMED_FIELDS)) {
    const segments: unknown[] = Array.isArray(spec) ? spec : [spec];
    let path = '';
    for (const segment of segments.slice(0, MAX_BLAMED_SEGMENTS)) {
      const text = typeof segment === 'number' ? String(segment) : segment;
      // A key that looks like customer information stays for reportedPath to hide, with the rest.
      const kept = typeof text === 'string' && (PLAIN_SEGMENT.test(text) || looksPersonal(text));
      if (!kept) path += path === '' ? '?' : '.?';
      else if (/^\d+$/.test(text) && path !== '') path += `[${text}]`;
      else path += path === '' ? text : `.${text}`;
    }
    if (segments.length > MAX_BLAMED_SEGMENTS) path += '.…';
    // `data[3].` names the event, not the customer: kept in front of a hidden key.
    const event = BLAMED_EVENT.exec(path)?.[0] ?? '';
    if (path !== '') fields.push(event + reportedPath(path.slice(event.length)));
  }
  return fields.length > 0 ? fields : undefined;
};

/** Reads Meta's `{"error":{…}}` body (object or JSON text); `undefined` when it is not Graph-shaped. */
export const parseGraphError = (body: unknown): GraphErrorInfo | undefined => {
  const value = objectOrJsonText(body);
  if (!isRecord(value) || !isRecord(value.error)) return undefined;
  const e = value.error;
  const info: GraphErrorInfo = {};
  const message = asString(e.message);
  if (message !== undefined) info.message = message;
  const type = asString(e.type);
  if (type !== undefined) info.type = type;
  const code = asNumber(e.code);
  if (code !== undefined) info.code = code;
  const subcode = asNumber(e.error_subcode);
  if (subcode !== undefined) info.subcode = subcode;
  if (typeof e.is_transient === 'boolean') info.isTransient = e.is_transient;
  const userTitle = asString(e.error_user_title);
  if (userTitle !== undefined) info.userTitle = userTitle;
  const userMessage = asString(e.error_user_msg);
  if (userMessage !== undefined) info.userMessage = userMessage;
  const fbtraceId = asString(e.fbtrace_id);
  if (fbtraceId !== undefined) info.fbtraceId = fbtraceId;
  const blameFields = blamedFields(e.error_data);
  if (blameFields !== undefined) info.blameFields = blameFields;
  return info;
};

/** Case-insensitive header read from either `Headers` or a plain object. */
export const readHeader = (headers: HeadersLike | undefined, name: string): string | undefined => {
  if (!headers) return undefined;
  if (typeof (headers as { get?: unknown }).get === 'function') {
    return (headers as { get(n: string): string | null }).get(name) ?? undefined;
  }
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(headers as Record<string, unknown>)) {
    if (key.toLowerCase() !== wanted) continue;
    if (typeof value === 'string') return value;
    if (Array.isArray(value) && typeof value[0] === 'string') return value[0];
  }
  return undefined;
};

/**
 * `Retry-After` in milliseconds from `now`: delta-seconds or an HTTP date (RFC 9110 §10.2.3).
 * `undefined` when absent or unparsable; never negative.
 */
export const parseRetryAfter = (value: string | undefined, nowMs: number): number | undefined => {
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  if (trimmed === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  // An HTTP date always has a weekday/month name; this keeps `Date.parse('-5')` (a year) out.
  if (!/[a-z]/i.test(trimmed)) return undefined;
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - nowMs);
};

/**
 * Longest `estimated_time_to_regain_access` (minutes) in Meta's usage headers, in ms. Meta's
 * rate-limiting page documents it in `X-Business-Use-Case-Usage`; `X-Ad-Account-Usage` and
 * `X-App-Usage` carry similar fields.
 */
export const parseRegainAccess = (headers: HeadersLike | undefined): number | undefined => {
  let best: number | undefined;
  const visit = (v: unknown): void => {
    if (Array.isArray(v)) {
      for (const item of v) visit(item);
      return;
    }
    if (!isRecord(v)) return;
    for (const [key, inner] of Object.entries(v)) {
      if (key === 'estimated_time_to_regain_access') {
        const minutes = asNumber(inner);
        if (minutes !== undefined && minutes > 0) best = Math.max(best ?? 0, minutes * 60_000);
      } else if (typeof inner === 'object') {
        visit(inner);
      }
    }
  };
  for (const name of ['x-business-use-case-usage', 'x-ad-account-usage', 'x-app-usage']) {
    const raw = readHeader(headers, name);
    if (raw === undefined) continue;
    try {
      visit(JSON.parse(raw));
    } catch {
      // A malformed usage header is advisory; ignore it.
    }
  }
  return best;
};

/** Server-requested wait in ms: `Retry-After` first, then Meta's `estimated_time_to_regain_access`. */
export const retryDelayFromHeaders = (
  headers: HeadersLike | undefined,
  nowMs: number,
): number | undefined =>
  parseRetryAfter(readHeader(headers, 'retry-after'), nowMs) ?? parseRegainAccess(headers);

/**
 * True when a 2xx body is Meta's acknowledgement of exactly `eventsSent` events:
 * `{"events_received": n, …}` ([UA] "Response": `events_received`, `messages`, `fbtrace_id`). A
 * captive portal's HTML page, an empty or truncated body, `{}` from a misrouted proxy, or a short
 * count are not deliveries, whatever their status says.
 */
export const isMetaAcknowledgement = (body: unknown, eventsSent: number): boolean =>
  isRecord(body) && body.events_received === eventsSent;

// Meta names the offending event in its parameter errors, e.g. "The parameter
// $['data'][0]['event_time'] is required." (capi.md §1, 100/2804019).
const EVENT_INDEX = /(?:\$\[\s*['"]data['"]\s*\]|\bdata)\s*\[\s*(\d+)\s*\]/;

/**
 * The index in `data` of the event a rejection names (Meta's `$['data'][3][…]` notation in the
 * message, `error_user_title` or `error_user_msg`, or a blamed field's path `data[3].…`), when it
 * names one inside the batch sent.
 */
export const rejectedEventIndex = (
  error: GraphErrorInfo | undefined,
  eventsSent: number,
): number | undefined => {
  if (!error) return undefined;
  for (const text of [error.userMessage, error.message, error.userTitle]) {
    const match = text === undefined ? null : EVENT_INDEX.exec(text);
    if (!match) continue;
    const index = Number(match[1]);
    if (Number.isSafeInteger(index) && index < eventsSent) return index;
  }
  // Or the first blamed field's path (`error_data.blame_field_specs`: `[["data", 3, …]]`).
  for (const field of error.blameFields ?? []) {
    const match = BLAMED_EVENT.exec(field);
    if (!match) continue;
    const index = Number(match[1]);
    if (Number.isSafeInteger(index) && index < eventsSent) return index;
  }
  return undefined;
};

/**
 * Classifies one answer from `POST /{version}/{pixel}/events`. `status` 0 means no answer at all
 * (network error, timeout) and is transient. The Graph error code wins over the HTTP status
 * because Meta answers throttling with 400 and permission errors with 400 or 403.
 *
 * | Condition (first match wins)                                   | Class       |
 * | -------------------------------------------------------------- | ----------- |
 * | status 0 (network error, reset, timeout)                       | transient   |
 * | 2xx, no `error`, and (given `eventsSent`) Meta's full count    | success     |
 * | 2xx without Meta's acknowledgement (HTML, empty, `{}`, short)  | transient   |
 * | code 4, 17, 32, 341, 368, 613, 80003, 80004                    | throttled   |
 * | code 190, 102, 10, 3, 294, 200–299; code 100 with subcode 33   | auth        |
 * | or about `appsecret_proof`                                     |             |
 * | code 1, 2; or `is_transient: true`                             | transient   |
 * | code 100 (any other subcode)                                   | invalid     |
 * | HTTP 429                                                       | throttled   |
 * | usage header with `estimated_time_to_regain_access` > 0        | throttled   |
 * | HTTP 401, 403                                                  | auth        |
 * | HTTP 413                                                       | invalid     |
 * | anything else (408, 5xx, other 4xx: unknown codes such as 2635 | transient   |
 * | for a deprecated version, HTML or unparsable bodies; 1xx, 3xx) |             |
 *
 * Only code 100 and 413 say something about the events themselves and lead to bisection; every
 * other rejection concerns the request as a whole, and splitting it would only multiply it.
 */
export const classifyResponse = (
  status: number,
  body: unknown,
  headers?: HeadersLike,
  eventsSent?: number,
): ResponseClass => {
  if (status === 0) return 'transient';
  const error = parseGraphError(body);
  if (status >= 200 && status < 300 && !error) {
    return eventsSent === undefined || isMetaAcknowledgement(body, eventsSent)
      ? 'success'
      : 'transient';
  }
  const code = error?.code;
  if (code !== undefined) {
    if (THROTTLE_CODES.has(code)) return 'throttled';
    if (AUTH_CODES.has(code) || (code >= 200 && code <= 299)) return 'auth';
    if (code === 100 && error?.subcode === 33) return 'auth';
    // A wrong or missing app secret is a code 100 about the request's credentials ("Invalid
    // appsecret_proof provided in the API argument", "API calls from the server require an
    // appsecret_proof argument": Graph API, Securing Requests,
    // https://developers.facebook.com/docs/graph-api/security): no event is at fault.
    if (code === 100 && APPSECRET_PROOF.test(error?.message ?? '')) return 'auth';
    if (TRANSIENT_CODES.has(code)) return 'transient';
  }
  if (error?.isTransient === true) return 'transient';
  if (code === 100) return 'invalid';
  if (status === 429) return 'throttled';
  if (status >= 400 && status < 500 && parseRegainAccess(headers) !== undefined) return 'throttled';
  if (status === 401 || status === 403) return 'auth';
  if (status === 413) return 'invalid';
  // 408, 5xx, a 4xx that is not Meta's verdict on the events (unknown code, HTML page), a 2xx
  // carrying an unknown error, an unexpected 1xx/3xx: the request failed as a whole; retry it.
  return 'transient';
};
