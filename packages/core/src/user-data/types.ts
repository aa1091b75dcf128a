import type { Issue } from '../event/issues.js';

// Key names, hashing rules and value types follow Meta's customer information parameters page:
// https://developers.facebook.com/documentation/ads-commerce/conversions-api/parameters/customer-information-parameters [CIP]

/** A raw value for a hashed `user_data` key: one value or several (Meta accepts a list). */
export type HashedInput = string | readonly string[] | null | undefined;

/** A raw value for a key Meta wants unhashed. */
export type PlainInput = string | null | undefined;

/**
 * The `user_data` a caller passes in: raw values, normalized and hashed by {@link hashUserData}.
 * Values that are already SHA-256 hex (optionally with a Parameter Builder appendix) pass through.
 * @example { em: 'John_Smith@gmail.com', ph: '(650) 555-1212', country: 'United States' }
 */
export interface UserDataInput {
  /** Email address(es); trimmed and lowercased before hashing. */
  em?: HashedInput;
  /** Phone number(s); reduced to E.164 digits with country code (`16505551212`) before hashing. */
  ph?: HashedInput;
  /** First name(s); lowercased, punctuation and spaces removed, UTF-8 letters kept. */
  fn?: HashedInput;
  /** Last name(s); lowercased, punctuation and spaces removed, UTF-8 letters kept. */
  ln?: HashedInput;
  /** Date(s) of birth: `YYYY-MM-DD` (time part ignored), `M/D/YYYY` (US order), `YYYYMMDD` or a `Date`. */
  db?: string | Date | readonly (string | Date)[] | null | undefined;
  /** Gender: `f`/`m` or a common synonym (`female`, `Mann`, `mujer`…). */
  ge?: HashedInput;
  /** City; lowercased, spaces and punctuation removed, UTF-8 letters kept (`São Paulo` → `sãopaulo`). */
  ct?: HashedInput;
  /** State or province: a code or a US/Canadian name (`California` → `ca`). */
  st?: HashedInput;
  /** Postal code; lowercased without spaces or dashes, US ZIP codes cut to 5 digits. */
  zp?: HashedInput;
  /** Country as an ISO 3166-1 code or English name (`United States` → `us`). */
  country?: HashedInput;
  /** Your ID(s) for the customer; trimmed and hashed, case kept. */
  external_id?: HashedInput;
  /** The browser's IP address (IPv4 or IPv6); sent unhashed. */
  client_ip_address?: PlainInput;
  /** The browser's `User-Agent`; sent unhashed. Required for `website` events. */
  client_user_agent?: PlainInput;
  /** Click ID, the `_fbc` cookie (`fb.1.<ms>.<fbclid>`); sent unhashed, never altered. */
  fbc?: PlainInput;
  /** Browser ID, the `_fbp` cookie (`fb.1.<ms>.<random>`); sent unhashed, never altered. */
  fbp?: PlainInput;
  /** Subscription ID for this transaction; sent unhashed. */
  subscription_id?: PlainInput;
  /** The app-scoped Facebook Login ID; sent unhashed. */
  fb_login_id?: string | number | null | undefined;
  /** The ID of a lead from Meta Lead Ads; sent unhashed. */
  lead_id?: string | number | null | undefined;
  /** App install ID (app events only); sent unhashed. */
  anon_id?: PlainInput;
  /** Mobile advertiser ID (IDFA or Android advertising ID); sent unhashed. */
  madid?: PlainInput;
  /** The ID of the Facebook Page the customer interacted with; sent unhashed. */
  page_id?: PlainInput;
  /** The page-scoped user ID of the customer; sent unhashed. */
  page_scoped_user_id?: PlainInput;
  /** Click-to-WhatsApp ad click ID; sent unhashed. */
  ctwa_clid?: PlainInput;
  /** The Instagram account ID of the business; sent unhashed. */
  ig_account_id?: PlainInput;
  /** The Instagram-scoped user ID of the customer; sent unhashed. */
  ig_sid?: PlainInput;
}

