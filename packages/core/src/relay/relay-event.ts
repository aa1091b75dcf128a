import { buildFbc, fbcClickId, validFbclid } from '../context/fb-cookies.js';
import { isSameSite, parseReferer } from '../context/page-url.js';
import type { PageUrl } from '../context/plain-url.js';
import { readDecimalText } from '../event/custom-data.js';
import type { ServerEventInput } from '../event/index.js';
import { HASHED_USER_DATA_KEYS } from '../user-data/keys.js';
import type { UserDataInput } from '../user-data/types.js';
import { RELAY_MAX_EVENT_ID_LENGTH } from './protocol.js';

/**
 * `custom_data` keys a relay forwards by default: Meta's documented keys
 * (https://developers.facebook.com/documentation/ads-commerce/conversions-api/parameters/custom-data)
 * minus `search_string`, free text a visitor types and so the one likely to hold an email or a
 * phone number. Custom keys are dropped unless listed in `allowCustomData`.
 */
export const DEFAULT_RELAY_CUSTOM_DATA_KEYS = [
  'value',
  'currency',
  'content_name',
  'content_category',
  'content_ids',
  'contents',
  'content_type',
  'order_id',
  'predicted_ltv',
  'net_revenue',
  'num_items',
  'status',
  'delivery_category',
  'item_number',
  'customer_segmentation',
] as const;

/** Default allowed clock difference between browser and server, in seconds (5 minutes). */
export const DEFAULT_RELAY_CLOCK_SKEW_SECONDS = 300;

const MAX_EVENT_NAME_LENGTH = 100;
/** Longest page URL forwarded whole (`event_source_url`, `referrer_url`). */
const MAX_URL_LENGTH = 4096;
/**
 * Longest page URL whose click IDs (`fbclid`, a destination's `ttclid`) are read. A landing URL
 * with many tracking parameters passes {@link MAX_URL_LENGTH}, and its click, the one the event is
 * credited to, was lost with it. A longer one is no page the site served: Node takes at most
 * 16 KiB for a request's whole head (`maxHeaderSize`), most servers less.
 */
const MAX_CLICK_URL_LENGTH = 16_384;

/** Why one relayed event was dropped before tracking. */
export type RelayEventDrop = 'malformed' | 'not_allowed';

/** What the relay rules need to turn one browser event into a server event input. */
export interface RelayEventRules {
  readonly allowEvent: (eventName: string) => boolean;
  readonly customDataKeys: ReadonlySet<string>;
  readonly allowUserData: boolean;
  readonly maxSkewSeconds: number;
}

/** A browser event made into a server event input, or why it was dropped. */
export type RelayEventResult =
  | {
      input: ServerEventInput;
      timeCorrected: boolean;
      keysDropped: number;
      /**
       * The event's same-site page URL, whole (`event_source_url` may have lost its query): where
       * the page's click IDs are read.
       */
      clickPage: string | undefined;
    }
  | { drop: RelayEventDrop };

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** `custom_data` keys whose value Meta takes as a number, and `contents` items' such keys. */
const NUMBER_KEYS: ReadonlySet<string> = new Set([
  'value',
  'predicted_ltv',
  'net_revenue',
  'num_items',
]);
const CONTENT_NUMBER_KEYS = ['item_price', 'quantity'] as const;
/**
 * `value` as a number when it is a decimal in text, else unchanged (the core then says why). Read
 * here, silently, rather than by the build with its `number_as_text` warning: a page's data layer
 * holds text by habit, and the Pixel sends every parameter as text anyway.
 */
const decimal = (value: unknown): unknown => readDecimalText(value) ?? value;

/**
 * A page's number written as text (`value: '19.90'`, as tag managers' data layers often hold it),
 * read as the number: the Pixel sends every parameter as text and Meta reads it so, while the
 * server copy of the same event was refused whole (`invalid_value`), and only the browser's
 * counted. Anything but a plain decimal stays as it is, for the core's checks to name.
 */
