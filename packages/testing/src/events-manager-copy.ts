// One copy of an event as the Events Manager page (events-manager-view.ts) shows it: the server's,
// the browser's or a refused one, with its match keys (names and hash prefixes, never values),
// freshness and a one-line summary of custom_data.
//
// The match-quality estimate is capi-kit's local one, the code of `client.diagnostics()` itself:
// the core's match-quality.ts is bundled in at build time (it has no imports). It is the only part
// of the core the mock contains, and validation never uses it.
import { matchKeyMask, matchQualityPoints } from '../../core/src/diagnostics/match-quality.js';
import { HASHED_USER_DATA_KEYS } from '../../core/src/user-data/keys.js';
import type { MockBrowserEvent, MockEvent, MockRejectedEvent } from './recorder.js';

/** Where a copy of an event came from: the Conversions API, or the browser's Pixel (the mock's stub). */
export type EventsManagerSource = 'server' | 'browser';

/** A match key as the page shows it: its name, and for a hashed key the first 8 hex digits. */
export interface EventsManagerMatchKey {
  /** `user_data` key (Meta's wire name). */
  key: string;
  /** First 8 characters of the SHA-256 hex of a hashed key (its first value); never a clear value. */
  hashPrefix?: string;
  /** A key Meta wants hashed that is not SHA-256 hex: shown without any value. */
  notHashed?: true;
}

/** The validation result of one copy. */
export type EventsManagerValidation =
  | { ok: true; warnings: string[] }
  | {
      ok: false;
      /** Dotted field path inside the event, e.g. `custom_data.currency`. */
      field: string;
      /** Why it was refused. */
      reason: string;
      /** Meta's error message for the batch. */
      message: string;
      /** False for the valid events refused with the invalid one (Meta refuses whole batches). */
      isInvalidOne: boolean;
    };

/** One copy of an event: the server's (CAPI) or the browser's (Pixel). */
export interface EventsManagerCopy {
  /** Where it came from. */
  source: EventsManagerSource;
  /** Arrival at the mock, epoch ms. */
  receivedAt: number;
  /** The event's own `event_time`, epoch seconds, when it had a valid one. */
  eventTime: number | null;
  /** Arrival minus `event_time`, in seconds (freshness); null without a valid `event_time`. */
  delaySeconds: number | null;
  /** `action_source` (browser copies are `website`). */
  actionSource: string | null;
  /** Match keys present. */
  matchKeys: EventsManagerMatchKey[];
  /** capi-kit's local estimate (0–10) for this copy's keys, as `client.diagnostics()` computes it. */
  matchQuality: number;
  /** A short, single-line summary of `custom_data`. */
  customData: string;
  /** Validation result: accepted (with Pixel-style warnings) or the rule that failed. */
  validation: EventsManagerValidation;
  /** The request's `test_event_code`, when it had one. */
  testEventCode?: string;
  /** `'tiktok'` for a copy of TikTok's (the Events API endpoint or the TikTok Pixel stub); absent for Meta's. */
  platform?: 'tiktok';
}

/** Keys Meta wants SHA-256 hashed ([CIP]); `external_id` is hashed by capi-kit too. */
const HASHED_KEYS: ReadonlySet<string> = new Set(HASHED_USER_DATA_KEYS);
const SHA256_HEX = /^[0-9a-f]{64}/;
const SUMMARY_MAX = 160;
const PRIORITY_KEYS = ['value', 'currency', 'content_ids', 'contents', 'content_type', 'order_id'];

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

const present = (v: unknown): boolean =>
  v !== undefined && v !== null && v !== '' && !(Array.isArray(v) && v.length === 0);

/** The page's key list: names, and a hash prefix only for a value that is SHA-256 hex. */
const matchKeysOf = (userData: Record<string, unknown>): EventsManagerMatchKey[] => {
  const keys: EventsManagerMatchKey[] = [];
  for (const [key, value] of Object.entries(userData)) {
    if (!present(value)) continue;
    if (!HASHED_KEYS.has(key)) {
      keys.push({ key });
      continue;
    }
    const first = Array.isArray(value) ? value[0] : value;
    keys.push(
      typeof first === 'string' && SHA256_HEX.test(first)
        ? { key, hashPrefix: first.slice(0, 8) }
        : { key, notHashed: true },
    );
  }
  return keys;
};

