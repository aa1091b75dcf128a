import { hashUserData } from '../user-data/hash-user-data.js';
import { isUserDataTooBroad } from '../user-data/match-keys.js';
import type { DateOrder, UserData } from '../user-data/types.js';
import { type ActionSource, isActionSource } from './action-source.js';
import { normalizeAppData } from './app-data.js';
import { normalizeCustomData } from './custom-data.js';
import { applyDataProcessingOptions } from './data-processing-options.js';
import { newEventId } from './event-id.js';
import { checkEventTimeWindow, toUnixSeconds } from './event-time.js';
import { CapiValidationError, hasErrors, type Issue } from './issues.js';
import { normalizeOriginalEventData } from './original-event-data.js';
import { type EventName, nearestStandardEvent } from './standard-events.js';
import type { ServerEvent, ServerEventInput } from './types.js';
import { isAbsoluteUrl, isHttpUrl, withoutCredentials, withoutEmailQuery } from './urls.js';

// Rules implemented here, by source:
// - required fields, action_source values, website needs event_source_url + client_user_agent:
//   https://developers.facebook.com/documentation/ads-commerce/conversions-api/parameters/server-event [SE]
//   https://developers.facebook.com/documentation/ads-commerce/conversions-api/best-practices [BP]
// - at least one user_data parameter; too-broad combinations rejected:
//   https://developers.facebook.com/documentation/ads-commerce/conversions-api/parameters/customer-information-parameters [CIP]
// One invalid event makes Meta reject its whole batch, so everything Meta would refuse is an error
// here and the event is withheld; problems Meta tolerates (a dropped bad email) are warnings.

/** Options of {@link buildEvent}. */
export interface BuildEventOptions {
  /** Millisecond clock, for the default `event_time` and the time window; default `Date.now`. */
  now?: (() => number) | undefined;
  /** Country (ISO code or name) for national phone numbers when `user_data.country` is absent. */
  defaultCountry?: string | undefined;
  /** Day/month order for year-last dates of birth that read both ways (`05/06/1990`); unset, they are reported. */
  dateOrder?: DateOrder | undefined;
  /** Throw one {@link CapiValidationError} listing every issue when the event is rejected. */
  strict?: boolean | undefined;
}

/** What {@link buildEvent} returns: the wire event, or `undefined` when any issue is an error. */
export interface BuildEventResult {
  /** The event to send, or `undefined` if an error-severity issue was found. */
  event: ServerEvent | undefined;
  /** Every problem found, errors and warnings; none contains customer data. */
  issues: Issue[];
}

const EVENT_KEYS: ReadonlySet<string> = new Set([
  'event_name',
  'event_time',
  'event_id',
  'action_source',
  'event_source_url',
  'referrer_url',
  'opt_out',
  'user_data',
  'custom_data',
  'app_data',
  'original_event_data',
  'messaging_channel',
  'data_processing_options',
  'data_processing_options_country',
  'data_processing_options_state',
]);

function error(issues: Issue[], path: string, code: string, message: string): void {
  issues.push({ path, code, message, severity: 'error' });
}

function warning(issues: Issue[], path: string, code: string, message: string): void {
  issues.push({ path, code, message, severity: 'warning' });
}

/**
 * `url` (valid) as sent: without a user name or password in it, which are reported (by the field,
 * never the text) and never reach Meta. See {@link withoutCredentials}.
 */
function sendableUrl(url: string, path: string, issues: Issue[]): string {
  const sendable = withoutCredentials(url);
  if (sendable !== url) {
    warning(
      issues,
      path,
      'url_credentials_removed',
      'Carried a user name or password (user:password@host); removed, the rest of the URL sent.',
    );
  }
  return withoutEmailQuery(sendable, path, issues);
}

function checkUnknownKeys(source: Readonly<Record<string, unknown>>, issues: Issue[]): void {
  // `Object.keys`, not `for…in` + `Object.hasOwn`: `for…in` also enumerates the prototype chain,
  // which runs the traps of a Proxy there (or this object's `getPrototypeOf` trap) and turned an
  // event Object.keys reads fine into an `unreadable_value` drop; and on Node 26 it was no faster.
  for (const key of Object.keys(source)) {
    if (EVENT_KEYS.has(key) || source[key] === undefined) continue;
    warning(
      issues,
      key,
      'unknown_event_field',
      key === 'test_event_code'
        ? 'test_event_code belongs to the request, not the event (set it on the client); dropped.'
        : 'Not a documented server event parameter; dropped.',
    );
  }
}

