import { EVENT_NAME_TOO_LONG, isEventNameTooLong } from '../event-name-limit.js';
import {
  invalid,
  isNonEmptyString,
  isRecord,
  type PathPart,
  required,
  type Violation,
} from '../field-checks.js';
import type { InvalidEvent } from '../validate-events.js';
import { checkTikTokProperties } from './validate-properties.js';
import { checkTikTokUser } from './validate-user.js';

// A whole Events API 2.0 request body, checked as TikTok documents it ([EAPI] in sources.ts):
// `event_source: "web"`, `event_source_id`, optional `test_event_code` ([TEST]), and `data`, 1 to
// 1,000 events ([BATCH]) of which one bad one fails the batch. Keys TikTok does not document are
// refused, with TikTok's name when the key is Meta's: that is how a builder that leaks Meta's
// shape, or the access token, into the body is caught.

/** An event of TikTok's `data` as it crossed the wire; fields beyond the checked ones kept as sent. */
export interface TikTokWireEvent {
  event: string;
  event_time: number;
  event_id?: string;
  user: Record<string, unknown>;
  page?: Record<string, unknown>;
  properties?: Record<string, unknown>;
  limited_data_use?: boolean;
  [field: string]: unknown;
}

/** Events per request ([BATCH]). */
export const TIKTOK_MAX_EVENTS = 1000;

/** How old an event may be, in days ([AGE], third-party and unverified). */
export const TIKTOK_MAX_EVENT_AGE_DAYS = 28;

/** The outcome for a request body. */
export type TikTokPayloadCheck =
  | { ok: true; pixelCode: string; events: TikTokWireEvent[] }
  | { ok: false; message: string; invalidEvent?: InvalidEvent };

const TOP_LEVEL = ['event_source', 'event_source_id', 'test_event_code', 'partner_name', 'data'];
const EVENT_KEYS = [
  'event',
  'event_time',
  'event_id',
  'user',
  'page',
  'properties',
  'limited_data_use',
];
/** Meta's event names a builder might leak, and what TikTok calls the same thing. */
const META_EVENT_KEYS: Readonly<Record<string, string>> = {
  event_name: "is Meta's name; TikTok's is event",
  user_data: "is Meta's name; TikTok's is user",
  custom_data: "is Meta's name; TikTok's is properties",
  event_source_url: "is Meta's name; TikTok's is page.url",
  referrer_url: "is Meta's name; TikTok's is page.referrer",
  action_source: "is Meta's; TikTok's event_source ('web') is a top-level field",
  data_processing_options: "is Meta's; TikTok's is limited_data_use (a boolean)",
  context: "is Events API 1.0's; 2.0 puts user and page in the event",
};
/** A pixel code: letters and digits (TikTok's look like `C4ABCD…`, 20 characters). */
const PIXEL_CODE = /^[A-Za-z0-9]+$/;
const SECONDS_PER_DAY = 86_400;

/** `data[3].user.email`: the path as the answer names it. */
export const tiktokPath = (path: readonly PathPart[]): string =>
  path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');

const isHttpUrl = (v: unknown): boolean => {
  if (typeof v !== 'string') return false;
  try {
    const url = new URL(v);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
};

/** Unix seconds, not milliseconds, not ahead of the clock, not older than [AGE]. */
const checkEventTime = (
  value: unknown,
  path: PathPart[],
  nowMs: number,
  maxFutureSeconds: number,
): Violation | undefined => {
  if (value === undefined || value === null) return required(path);
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
    return invalid(path, 'must be a Unix timestamp in whole seconds (a number)');
  }
  const now = Math.floor(nowMs / 1000);
  if (value > now + maxFutureSeconds) {
    return invalid(
      path,
      value > 1e11
        ? 'looks like milliseconds; send Unix time in seconds'
        : 'is in the future; send the time the event happened',
    );
  }
  if (now - value > TIKTOK_MAX_EVENT_AGE_DAYS * SECONDS_PER_DAY) {
    return invalid(path, `is more than ${TIKTOK_MAX_EVENT_AGE_DAYS} days in the past`);
  }
  return undefined;
};

const checkPage = (value: unknown, at: PathPart[]): Violation | undefined => {
  const path = [...at, 'page'];
  if (value === undefined || value === null) return undefined;
  if (!isRecord(value)) return invalid(path, 'must be an object');
  if (value.url === undefined || value.url === null) return required([...path, 'url']);
  if (!isHttpUrl(value.url)) return invalid([...path, 'url'], 'must be an absolute http(s) URL');
  if (value.referrer !== undefined && value.referrer !== null && !isHttpUrl(value.referrer)) {
    return invalid([...path, 'referrer'], 'must be an absolute http(s) URL');
  }
  return undefined;
};

