import {
  type EventName,
  type Issue,
  type ServerEventInput,
  withoutEmailQuery,
} from '@capi-kit/core';
import type { TikTokContext } from './context.js';
import { tiktokEventName } from './event-names.js';
import { type TikTokProperties, toTikTokProperties } from './properties.js';
import { normalizeTikTokUser, type TikTokUser } from './user.js';

// One item of TikTok's `data` array ([EAPI] in sources.ts): `event`, `event_time` (Unix seconds),
// `event_id` (deduplicated with the TikTok Pixel's event ID within 48 hours, [DEDUP]), `user`,
// `properties`, `page` (`url`, `referrer`) and `limited_data_use`. Built from the same Meta-named
// input `track()` takes, after the request context is merged, with the `event_id` the core fixed
// for every destination, so the Meta and TikTok copies of one event share it.

/** TikTok's `data[].page` object. */
export interface TikTokPage {
  url?: string;
  referrer?: string;
}

/** One event of TikTok's `data` array, as sent. */
export interface TikTokEvent {
  /** TikTok event name (standard or custom), see `TIKTOK_EVENT_NAMES`. */
  event: string;
  /** Unix time in seconds. */
  event_time: number;
  /** Deduplication ID shared with the TikTok Pixel (and with the Meta copy of the event). */
  event_id: string;
  user: TikTokUser;
  properties?: TikTokProperties;
  page?: TikTokPage;
  /** Limited data use (from Meta's `data_processing_options: ['LDU']`). */
  limited_data_use?: boolean;
}

/** Options of {@link toTikTokEvent}. */
export interface ToTikTokEventOptions {
  /** The event's ID, fixed once for every destination. */
  eventId: string;
  /** `ttclid` and `ttp` of the request (`readTikTokContext`). */
  context?: TikTokContext | undefined;
  /** Event-name overrides, see `tiktokEventName`. */
  eventNames?: Readonly<Record<string, string>> | undefined;
  /** Clock in milliseconds for a missing `event_time`; default `Date.now`. */
  now?: (() => number) | undefined;
  /** Country for national phone numbers when `user_data.country` is absent (the client's `defaultCountry`). */
  defaultCountry?: string | undefined;
}

/** What {@link toTikTokEvent} returns: the event, or `undefined` when an issue is an error. */
export interface TikTokEventResult {
  event: TikTokEvent | undefined;
  issues: Issue[];
}

// Above this a number is read as milliseconds (year 5138 in seconds), as the core does for Meta.
const MS_THRESHOLD = 1e11;
/** Clock skew allowed into the future, in seconds: the core's rule for Meta, applied to TikTok too. */
const MAX_FUTURE_SECONDS = 300;