function eventName(value: unknown, issues: Issue[]): string {
  if (typeof value !== 'string' || value.trim() === '') {
    error(issues, 'event_name', 'missing_event_name', 'event_name must be a non-empty string.');
    return '';
  }
  const standard = nearestStandardEvent(value);
  if (standard !== undefined) {
    warning(
      issues,
      'event_name',
      'nonstandard_event_name',
      `Not a standard event; did you mean ${standard}? Sent as a custom event (Meta matches names exactly), so it neither optimizes as ${standard} nor deduplicates with a Pixel ${standard}.`,
    );
  }
  return value;
}

/**
 * A missing value written into the id's text (`${order.id}`, `order-${undefined}`): JavaScript's
 * words for it, whole or as a separated part.
 */
const PLACEHOLDER_IN_ID = /(?:^|[-_:./# ])(undefined|null|NaN|\[object Object\])(?=$|[-_:./# ])/;

function eventId(value: unknown, issues: Issue[]): string {
  if (value === undefined || value === null) return newEventId();
  if (typeof value === 'string' && value.trim() !== '') {
    const placeholder = PLACEHOLDER_IN_ID.exec(value)?.[1];
    if (placeholder !== undefined) {
      // Every such event shares one id, and Meta keeps the first per event_name + event_id within
      // 48 h, discarding the others. Sent, since the first still counts; said, since the rest
      // would be lost where no one sees it.
      // https://developers.facebook.com/documentation/ads-commerce/conversions-api/deduplicate-pixel-and-server-events
      warning(
        issues,
        'event_id',
        'placeholder_event_id',
        `event_id holds "${placeholder}", a missing value written into the text? Meta keeps one event per event_name + event_id within 48 h and discards the rest, so later events with this id would not count. Sent as given.`,
      );
    }
    return value;
  }
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  error(issues, 'event_id', 'invalid_event_id', 'event_id must be a non-empty string.');
  return '';
}

function eventTime(
  value: unknown,
  nowSeconds: number,
  actionSource: string,
  issues: Issue[],
): number {
  if (value === undefined || value === null) return nowSeconds;
  const seconds = toUnixSeconds(value, 'event_time', issues);
  if (seconds === undefined) return nowSeconds;
  checkEventTimeWindow(seconds, nowSeconds, actionSource, issues);
  return seconds;
}

function userData(
  value: unknown,
  website: boolean,
  nowMs: number,
  options: BuildEventOptions | undefined,
  issues: Issue[],
): UserData {
  if (value === undefined || value === null) {
    error(issues, 'user_data', 'missing_user_data', 'user_data is required.');
    return {};
  }
  const hashed = hashUserData(value as Parameters<typeof hashUserData>[0], {
    issues,
    path: 'user_data',
    defaultCountry: options?.defaultCountry,
    dateOrder: options?.dateOrder,
    now: () => nowMs,
  });
  let empty = true;
  for (const _ in hashed) {
    empty = false;
    break;
  }
  if (empty) {
    if (typeof value === 'object' && !Array.isArray(value)) {
      error(
        issues,
        'user_data',
        'missing_user_data',
        'No customer information parameter is left after normalization; Meta needs at least one.',
      );
    }
    return hashed;
  }
  if (website && hashed.client_user_agent === undefined) {
    error(
      issues,
      'user_data.client_user_agent',
      'missing_client_user_agent',
      'Website events need the browser user agent.',
    );
  }
  if (isUserDataTooBroad(hashed)) {
    error(
      issues,
      'user_data',
      'user_data_too_broad',
      'Too broad to match a person: only keys among {ct, country, st, zp, ge, client_user_agent}, {db, client_user_agent}, {fn, ge} or {ln, ge}. Add em, ph, external_id, client_ip_address, fbp or fbc.',
    );
  }
  return hashed;
}

function build(
  input: unknown,
  options: BuildEventOptions | undefined,
  issues: Issue[],
): ServerEvent | undefined {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    error(issues, 'event', 'invalid_event', 'The event must be an object.');
    return undefined;
  }
  const source = input as Readonly<Record<string, unknown>>;
  checkUnknownKeys(source, issues);
  const nowMs = (options?.now ?? Date.now)();
  const nowSeconds = Math.floor(nowMs / 1000);

  const name = eventName(source.event_name, issues);
  const requestedSource = source.action_source ?? 'website';
  let actionSource: ActionSource = 'other';
  if (isActionSource(requestedSource)) {
    actionSource = requestedSource;
  } else {
    error(
      issues,
      'action_source',
      'invalid_action_source',
      'Must be one of email, website, app, phone_call, chat, physical_store, system_generated, business_messaging, other.',
    );
  }
  const website = actionSource === 'website';

  const event = {
    event_name: name,
    event_time: eventTime(source.event_time, nowSeconds, actionSource, issues),
    event_id: eventId(source.event_id, issues),
    action_source: actionSource,
  } as ServerEvent;

  const url = source.event_source_url;
  if (url !== undefined && url !== null) {
    if (typeof url === 'string' && isHttpUrl(url)) {
      event.event_source_url = sendableUrl(url, 'event_source_url', issues);
    } else {
      error(
        issues,
        'event_source_url',
        'invalid_event_source_url',
        'Must be an absolute http(s) URL.',
      );
    }
  } else if (website) {
    error(
      issues,
      'event_source_url',
      'missing_event_source_url',
      'Website events need the page URL.',
    );
  }

  const referrer = source.referrer_url;
  if (referrer !== undefined && referrer !== null && referrer !== '') {
    if (typeof referrer === 'string' && isAbsoluteUrl(referrer)) {
      event.referrer_url = sendableUrl(referrer, 'referrer_url', issues);
    } else {
      warning(issues, 'referrer_url', 'invalid_referrer_url', 'Not an absolute URL; dropped.');
    }
  }

  const optOut = source.opt_out;
  if (optOut !== undefined && optOut !== null) {
    if (typeof optOut === 'boolean') event.opt_out = optOut;
    else error(issues, 'opt_out', 'invalid_opt_out', 'opt_out must be true or false.');
  }

  event.user_data = userData(source.user_data, website, nowMs, options, issues);

  const customData = normalizeCustomData(source.custom_data, name, issues);
  if (customData !== undefined) event.custom_data = customData;

  const appData = normalizeAppData(source.app_data, actionSource, issues);
  if (appData !== undefined) event.app_data = appData;

  const original = normalizeOriginalEventData(source.original_event_data, issues);
  if (original !== undefined) event.original_event_data = original;

  const channel = source.messaging_channel;
  if (channel !== undefined && channel !== null) {
    if (typeof channel === 'string' && channel.trim() !== '') {
      event.messaging_channel = channel;
    } else {
      error(
        issues,
        'messaging_channel',
        'invalid_messaging_channel',
        'Must be a non-empty string.',
      );
    }
  }

  applyDataProcessingOptions(source, event, issues);
  return event;
}

/**
 * Builds the wire event Meta receives from what the caller wrote: fills `event_time` (now),
 * `event_id` (random UUID) and `action_source` (`website`), normalizes and hashes `user_data`,
 * validates everything Meta would reject. Never mutates `input`; never throws unless
 * `options.strict` or reading `input` throws (a getter, a Proxy trap: `track()` catches that and
 * names the field). `event` is `undefined` when any issue is an error.
 * @example
 * const { event, issues } = buildEvent({
 *   event_name: 'Purchase',
 *   event_source_url: 'https://shop.example/checkout',
 *   user_data: { em: 'john_smith@gmail.com', client_user_agent: ua, client_ip_address: ip },
 *   custom_data: { value: 42, currency: 'usd' },
 * });
 */
export function buildEvent<Name extends EventName>(
  input: ServerEventInput<Name>,
  options?: BuildEventOptions,
): BuildEventResult {
  const issues: Issue[] = [];
  const event = build(input, options, issues);
  if (!hasErrors(issues)) return { event, issues };
  if (options?.strict) throw new CapiValidationError(issues);
  return { event: undefined, issues };
}
