// The core's list, bundled in at build time (no run-time dependency on core), as TikTok's check does.
import { isCurrencyCode } from '../../core/src/event/currency.js';
import { EVENT_NAME_TOO_LONG, isEventNameTooLong } from './event-name-limit.js';
import {
  invalid,
  isNonEmptyString,
  isRecord,
  type PathPart,
  required,
  type Violation,
} from './field-checks.js';
import { type GraphErrorAnswer, invalidParameter, SUBCODE } from './graph-error.js';
import { checkUserData } from './validate-user-data.js';

/**
 * A server event as it crossed the wire. Only the fields the mock guarantees after validation are
 * typed; everything else the client sent is kept as is.
 */
export interface MockWireEvent {
  event_name: string;
  event_time: number;
  action_source: string;
  user_data: Record<string, unknown>;
  event_id?: string;
  event_source_url?: string;
  custom_data?: Record<string, unknown>;
  [field: string]: unknown;
}

/** The first invalid event of a rejected batch: its index, the field and why. */
export interface InvalidEvent {
  /** Index in `data`. */
  index: number;
  /** Dotted field path inside the event, e.g. `custom_data.currency` or `user_data.em[1]`. */
  field: string;
  /** Why the field was refused. */
  reason: string;
}

/** Validation outcome for a whole request body. */
export type PayloadCheck =
  | { ok: true; events: MockWireEvent[] }
  | { ok: false; answer: GraphErrorAnswer; invalidEvent?: InvalidEvent };

/** Clock and tolerance for `event_time`. */
export interface ValidationClock {
  nowMs: number;
  maxFutureSeconds: number;
}

/**
 * A test's own rule on top of Meta's (`MockGraph.rejectEvents`): the dotted field to blame when
 * the event at `index` must be refused, `undefined` to let it through.
 */
export type EventRejectionRule = (event: MockWireEvent, index: number) => string | undefined;

/** Meta's batch limit (reference §1, [UA]). */
export const MAX_EVENTS_PER_REQUEST = 1000;

/** [SE] action_source values. */
export const ACTION_SOURCES = [
  'email',
  'website',
  'app',
  'phone_call',
  'chat',
  'physical_store',
  'system_generated',
  'business_messaging',
  'other',
] as const;

const SECONDS_PER_DAY = 86_400;

/** `$['data'][3]['custom_data']['currency']`, Meta's own notation in its error messages. */
const jsonPath = (path: PathPart[]): string =>
  `$${path.map((p) => (typeof p === 'number' ? `[${p}]` : `['${p}']`)).join('')}`;