function pageNumbers(key: string, value: unknown): unknown {
  if (NUMBER_KEYS.has(key)) return decimal(value);
  if (key !== 'contents' || !Array.isArray(value)) return value;
  return value.map((item: unknown) => {
    if (!isRecord(item)) return item;
    let copy: Record<string, unknown> | undefined;
    for (const name of CONTENT_NUMBER_KEYS) {
      const read = decimal(item[name]);
      if (read !== item[name]) {
        copy ??= { ...item };
        copy[name] = read;
      }
    }
    return copy ?? item;
  });
}

const nonEmpty = (value: unknown, max: number): value is string =>
  typeof value === 'string' && value.trim() !== '' && value.length <= max;

function pageUrl(value: unknown, maxLength = MAX_URL_LENGTH): PageUrl | undefined {
  return typeof value === 'string' && value.length <= maxLength ? parseReferer(value) : undefined;
}

/**
 * A page's URL as forwarded: whole up to {@link MAX_URL_LENGTH}, longer without its query (the
 * page's origin and path: the page it was, without the parameters that made it long), `undefined`
 * when even that is longer.
 */
function sendablePageUrl(page: PageUrl): string | undefined {
  if (page.href.length <= MAX_URL_LENGTH) return page.href;
  const withoutQuery = page.href.slice(0, page.href.length - page.search.length);
  return withoutQuery.length <= MAX_URL_LENGTH ? withoutQuery : undefined;
}

/**
 * The event time to forward: the browser's when it is within `maxSkewSeconds` before the server
 * clock and not ahead of it, else the server's. Relay requests leave the page in the tick the
 * event fired, so a larger gap means a wrong browser clock, and Meta rejects a whole request over
 * a time 7 days old and does not attribute future times.
 */
export function relayEventTime(
  browserTime: unknown,
  nowSeconds: number,
  maxSkewSeconds: number,
): { time: number; corrected: boolean } {
  if (typeof browserTime !== 'number' || !Number.isFinite(browserTime)) {
    return { time: nowSeconds, corrected: true };
  }
  const time = Math.floor(browserTime);
  if (time > nowSeconds || nowSeconds - time > maxSkewSeconds) {
    return { time: nowSeconds, corrected: true };
  }
  return { time, corrected: false };
}

/**
 * Values taken per `user_data` key from a page (`allowUserData`); the rest are dropped unread and
 * counted (`RelayStats.userDataValuesDropped`). Meta takes a list per key ("string or
 * list<string>",
 * https://developers.facebook.com/documentation/ads-commerce/conversions-api/parameters/customer-information-parameters),
 * but a page speaks for one visitor and sends one or two: the address they typed, perhaps the one
 * on file. 10 leaves room for that and more, and bounds what one event costs: each value is
 * normalized and hashed on the request path, synchronously (a phone number takes a few µs, 10-16
 * on a busy machine), so a 64 KiB body of nothing but phone numbers (some 4 000) held the event
 * loop for tens of milliseconds. Capped, an event costs at most 10 values a key.
 */
export const RELAY_USER_DATA_VALUES_PER_KEY = 10;

/** The customer information a page sent, capped, and how many values the cap left out. */
export interface BrowserUserData {
  /** The kept keys, `undefined` when none. */
  userData: UserDataInput | undefined;
  /** Values beyond {@link RELAY_USER_DATA_VALUES_PER_KEY} of a key, summed over the keys. */
  valuesDropped: number;
}

/**
 * The customer information keys a page may send when `allowUserData` is on (never IP/UA/cookies),
 * each list cut to its first {@link RELAY_USER_DATA_VALUES_PER_KEY} values.
 */
export function browserUserData(value: unknown): BrowserUserData {
  if (!isRecord(value)) return { userData: undefined, valuesDropped: 0 };
  const out: Record<string, unknown> = {};
  let any = false;
  let valuesDropped = 0;
  for (const key of HASHED_USER_DATA_KEYS) {
    const given = value[key];
    if (given === undefined) continue;
    if (Array.isArray(given) && given.length > RELAY_USER_DATA_VALUES_PER_KEY) {
      valuesDropped += given.length - RELAY_USER_DATA_VALUES_PER_KEY;
      out[key] = given.slice(0, RELAY_USER_DATA_VALUES_PER_KEY);
    } else {
      out[key] = given;
    }
    any = true;
  }
  return { userData: any ? (out as UserDataInput) : undefined, valuesDropped };
}

