import type { HeaderReader } from './request-input.js';

/**
 * What the visitor allowed: `granted` (default), `denied` (no cookies written; the delivery client
 * drops the event) or `ldu` (Meta's Limited Data Use is applied to the event).
 */
export type ConsentState = 'granted' | 'denied' | 'ldu';

/** What a `consent` callback can read without parsing the request again. */
export interface ParsedRequest {
  /** Request header by lowercase name. */
  header(name: string): string | undefined;
  /** Cookies as sent: values are not URI-decoded (decode your own cookie if you encoded it). */
  readonly cookies: Readonly<Record<string, string | undefined>>;
}

/** Limited Data Use location: `country` 1 = US or 0 = let Meta geolocate; `state` 1000 = California or 0. */
export interface LduLocation {
  country: 0 | 1;
  state: 0 | 1000;
}

/** The LDU fields Meta reads on an event ([SE] Limited Data Use). */
export interface LduFields {
  data_processing_options: 'LDU'[];
  data_processing_options_country: 0 | 1;
  data_processing_options_state: 0 | 1000;
}

const RESTRICTIVENESS: Readonly<Record<ConsentState, number>> = { granted: 0, ldu: 1, denied: 2 };

function isConsentState(value: unknown): value is ConsentState {
  return value === 'granted' || value === 'denied' || value === 'ldu';
}

/**
 * The consent for this request: the callback's answer, made at least `ldu` by `Sec-GPC: 1` when
 * `respectGpc` is on (a stricter answer is never loosened). A callback that throws or returns
 * anything else counts as `denied`: when consent cannot be established, nothing is tracked.
 * @see https://privacycg.github.io/gpc-spec/ (Sec-GPC)
 */
export function resolveConsent<I>(
  input: I,
  request: ParsedRequest | undefined,
  callback: ((input: I, request: ParsedRequest) => ConsentState) | undefined,
  respectGpc: boolean,
  header: HeaderReader,
): ConsentState {
  let state: ConsentState = 'granted';
  if (callback !== undefined && request !== undefined) {
    try {
      const answer: unknown = callback(input, request);
      state = isConsentState(answer) ? answer : 'denied';
    } catch {
      state = 'denied';
    }
  }
  if (
    respectGpc &&
    header('sec-gpc')?.trim() === '1' &&
    RESTRICTIVENESS[state] < RESTRICTIVENESS.ldu
  ) {
    state = 'ldu';
  }
  return state;
}

/**
 * LDU fields for an `ldu` context: `['LDU']` with country/state 0 (Meta geolocates from the IP)
 * unless configured. [SE]: a country requires a state too, so both are always set together.
 * @see https://developers.facebook.com/documentation/ads-commerce/conversions-api/parameters/server-event [SE]
 */
export function lduFields(location: LduLocation | undefined): LduFields {
  return {
    data_processing_options: ['LDU'],
    data_processing_options_country: location?.country ?? 0,
    data_processing_options_state: location?.state ?? 0,
  };
}