/**
 * `user_data` as sent to Meta: hashed keys are lists of SHA-256 lowercase hex, the rest plain.
 * {@link normalizeUserData} returns the same shape with normalized, not yet hashed, values.
 */
export interface UserData {
  /** SHA-256 of normalized email addresses. */
  em?: string[];
  /** SHA-256 of phone numbers as digits with country code. */
  ph?: string[];
  /** SHA-256 of normalized first names. */
  fn?: string[];
  /** SHA-256 of normalized last names. */
  ln?: string[];
  /** SHA-256 of dates of birth as `YYYYMMDD`. */
  db?: string[];
  /** SHA-256 of `f` or `m`. */
  ge?: string[];
  /** SHA-256 of normalized cities. */
  ct?: string[];
  /** SHA-256 of normalized states or provinces. */
  st?: string[];
  /** SHA-256 of normalized postal codes. */
  zp?: string[];
  /** SHA-256 of ISO 3166-1 alpha-2 lowercase country codes. */
  country?: string[];
  /** SHA-256 of external IDs. */
  external_id?: string[];
  /** The browser's IP address. */
  client_ip_address?: string;
  /** The browser's user agent. */
  client_user_agent?: string;
  /** Click ID (`_fbc`). */
  fbc?: string;
  /** Browser ID (`_fbp`). */
  fbp?: string;
  /** Subscription ID. */
  subscription_id?: string;
  /** App-scoped Facebook Login ID. */
  fb_login_id?: string | number;
  /** Lead Ads lead ID. */
  lead_id?: string | number;
  /** App install ID. */
  anon_id?: string;
  /** Mobile advertiser ID. */
  madid?: string;
  /** Facebook Page ID. */
  page_id?: string;
  /** Page-scoped user ID. */
  page_scoped_user_id?: string;
  /** Click-to-WhatsApp click ID. */
  ctwa_clid?: string;
  /** Instagram business account ID. */
  ig_account_id?: string;
  /** Instagram-scoped user ID. */
  ig_sid?: string;
}

/** `user_data` after normalization, before hashing: the {@link UserData} shape with plaintext values. */
export type NormalizedUserData = UserData;

/** A `user_data` key whose values Meta wants normalized and SHA-256 hashed. */
export type HashedUserDataKey =
  | 'em'
  | 'ph'
  | 'fn'
  | 'ln'
  | 'db'
  | 'ge'
  | 'ct'
  | 'st'
  | 'zp'
  | 'country'
  | 'external_id';

/** A `user_data` key Meta wants sent as-is. */
export type PlainUserDataKey = Exclude<keyof UserData, HashedUserDataKey>;

/**
 * How a year-last date of birth whose day and month could be either way round (`05/06/1990`) is
 * read: `dmy` day first (UK, France, Germany, Brazil, India…), `mdy` month first (US), `ymd` year
 * first (ISO, China, Japan, Korea; year-first dates are always read, so `ymd` leaves year-last
 * ambiguous dates unread).
 */
export type DateOrder = 'dmy' | 'mdy' | 'ymd';

/** Options of {@link normalizeUserData} and {@link hashUserData}. */
export interface UserDataOptions {
  /**
   * Country (ISO code or English name) for phone numbers written without a country code and for
   * US ZIP detection, used when `user_data.country` is absent or hashed.
   */
  defaultCountry?: string | undefined;
  /**
   * Order of day and month for dates of birth like `05/06/1990` that read both ways. Without it
   * such a date is dropped and reported (`ambiguous_date_of_birth`), never guessed. Dates that
   * read one way only (`20/05/1990`, `5/20/1990`) need no option.
   */
  dateOrder?: DateOrder | undefined;
  /** Problems found are pushed here (values are dropped, never thrown). */
  issues?: Issue[] | undefined;
  /** Prefix of issue paths; default `user_data`. */
  path?: string | undefined;
  /** Millisecond clock for the date-of-birth year range; default `Date.now`. */
  now?: (() => number) | undefined;
}