/**
 * Turns one untrusted browser event into a server event input: checks its shape and name, keeps
 * `event_id` unchanged (Meta dedups it with the Pixel's copy), fixes the time, keeps only allowed
 * `custom_data` keys, and keeps the page URL only when it is on the request's site. Request data
 * (IP, user agent, cookies, consent) is added later from the request context, never from here;
 * only `fbc` is built (by `pageFbc`, from that page's fbclid and the time it was seen) when the
 * request's (`requestFbc`) is none or another click.
 */
export function relayEventInput(
  raw: unknown,
  rules: RelayEventRules,
  requestUrl: PageUrl | undefined,
  nowSeconds: number,
  eventUserData: UserDataInput | undefined,
  requestFbc?: string,
  pageFbc: (fbclid: string, ms: number) => string | undefined = (fbclid, ms) =>
    buildFbc(1, ms, fbclid),
): RelayEventResult {
  let userData = eventUserData;
  if (!isRecord(raw)) return { drop: 'malformed' };
  const { event_name, event_id, custom_data } = raw;
  if (
    !nonEmpty(event_name, MAX_EVENT_NAME_LENGTH) ||
    !nonEmpty(event_id, RELAY_MAX_EVENT_ID_LENGTH)
  ) {
    return { drop: 'malformed' };
  }
  if (custom_data !== undefined && custom_data !== null && !isRecord(custom_data)) {
    return { drop: 'malformed' };
  }
  if (!rules.allowEvent(event_name)) return { drop: 'not_allowed' };

  const { time, corrected } = relayEventTime(raw.event_time, nowSeconds, rules.maxSkewSeconds);
  const input: Record<string, unknown> = {
    event_name,
    event_id,
    event_time: time,
    action_source: 'website',
  };
  const page = pageUrl(raw.event_source_url, MAX_CLICK_URL_LENGTH);
  let clickPage: string | undefined;
  // Another site's URL would credit this site's events to it; the request context's page (the
  // same-site Referer) stands in.
  if (page !== undefined && requestUrl !== undefined && isSameSite(page, requestUrl)) {
    const sendable = sendablePageUrl(page);
    if (sendable !== undefined) input.event_source_url = sendable;
    clickPage = page.href;
    // The landing page's fbclid reaches the request context only through a full `Referer`: a relay
    // on another origin of the site gets the origin alone (browsers' default referrer policy), and
    // before the Pixel (or without it, blocked) the `_fbc` cookie is missing or an older click's.
    // [FBC], as the context does for a URL: build fbc from the fbclid when there is no fbc or it
    // holds another click, at the time it was seen (`pageFbc` also keeps it as `_fbc`).
    // https://developers.facebook.com/documentation/ads-commerce/conversions-api/parameters/fbp-and-fbc
    if (userData?.fbc === undefined && page.search.includes('fbclid=')) {
      const fbclid = validFbclid(page.searchParams.get('fbclid'));
      if (fbclid !== undefined && (requestFbc === undefined || fbcClickId(requestFbc) !== fbclid)) {
        const fbc = pageFbc(fbclid, time * 1000);
        if (fbc !== undefined) userData = { ...userData, fbc };
      }
    }
  }
  const referrer = pageUrl(raw.referrer_url);
  if (referrer !== undefined) input.referrer_url = referrer.href;

  let keysDropped = 0;
  if (isRecord(custom_data)) {
    const kept: Record<string, unknown> = {};
    let any = false;
    for (const key of Object.keys(custom_data)) {
      // An own `__proto__` key (JSON.parse makes one) assigned below would set `kept`'s prototype,
      // and the page would choose every key the event reads, `allowCustomData` listing it or not.
      if (key !== '__proto__' && rules.customDataKeys.has(key)) {
        kept[key] = pageNumbers(key, custom_data[key]);
        any = true;
      } else {
        keysDropped++;
      }
    }
    if (any) input.custom_data = kept;
  }
  if (userData !== undefined) input.user_data = { ...userData };
  return {
    input: input as unknown as ServerEventInput,
    timeCorrected: corrected,
    keysDropped,
    clickPage,
  };
}