// RFC 3986 §2's characters (unreserved, reserved, `%` escapes), `[` `]` only around an IPv6 host.
// `URL.href` escapes spaces, quotes, `<>` and all non-ASCII (an IDN host becomes punycode), as the
// TikTok Pixel's `location.href` is, but keeps `|`, `[]`, `\\` and, in a query, `^{}\``, and a `%`
// that starts no escape (`/100%`): characters a strict URI parser refuses, and TikTok fails the
// whole batch for one bad event ([BATCH] in sources.ts). Which URLs TikTok takes is not written
// down (/work/shared/reference/destinations.md names `page` only), so only a valid URI is sent.
// Meta's copy carries the URL as given (core's event/urls.ts checks only that it parses).
const NOT_IN_URI = /[^A-Za-z0-9\-._~:/?#@!$&'()*+,;=%]|%(?![0-9A-Fa-f]{2})/g;
const NOT_IN_HOST = /[^A-Za-z0-9\-._~:!$&'()*+,;=%[\]]|%(?![0-9A-Fa-f]{2})/g;
const escapeChar = (c: string): string =>
  `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`;

/**
 * An absolute http(s) URL, as TikTok's `page.url`/`page.referrer` must be ([EAPI]), serialized
 * (`URL.href`) and percent-encoded to RFC 3986's characters (`?q=red shoes` → `?q=red%20shoes`),
 * without a user name or password (the core removes them for Meta too; browsers strip them from
 * every referrer they send, https://w3c.github.io/webappsec-referrer-policy/#strip-url); else
 * `undefined`.
 */
function httpUrl(value: unknown): { url: string; credentialsRemoved: boolean } | undefined {
  if (typeof value !== 'string' || value === '') return undefined;
  let parsed: URL;
  try {
    parsed = new URL(value); // not URL.parse: Node 22.0 lacks it
  } catch {
    return undefined;
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return undefined;
  // `href` without its user name and password; every part ASCII, so each character escaped is one byte.
  const host = parsed.host.replace(NOT_IN_HOST, escapeChar);
  const rest = `${parsed.pathname}${parsed.search}${parsed.hash}`.replace(NOT_IN_URI, escapeChar);
  return {
    url: `${parsed.protocol}//${host}${rest}`,
    credentialsRemoved: parsed.username !== '' || parsed.password !== '',
  };
}

function eventTimeOf(value: unknown, now: () => number): number | undefined {
  if (value === undefined || value === null) return Math.floor(now() / 1000);
  const ms =
    value instanceof Date
      ? value.getTime()
      : typeof value === 'number'
        ? value > MS_THRESHOLD
          ? value
          : value * 1000
        : Number.NaN;
  return Number.isFinite(ms) && ms > 0 ? Math.floor(ms / 1000) : undefined;
}

const error = (path: string, code: string, message: string): Issue => ({
  path,
  code,
  message,
  severity: 'error',
});

/**
 * Whether the caller asked for Limited Data Use: Meta's `data_processing_options`, `['LDU']` or `[]`
 * (https://developers.facebook.com/documentation/ads-commerce/conversions-api/parameters/server-event),
 * becomes TikTok's per-event `limited_data_use` ([LDU] in sources.ts). Anything else (`['ldu']`, a
 * lone string) is an error, as Meta's build makes it: the caller's consent setting cannot be read,
 * and TikTok's copy sent without `limited_data_use` would carry less protection than was asked for.
 */
function limitedDataUseOf(value: unknown, issues: Issue[]): boolean {
  if (value === undefined || value === null) return false;
  if (Array.isArray(value) && value.length === 0) return false;
  if (Array.isArray(value) && value.length === 1 && value[0] === 'LDU') return true;
  issues.push(
    error(
      'data_processing_options',
      'invalid_data_processing_options',
      "Must be [] (no Limited Data Use) or ['LDU']; not sent to TikTok without knowing which.",
    ),
  );
  return false;
}

/**
 * A Meta-named event (as `track()` takes it, context merged) → one TikTok Events API event.
 * Pure and synchronous; never throws on plain data (a throwing getter is the caller's: the core
 * reads `track()`'s input once, guarded, before any destination sees it). Errors (no name, an
 * unreadable time, a non-website `action_source`) give no event; everything else TikTok cannot use
 * is a warning. Typed by event name like `track()`: a literal `'Purchase'` needs
 * `custom_data.value` and `currency`.
 * @example toTikTokEvent({ event_name: 'Purchase', custom_data: { value: 10, currency: 'USD' } }, { eventId: 'order-1' })
 */
export function toTikTokEvent<Name extends EventName>(
  input: ServerEventInput<Name>,
  options: ToTikTokEventOptions,
): TikTokEventResult {
  const issues: Issue[] = [];
  const name = input.event_name;
  if (typeof name !== 'string' || name.trim() === '') {
    issues.push(error('event_name', 'missing_event_name', 'An event needs a name.'));
  }
  if (typeof options.eventId !== 'string' || options.eventId === '') {
    issues.push(
      error(
        'event_id',
        'missing_event_id',
        'TikTok deduplicates on event_id; it is required here.',
      ),
    );
  }
  const now = options.now ?? Date.now;
  const eventTime = eventTimeOf(input.event_time, now);
  if (eventTime !== undefined && eventTime > Math.floor(now() / 1000) + MAX_FUTURE_SECONDS) {
    issues.push(
      error(
        'event_time',
        'event_time_in_future',
        'More than 5 minutes in the future; TikTok refuses events from the future.',
      ),
    );
  } else if (eventTime === undefined) {
    issues.push(
      error(
        'event_time',
        'invalid_event_time',
        'event_time must be Unix seconds, milliseconds or a Date.',
      ),
    );
  }
  // Events API 2.0 takes web, app and offline events with different `event_source`s; only web
  // events (Meta's `website`) are built here (docs/destinations.md, "Not built yet"). `null` is
  // Meta's default, `website`, as the core's build reads it (`action_source ?? 'website'`).
  const actionSource: unknown = input.action_source;
  if (actionSource !== undefined && actionSource !== null && actionSource !== 'website') {
    issues.push(
      error(
        'action_source',
        'tiktok_action_source',
        "Only 'website' events are sent to TikTok for now.",
      ),
    );
  }
  const limitedDataUse = limitedDataUseOf(input.data_processing_options, issues);
  const { user, issues: userIssues } = normalizeTikTokUser(
    input.user_data,
    options.context,
    options.defaultCountry,
  );
  issues.push(...userIssues);
  const { properties, issues: propertyIssues } = toTikTokProperties(input.custom_data);
  issues.push(...propertyIssues);
  if (issues.some((issue) => issue.severity === 'error')) return { event: undefined, issues };
  const event: TikTokEvent = {
    event: tiktokEventName((name as string).trim(), options.eventNames),
    event_time: eventTime as number,
    event_id: options.eventId,
    user,
  };
  if (properties !== undefined) event.properties = properties;
  // TikTok's `page` needs an absolute `url` when it is sent at all; a relative or non-http URL is
  // left out (a warning), never sent to fail the batch it travels in.
  const pageUrl = httpUrl(input.event_source_url);
  const referrer = httpUrl(input.referrer_url);
  for (const [key, value, kept] of [
    ['event_source_url', input.event_source_url, pageUrl],
    ['referrer_url', input.referrer_url, referrer],
  ] as const) {
    if (value !== undefined && value !== null && value !== '' && kept === undefined) {
      issues.push({
        path: key,
        code: 'tiktok_page_url',
        message: 'Not an absolute http(s) URL; not sent to TikTok.',
        severity: 'warning',
      });
    } else if (kept?.credentialsRemoved === true) {
      issues.push({
        path: key,
        code: 'url_credentials_removed',
        message:
          'Carried a user name or password (user:password@host); removed, the rest of the URL sent.',
        severity: 'warning',
      });
    }
  }
  if (pageUrl !== undefined) {
    // As the Meta copy is sent: an email address in the query is removed and reported.
    const url = withoutEmailQuery(pageUrl.url, 'event_source_url', issues);
    event.page =
      referrer === undefined
        ? { url }
        : { url, referrer: withoutEmailQuery(referrer.url, 'referrer_url', issues) };
  }
  if (limitedDataUse) event.limited_data_use = true;
  return { event, issues };
}