const checkEvent = (
  event: unknown,
  index: number,
  nowMs: number,
  maxFutureSeconds: number,
): Violation | undefined => {
  const at: PathPart[] = ['data', index];
  if (!isRecord(event)) return invalid(at, 'must be an event object');
  for (const key of Object.keys(event)) {
    if (EVENT_KEYS.includes(key)) continue;
    return invalid(
      [...at, key],
      META_EVENT_KEYS[key] ?? 'is not a field of an Events API 2.0 web event',
    );
  }
  if (event.event === undefined || event.event === null) return required([...at, 'event']);
  if (!isNonEmptyString(event.event))
    return invalid([...at, 'event'], 'must be a non-empty string');
  if (isEventNameTooLong(event.event)) return invalid([...at, 'event'], EVENT_NAME_TOO_LONG);
  const time = checkEventTime(event.event_time, [...at, 'event_time'], nowMs, maxFutureSeconds);
  if (time) return time;
  // [EAPI] types event_id as a string; TikTok deduplicates on it ([DEDUP] in @capi-kit/tiktok).
  if (event.event_id !== undefined && !isNonEmptyString(event.event_id)) {
    return invalid([...at, 'event_id'], 'must be a non-empty string');
  }
  if (event.limited_data_use !== undefined && typeof event.limited_data_use !== 'boolean') {
    return invalid([...at, 'limited_data_use'], 'must be a boolean');
  }
  return (
    checkTikTokUser(event.user, at) ??
    checkPage(event.page, at) ??
    checkTikTokProperties(event.properties, at)
  );
};

/**
 * Checks a parsed request body. The answer names the first broken rule by path (`data[2].user.email`)
 * and never quotes the value, which may be personal data or a secret.
 */
export const validateTikTokPayload = (
  body: Record<string, unknown>,
  clock: { nowMs: number; maxFutureSeconds: number },
): TikTokPayloadCheck => {
  const reject = (violation: Violation): TikTokPayloadCheck => {
    const [first, index, ...inside] = violation.path;
    const message = `Invalid parameter ${tiktokPath(violation.path)}: it ${violation.reason}.`;
    return first === 'data' && typeof index === 'number' && inside.length > 0
      ? {
          ok: false,
          message,
          invalidEvent: { index, field: tiktokPath(inside), reason: violation.reason },
        }
      : first === 'data' && typeof index === 'number'
        ? { ok: false, message, invalidEvent: { index, field: '', reason: violation.reason } }
        : { ok: false, message };
  };
  for (const key of Object.keys(body)) {
    if (TOP_LEVEL.includes(key)) continue;
    return reject(
      invalid(
        [key],
        key === 'access_token'
          ? 'must not be in the body: the token goes only in the Access-Token header'
          : key === 'pixel_code'
            ? "is Events API 1.0's; 2.0 uses event_source: 'web' and event_source_id"
            : 'is not a field of an Events API 2.0 request',
      ),
    );
  }
  const source = body.event_source;
  if (source === undefined || source === null) return reject(required(['event_source']));
  if (source !== 'web') {
    return reject(
      invalid(['event_source'], "must be 'web' (the mock serves web events, the Pixel's)"),
    );
  }
  const pixelCode = body.event_source_id;
  if (pixelCode === undefined || pixelCode === null) return reject(required(['event_source_id']));
  if (typeof pixelCode !== 'string' || !PIXEL_CODE.test(pixelCode)) {
    return reject(invalid(['event_source_id'], 'must be a TikTok pixel code (letters and digits)'));
  }
  for (const key of ['test_event_code', 'partner_name'] as const) {
    if (body[key] !== undefined && !isNonEmptyString(body[key])) {
      return reject(invalid([key], 'must be a non-empty string'));
    }
  }
  const data = body.data;
  if (data === undefined || data === null) return reject(required(['data']));
  if (!Array.isArray(data)) return reject(invalid(['data'], 'must be a list of events'));
  if (data.length === 0) return reject(invalid(['data'], 'must contain at least one event'));
  if (data.length > TIKTOK_MAX_EVENTS) {
    return reject(
      invalid(['data'], `must contain at most ${TIKTOK_MAX_EVENTS} events (got ${data.length})`),
    );
  }
  for (const [index, event] of data.entries()) {
    const violation = checkEvent(event, index, clock.nowMs, clock.maxFutureSeconds);
    if (violation) return reject(violation);
  }
  return { ok: true, pixelCode, events: data as TikTokWireEvent[] };
};