/** The estimate of one `user_data`, in hundredths: the core's own functions. */
const pointsOf = (userData: Record<string, unknown>): number =>
  matchQualityPoints(matchKeyMask(userData));

const scalar = (v: unknown): string => {
  if (typeof v === 'string') return v.length > 40 ? `${v.slice(0, 39)}…` : v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return `[${v.length} item${v.length === 1 ? '' : 's'}]`;
  if (isRecord(v)) return '{…}';
  return String(v);
};

/** `value=49.9 currency=GBP contents=[1 item]`: priority keys first, cut at 160 characters. */
export const summarizeCustomData = (customData: unknown): string => {
  if (!isRecord(customData)) return '';
  const keys = Object.keys(customData);
  const ordered = [
    ...PRIORITY_KEYS.filter((k) => keys.includes(k)),
    ...keys.filter((k) => !PRIORITY_KEYS.includes(k)),
  ];
  const text = ordered.map((k) => `${k}=${scalar(customData[k])}`).join(' ');
  return text.length > SUMMARY_MAX ? `${text.slice(0, SUMMARY_MAX - 1)}…` : text;
};

/** An `event_time` in seconds, or null when it is not one. */
export const validTime = (t: unknown): number | null =>
  typeof t === 'number' && Number.isFinite(t) && t > 0 ? t : null;

/** Arrival minus `event_time`, in whole seconds. */
export const delayOf = (receivedAt: number, eventTime: number | null): number | null =>
  eventTime === null ? null : Math.round(receivedAt / 1000 - eventTime);

/** An accepted server event as the page shows it. */
export const serverCopy = (e: MockEvent): EventsManagerCopy => {
  const eventTime = validTime(e.event.event_time);
  const userData = isRecord(e.event.user_data) ? e.event.user_data : {};
  return {
    source: 'server',
    receivedAt: e.receivedAt,
    eventTime,
    delaySeconds: delayOf(e.receivedAt, eventTime),
    actionSource: e.event.action_source,
    matchKeys: matchKeysOf(userData),
    matchQuality: pointsOf(userData) / 100,
    customData: summarizeCustomData(e.event.custom_data),
    validation: { ok: true, warnings: [] },
    ...(e.testEventCode === undefined ? {} : { testEventCode: e.testEventCode }),
  };
};

/** What Meta's Pixel Helper would warn about for a browser event. */
const browserWarnings = (e: MockBrowserEvent): string[] => {
  const warnings: string[] = [];
  if (e.event_id === undefined) warnings.push('no eventID: Meta cannot deduplicate it');
  if (
    e.event_name === 'Purchase' &&
    (!present(e.custom_data.value) || !present(e.custom_data.currency))
  ) {
    warnings.push('Purchase without value and currency');
  }
  return warnings;
};

/** A browser event from the Pixel stub as the page shows it, with the Pixel Helper's warnings. */
export const browserCopy = (e: MockBrowserEvent): EventsManagerCopy => {
  const keys = Object.fromEntries(e.matchKeys.map((k) => [k, true]));
  return {
    source: 'browser',
    receivedAt: e.receivedAt,
    eventTime: e.event_time,
    delaySeconds: delayOf(e.receivedAt, e.event_time),
    actionSource: 'website',
    matchKeys: e.matchKeys.map((key) => ({ key })),
    matchQuality: pointsOf(keys) / 100,
    customData: summarizeCustomData(e.custom_data),
    validation: { ok: true, warnings: browserWarnings(e) },
  };
};

/** An event of a refused batch as the page shows it, with the rule it broke. */
export const rejectedCopy = (e: MockRejectedEvent): EventsManagerCopy => {
  const eventTime = validTime(e.event.event_time);
  const userData = isRecord(e.event.user_data) ? e.event.user_data : {};
  return {
    source: 'server',
    receivedAt: e.receivedAt,
    eventTime,
    delaySeconds: delayOf(e.receivedAt, eventTime),
    actionSource: typeof e.event.action_source === 'string' ? e.event.action_source : null,
    matchKeys: matchKeysOf(userData),
    matchQuality: pointsOf(userData) / 100,
    customData: summarizeCustomData(e.event.custom_data),
    validation: {
      ok: false,
      field: e.invalidEvent.field,
      reason: e.invalidEvent.reason,
      message: e.message,
      isInvalidOne: e.isInvalidOne,
    },
  };
};