/** `custom_data.currency`, `user_data.em[1]`: the path inside one event. */
const dottedField = (path: PathPart[]): string =>
  path
    .map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`))
    .join('')
    .replace(/^\./, '');

const checkEventTime = (
  value: unknown,
  at: PathPart[],
  actionSource: unknown,
  clock: ValidationClock,
): Violation | undefined => {
  const path = [...at, 'event_time'];
  if (value === undefined || value === null) return required(path);
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
    return invalid(path, 'must be a Unix timestamp in whole seconds');
  }
  const nowSeconds = Math.floor(clock.nowMs / 1000);
  if (value > nowSeconds + clock.maxFutureSeconds) {
    return invalid(
      path,
      value > 1e11
        ? 'looks like milliseconds; send Unix time in seconds'
        : 'is in the future; send the time the event happened',
    );
  }
  // [SE]/[UA]: 7 days, or 62 days for physical_store uploads.
  const days = actionSource === 'physical_store' ? 62 : 7;
  if (nowSeconds - value > days * SECONDS_PER_DAY) {
    return {
      path,
      kind: 'too_old',
      reason: `is more than ${days} days in the past`,
    };
  }
  return undefined;
};

const isFiniteNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

const checkCustomData = (
  value: unknown,
  at: PathPart[],
  eventName: string,
): Violation | undefined => {
  const path = [...at, 'custom_data'];
  const isPurchase = eventName === 'Purchase';
  if (value === undefined || value === null) return isPurchase ? required(path) : undefined;
  if (!isRecord(value)) return invalid(path, 'must be an object');
  // [CD]: value and currency are required for Purchase.
  if (value.value === undefined || value.value === null) {
    if (isPurchase) return required([...path, 'value']);
  } else if (!isFiniteNumber(value.value)) {
    return invalid([...path, 'value'], 'must be a number');
  }
  if (value.currency === undefined || value.currency === null) {
    if (isPurchase) return required([...path, 'currency']);
  } else if (
    typeof value.currency !== 'string' ||
    // [CD]: an ISO 4217 code; Meta's own example sends `usd`, so any case.
    !(/^[A-Za-z]{3}$/.test(value.currency) && isCurrencyCode(value.currency.toUpperCase()))
  ) {
    return invalid([...path, 'currency'], 'must be a 3-letter ISO 4217 code');
  }
  if (value.content_ids !== undefined) {
    if (!Array.isArray(value.content_ids)) {
      return invalid([...path, 'content_ids'], 'must be a list of ids');
    }
    for (const [i, id] of value.content_ids.entries()) {
      if (!isNonEmptyString(id) && !isFiniteNumber(id)) {
        return invalid([...path, 'content_ids', i], 'must be a non-empty string');
      }
    }
  }
  if (value.contents !== undefined) {
    if (!Array.isArray(value.contents)) {
      return invalid([...path, 'contents'], 'must be a list of objects');
    }
    for (const [i, item] of value.contents.entries()) {
      const itemPath = [...path, 'contents', i];
      if (!isRecord(item)) return invalid(itemPath, 'must be an object');
      if (!isNonEmptyString(item.id) && !isFiniteNumber(item.id)) {
        return required([...itemPath, 'id']);
      }
      for (const numeric of ['quantity', 'item_price'] as const) {
        if (item[numeric] !== undefined && !isFiniteNumber(item[numeric])) {
          return invalid([...itemPath, numeric], 'must be a number');
        }
      }
    }
  }
  if (value.num_items !== undefined && !Number.isInteger(value.num_items)) {
    return invalid([...path, 'num_items'], 'must be an integer');
  }
  return undefined;
};

/** [SE]/[UA] Limited Data Use: `['LDU']` needs a country (0|1) and a state; none of them without LDU. */
const checkLdu = (event: Record<string, unknown>, at: PathPart[]): Violation | undefined => {
  const options = event.data_processing_options;
  const country = event.data_processing_options_country;
  const state = event.data_processing_options_state;
  let ldu = false;
  if (options !== undefined && options !== null) {
    const path = [...at, 'data_processing_options'];
    if (!Array.isArray(options)) return invalid(path, "must be a list: ['LDU'] or []");
    for (const [i, option] of options.entries()) {
      if (option !== 'LDU') return invalid([...path, i], "the only supported option is 'LDU'");
    }
    ldu = options.length > 0;
  }
  if (!ldu) {
    if (country !== undefined && country !== null) {
      return invalid(
        [...at, 'data_processing_options_country'],
        "is only allowed with data_processing_options ['LDU']",
      );
    }
    if (state !== undefined && state !== null) {
      return invalid(
        [...at, 'data_processing_options_state'],
        "is only allowed with data_processing_options ['LDU']",
      );
    }
    return undefined;
  }
  if (country === undefined || country === null) {
    return required([...at, 'data_processing_options_country']);
  }
  if (country !== 0 && country !== 1) {
    return invalid([...at, 'data_processing_options_country'], 'must be 1 (US) or 0 (geolocate)');
  }
  if (state === undefined || state === null) {
    return required([...at, 'data_processing_options_state']);
  }
  if (typeof state !== 'number' || !Number.isInteger(state) || state < 0) {
    return invalid(
      [...at, 'data_processing_options_state'],
      'must be a state code such as 1000 (California) or 0 (geolocate)',
    );
  }
  return undefined;
};

/** [SE] `extinfo`: 16 positional values, missing ones sent as empty strings. */
const EXTINFO_LENGTH = 16;

/**
 * [SE]: app events need `app_data` with its `extinfo`, 16 strings in their positions, `a2`
 * (Android) or `i2` (iOS) first, "fill missing values with empty strings".
 */
const checkAppData = (value: unknown, at: PathPart[]): Violation | undefined => {
  const path = [...at, 'app_data'];
  if (value === undefined || value === null) return required(path);
  if (!isRecord(value)) return invalid(path, 'must be an object');
  const extinfo = value.extinfo;
  if (extinfo === undefined || extinfo === null) return required([...path, 'extinfo']);
  if (!Array.isArray(extinfo) || extinfo.length !== EXTINFO_LENGTH) {
    return invalid(
      [...path, 'extinfo'],
      `must be a list of ${EXTINFO_LENGTH} strings, missing values as empty strings`,
    );
  }
  for (const [i, item] of extinfo.entries()) {
    if (typeof item !== 'string') return invalid([...path, 'extinfo', i], 'must be a string');
  }
  if (extinfo[0] !== 'a2' && extinfo[0] !== 'i2') {
    return invalid([...path, 'extinfo', 0], "must be 'a2' (Android) or 'i2' (iOS)");
  }
  return undefined;
};

const isHttpUrl = (v: string): boolean => {
  try {
    const url = new URL(v);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
};

const checkEvent = (
  event: unknown,
  index: number,
  clock: ValidationClock,
): Violation | undefined => {
  const at: PathPart[] = ['data', index];
  if (!isRecord(event)) return invalid(at, 'must be an event object');

  if (event.event_name === undefined || event.event_name === null) {
    return required([...at, 'event_name']);
  }
  if (!isNonEmptyString(event.event_name)) {
    return invalid([...at, 'event_name'], 'must be a non-empty string');
  }
  if (isEventNameTooLong(event.event_name)) {
    return invalid([...at, 'event_name'], EVENT_NAME_TOO_LONG);
  }

  const actionSource = event.action_source;
  if (actionSource === undefined || actionSource === null) {
    return required([...at, 'action_source']);
  }
  if (
    typeof actionSource !== 'string' ||
    !(ACTION_SOURCES as readonly string[]).includes(actionSource)
  ) {
    return invalid([...at, 'action_source'], `must be one of ${ACTION_SOURCES.join(', ')}`);
  }

  const timeViolation = checkEventTime(event.event_time, at, actionSource, clock);
  if (timeViolation) return timeViolation;

  if (
    event.event_id !== undefined &&
    event.event_id !== null &&
    !isNonEmptyString(event.event_id)
  ) {
    return invalid([...at, 'event_id'], 'must be a non-empty string');
  }
  if (event.opt_out !== undefined && typeof event.opt_out !== 'boolean') {
    return invalid([...at, 'opt_out'], 'must be a boolean');
  }

  // [BP]: website events need event_source_url and client_user_agent.
  const url = event.event_source_url;
  if (url === undefined || url === null) {
    if (actionSource === 'website') return required([...at, 'event_source_url']);
  } else if (typeof url !== 'string' || !isHttpUrl(url)) {
    return invalid([...at, 'event_source_url'], 'must be an absolute http(s) URL');
  }

  if (actionSource === 'app') {
    const appViolation = checkAppData(event.app_data, at);
    if (appViolation) return appViolation;
  }

  return (
    checkUserData(event.user_data, at, actionSource) ??
    checkCustomData(event.custom_data, at, event.event_name) ??
    checkLdu(event, at)
  );
};

/** `custom_data.currency` → `['custom_data', 'currency']`; `user_data.em[1]` → `['user_data', 'em', 1]`. */
const parseDottedField = (field: string): PathPart[] =>
  field
    .split(/\.|(?=\[)/)
    .filter((part) => part !== '')
    .map((part) => {
      const index = /^\[(\d+)\]$/.exec(part);
      return index ? Number(index[1]) : part;
    });

const answerFor = (violation: Violation): GraphErrorAnswer => {
  const where = jsonPath(violation.path);
  switch (violation.kind) {
    case 'required':
      return invalidParameter(
        SUBCODE.parameter,
        'Missing Parameter',
        `The parameter ${where} is required.`,
      );
    case 'invalid':
      return invalidParameter(
        SUBCODE.parameter,
        'Invalid Parameter',
        `The parameter ${where} is invalid: it ${violation.reason}.`,
      );
    case 'too_old':
      return invalidParameter(
        SUBCODE.eventTooOld,
        'Event Timestamp Too Old',
        `The timestamp ${where} ${violation.reason}. Events must be sent within 7 days of when they occurred (62 days for physical_store).`,
      );
    case 'insufficient':
      return invalidParameter(
        SUBCODE.insufficientCustomerInfo,
        'Insufficient Customer Information',
        `The parameter ${where} ${violation.reason}. Add more customer information parameters.`,
      );
  }
};

/** Answer for a body that could not be read at all (bad JSON, unsupported Content-Type). */
export const unreadableBody = (reason: string): GraphErrorAnswer =>
  invalidParameter(SUBCODE.parameter, 'Invalid Request Body', `${reason}.`);

/**
 * Checks a request body the way Meta does: any invalid event rejects the whole batch [UA]. The
 * answer names the first invalid event's index and field, which Meta itself does only sometimes.
 * A `rule` refuses events Meta's checks would pass, with the same answer (a missing parameter).
 */
export const validatePayload = (
  fields: Record<string, unknown>,
  clock: ValidationClock,
  rule?: EventRejectionRule,
): PayloadCheck => {
  const reject = (violation: Violation): PayloadCheck => {
    const [, index, ...inside] = violation.path;
    return {
      ok: false,
      answer: answerFor(violation),
      ...(typeof index === 'number'
        ? {
            invalidEvent: {
              index,
              field: dottedField(inside),
              reason: violation.reason,
            },
          }
        : {}),
    };
  };

  const data = fields.data;
  if (data === undefined || data === null || data === '') return reject(required(['data']));
  if (!Array.isArray(data)) return reject(invalid(['data'], 'must be a list of events'));
  if (data.length === 0) return reject(invalid(['data'], 'must contain at least one event'));
  if (data.length > MAX_EVENTS_PER_REQUEST) {
    return reject(
      invalid(
        ['data'],
        `must contain at most ${MAX_EVENTS_PER_REQUEST} events (got ${data.length})`,
      ),
    );
  }
  for (const key of ['test_event_code', 'partner_agent'] as const) {
    const value = fields[key];
    if (value !== undefined && !isNonEmptyString(value)) {
      return reject(invalid([key], 'must be a non-empty string'));
    }
  }
  for (const [index, event] of data.entries()) {
    const violation = checkEvent(event, index, clock);
    if (violation) return reject(violation);
    // Only a valid event reaches the rule, so it always blames a well-formed event object.
    const blamed = rule?.(event as MockWireEvent, index);
    if (blamed !== undefined) return reject(required(['data', index, ...parseDottedField(blamed)]));
  }
  return { ok: true, events: data as MockWireEvent[] };
};
