import { sha256Hex } from '#platform';
import { flatString } from '../event/flat-string.js';
import type { Issue } from '../event/issues.js';
import { normalizeCity } from './city.js';
import { isClientIpAddress } from './client-ip.js';
import { normalizeCountry } from './country.js';
import { readDateOfBirth } from './date-of-birth.js';
import { normalizeEmail } from './em.js';
import { normalizeExternalId } from './external-id.js';
import { isFbCookieValue } from './fb-cookie.js';
import { normalizeGender } from './gender.js';
import { meantUserDataKey } from './key-names.js';
import {
  HASHED_USER_DATA_KEYS,
  hashedValuesOf,
  isHashedUserDataKey,
  isPlainUserDataKey,
  PLAIN_USER_DATA_KEYS,
  plainValuesOf,
  writeHashedValue,
  writePlainValue,
} from './keys.js';
import { normalizeName } from './names.js';
import { normalizePhoneNumber } from './ph.js';
import { canonicalHash, isSha256Hash } from './prehashed.js';
import { normalizeState } from './state.js';
import type {
  DateOrder,
  HashedUserDataKey,
  UserData,
  UserDataInput,
  UserDataOptions,
} from './types.js';
import { normalizeZip } from './zip.js';

// Meta's rules per key: https://developers.facebook.com/documentation/ads-commerce/conversions-api/parameters/customer-information-parameters [CIP]
// A value that can't be normalized is dropped with a warning instead of failing the event: the
// other keys still match the customer. Issue messages are fixed strings, so they never carry PII.

const MESSAGES = {
  invalid_user_data: 'user_data must be an object.',
  unknown_user_data_key: 'Not a Meta customer information parameter; dropped.',
  invalid_type: 'Expected a string (hashed keys also take a list of strings); dropped.',
  invalid_email:
    'Not an email address (one @ and a domain with a dot; no brackets, quotes, commas or semicolons around it); dropped.',
  invalid_phone: 'Not a phone number (7 to 15 digits including the country code); dropped.',
  phone_without_country_code:
    "National phone number with no country known: sent as digits, country code unverified. Set user_data.country, or the defaultCountry option (createCapi's buildOptions: { defaultCountry: 'US' }).",
  invalid_name: 'No letters left after normalization; dropped.',
  invalid_gender: 'Meta accepts only f or m (or a common synonym such as female or male); dropped.',
  invalid_date_of_birth:
    'Not a date of birth (YYYY-MM-DD, YYYYMMDD, DD/MM/YYYY, MM/DD/YYYY with / - or ., or a Date; year 1900 to this year); dropped.',
  ambiguous_date_of_birth:
    "Day and month can be read either way round (both 12 or less); dropped, not guessed. Set the dateOrder option ('dmy' or 'mdy') or send YYYY-MM-DD.",
  invalid_date_order: "The dateOrder option is not 'dmy', 'mdy' or 'ymd'; ignored.",
  invalid_city: 'No letters left after normalization; dropped.',
  invalid_state: 'No letters left after normalization; dropped.',
  invalid_zip: 'No letters or digits left after normalization; dropped.',
  invalid_country: 'Not an ISO 3166-1 country code or a known country name; dropped.',
  invalid_external_id: 'Empty external ID; dropped.',
  hash_of_empty_value:
    'The SHA-256 of an empty string: hashed upstream from a missing value, it matches no one; dropped.',
  invalid_default_country:
    'The defaultCountry option is not an ISO 3166-1 country code or a known country name; ignored.',
  invalid_client_ip_address: 'Not a valid IPv4 or IPv6 address; dropped.',
  hashed_client_user_agent:
    "Looks SHA-256 hashed; Meta matches on the browser's user agent as sent (User-Agent header), unhashed; dropped.",
  invalid_fbc:
    'Not shaped like fb.<subdomain index>.<creation time in ms>.<fbclid>; dropped. Build it from the fbclid query parameter rather than sending the raw fbclid.',
  invalid_fbp:
    'Not shaped like fb.<subdomain index>.<creation time in ms>.<random number>; dropped.',
  invalid_fb_login_id: 'Must be an integer ID; dropped.',
  invalid_lead_id: 'Must be an integer ID; dropped.',
} as const;

type Code = keyof typeof MESSAGES;

const INVALID_CODE: Record<HashedUserDataKey, Code> = {
  em: 'invalid_email',
  ph: 'invalid_phone',
  fn: 'invalid_name',
  ln: 'invalid_name',
  db: 'invalid_date_of_birth',
  ge: 'invalid_gender',
  ct: 'invalid_city',
  st: 'invalid_state',
  zp: 'invalid_zip',
  country: 'invalid_country',
  external_id: 'invalid_external_id',
};

/** What one normalization run needs: where issues go and what the address says about the country. */
interface Run {
  issues: Issue[] | undefined;
  path: string;
  /** Lowercase ISO alpha-2 from `user_data.country` or `defaultCountry`, if known in plaintext. */
  country: string | undefined;
  now: number;
  /** Decides year-last dates of birth that read both ways; unset, they are reported. */
  dateOrder: DateOrder | undefined;
}

function report(
  run: Run,
  key: string,
  index: number,
  code: Code,
  severity: Issue['severity'] = 'warning',
  message: string = MESSAGES[code],
): void {
  if (run.issues === undefined) return;
  const path = index < 0 ? `${run.path}.${key}` : `${run.path}.${key}[${index}]`;
  run.issues.push({ path, code, message, severity });
}

/** Numbers are accepted where a string is expected (zip codes, IDs): JSON and spreadsheets produce them. */
function asText(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value === 'bigint') return value.toString();
  return undefined;
}

/** `YYYYMMDD`, or `undefined` after reporting why not (an ambiguous date has its own code). */
function dateOfBirth(value: string | Date, run: Run, index: number): string | undefined {
  const reading = readDateOfBirth(value, run.now, run.dateOrder);
  if (reading.ok) return reading.value;
  report(
    run,
    'db',
    index,
    reading.reason === 'ambiguous' ? 'ambiguous_date_of_birth' : 'invalid_date_of_birth',
  );
  return undefined;
}

function isDateOrder(value: unknown): value is DateOrder {
  return value === 'dmy' || value === 'mdy' || value === 'ymd';
}

function normalizeOne(
  key: HashedUserDataKey,
  text: string,
  run: Run,
  index: number,
): string | undefined {
  switch (key) {
    case 'em':
      return normalizeEmail(text);
    case 'ph': {
      const phone = normalizePhoneNumber(text, run.country);
      if (phone !== undefined && !phone.hasCountryCode) {
        report(run, key, index, 'phone_without_country_code');
      }
      return phone?.digits;
    }
    case 'fn':
    case 'ln':
      return normalizeName(text);
    case 'db':
      return dateOfBirth(text, run, index);
    case 'ge':
      return normalizeGender(text);
    case 'ct':
      return normalizeCity(text);
    case 'st':
      return normalizeState(text, run.country);
    case 'zp':
      return normalizeZip(text, run.country);
    case 'country':
      return normalizeCountry(text);
    case 'external_id':
      return normalizeExternalId(text);
  }
}

/**
 * `list` without repeats, first occurrences in order. One `Set` for the whole list: a scan of the
 * kept values per value is quadratic, and a relay with `allowUserData` takes lists from the page
 * (40 000 IDs in a 440 KB body took 6.5 s of one thread that way).
 */
function unique(list: string[]): string[] {
  if (list.length < 2) return list;
  const seen = new Set(list);
  return seen.size === list.length ? list : Array.from(seen);
}

/** SHA-256 of the empty string, lowercase hex. */
const EMPTY_STRING_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

/** Turns a normalized value into what is sent: its SHA-256, or itself when not hashing. */
type Finish = (normalized: string) => string;

function normalizeValue(
  key: HashedUserDataKey,
  raw: unknown,
  run: Run,
  index: number,
  out: string[],
  finish: Finish | undefined,
): void {
  if (raw === undefined || raw === null) return;
  if (key === 'db' && raw instanceof Date) {
    const date = dateOfBirth(raw, run, index);
    if (date !== undefined) out.push(finish === undefined ? date : finish(date));
    return;
  }
  const text = asText(raw);
  if (text === undefined) {
    report(run, key, index, 'invalid_type');
    return;
  }
  const trimmed = text.trim();
  if (trimmed === '') return; // an empty form field is no data, not an error
  if (isSha256Hash(trimmed)) {
    const hash = canonicalHash(trimmed);
    // An empty field is no data (above), and so is its hash, which a pipeline hashing every field
    // produces; sent, it matches no one (and the mock Graph API refuses it).
    if (hash.startsWith(EMPTY_STRING_SHA256)) report(run, key, index, 'hash_of_empty_value');
    else out.push(hash);
    return;
  }
  const normalized = normalizeOne(key, trimmed, run, index);
  if (normalized !== undefined) out.push(finish === undefined ? normalized : finish(normalized));
  else if (key !== 'db') report(run, key, index, INVALID_CODE[key]); // db reported its own reason
}

/**
 * The values of one hashed key, normalized, de-duplicated and, with `finish`, hashed in the same
 * pass (one list per key; a raw value and its hash given together end up as one hash).
 */
function normalizeHashedKey(
  key: HashedUserDataKey,
  raw: unknown,
  run: Run,
  finish?: Finish | undefined,
): string[] {
  const out: string[] = [];
  if (Array.isArray(raw)) {
    for (let i = 0; i < raw.length; i++) normalizeValue(key, raw[i], run, i, out, finish);
    return unique(out);
  }
  normalizeValue(key, raw, run, -1, out, finish);
  return out;
}

// A country, a state or a gender is one of a few hundred values repeated on nearly every event, so
// their hashes are kept (bounded: the values are client input) rather than recomputed: 2–3 of a
// fully populated event's 9 digests. Not for the personal keys (email, phone, names, city, ZIP,
// date of birth, external ID): a cache would keep customers' data in memory past their event.
const ENUMERATED_KEYS: ReadonlySet<HashedUserDataKey> = new Set(['country', 'st', 'ge']);
const enumeratedHashes = new Map<string, string>();
const MAX_ENUMERATED_HASHES = 1024;

function hashEnumerated(value: string): string {
  if (isSha256Hash(value)) return value;
  let digest = enumeratedHashes.get(value);
  if (digest === undefined) {
    digest = sha256Hex(value);
    if (enumeratedHashes.size >= MAX_ENUMERATED_HASHES) enumeratedHashes.clear();
    enumeratedHashes.set(value, digest);
  }
  return digest;
}

// A normalized value that already looks like a hash is sent as it is, as a raw one is.
const hashPersonal: Finish = (value) => (isSha256Hash(value) ? value : sha256Hex(value));

function isDigits(value: string): boolean {
  if (value.length === 0) return false;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return false;
  }
  return true;
}

/** Validates an unhashed key; returns the value to send, or `undefined` to drop it. */
function plainValue(key: string, raw: unknown, run: Run): string | number | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (key === 'fb_login_id' || key === 'lead_id') {
    // Meta types these as integers; IDs beyond 2^53 only survive as strings, so both are kept as given.
    const valid =
      typeof raw === 'number'
        ? Number.isSafeInteger(raw) && raw >= 0
        : typeof raw === 'string' && (raw.trim() === '' || isDigits(raw.trim()));
    if (!valid) {
      report(run, key, -1, key === 'fb_login_id' ? 'invalid_fb_login_id' : 'invalid_lead_id');
      return undefined;
    }
    if (typeof raw === 'number') return raw;
  }
  const text = asText(raw);
  if (text === undefined) {
    report(run, key, -1, 'invalid_type');
    return undefined;
  }
  const value = text.trim();
  if (value === '') return undefined;
  if (key === 'client_ip_address' && !isClientIpAddress(value)) {
    report(run, key, -1, 'invalid_client_ip_address');
    return undefined;
  }
  // A pipeline that hashes every field hashes this one too: Meta lists it among the keys never
  // hashed [CIP], a hash of it matches no browser, and the mock Graph API refuses the event for it.
  if (key === 'client_user_agent' && isSha256Hash(value)) {
    report(run, key, -1, 'hashed_client_user_agent');
    return undefined;
  }
  if (key === 'fbc' || key === 'fbp') {
    if (!isFbCookieValue(value)) {
      report(run, key, -1, key === 'fbc' ? 'invalid_fbc' : 'invalid_fbp');
      return undefined;
    }
    // Nearly always a view into the Cookie header or a concatenation (a minted `_fbp`, a built
    // `_fbc`): copied here, for tracked events only, rather than in every request's context.
    return flatString(value);
  }
  // Trimming made a view into the caller's string (see flatString).
  return value.length === text.length ? value : flatString(value);
}

const COUNTRY_AT = HASHED_USER_DATA_KEYS.indexOf('country');

function firstPlainCountry(countries: readonly string[]): string | undefined {
  for (const country of countries) if (country.length === 2) return country;
  return undefined;
}

/**
 * Normalizes (and, with `hash`, hashes) every key of `input` into a new wire-shaped object, keys in
 * Meta's documented order. Shared by {@link normalizeUserData} and `hashUserData`.
 */
export function processUserData(
  input: UserDataInput,
  options: UserDataOptions | undefined,
  hash: boolean,
): UserData {
  const run: Run = {
    issues: options?.issues,
    path: options?.path ?? 'user_data',
    country: undefined,
    now: options?.now?.() ?? Date.now(),
    dateOrder: undefined,
  };
  const out: UserData = {};
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    run.issues?.push({
      path: run.path,
      code: 'invalid_user_data',
      message: MESSAGES.invalid_user_data,
      severity: 'error',
    });
    return out;
  }
  const source = input as Record<string, unknown>;
  // `Object.keys`, not `for…in` + `Object.hasOwn`: `for…in` also enumerates the prototype chain,
  // which runs the traps of a Proxy there (or this object's `getPrototypeOf` trap) and turned an
  // event Object.keys reads fine into an `unreadable_value` drop; and on Node 26 it was no faster.
  for (const key of Object.keys(source)) {
    if (!isHashedUserDataKey(key) && !isPlainUserDataKey(key) && source[key] !== undefined) {
      // `email` or `phone` for `em` or `ph`: the customer's email was dropped, and the message
      // said only that the key is not Meta's. The suggestion is one of Meta's names, never a value.
      const meant = run.issues === undefined ? undefined : meantUserDataKey(key);
      report(
        run,
        key,
        -1,
        'unknown_user_data_key',
        'warning',
        meant === undefined
          ? undefined
          : `${MESSAGES.unknown_user_data_key} Meta's name for it is ${meant}: write ${run.path}.${meant}${isHashedUserDataKey(meant) ? ' (capi-kit normalizes and hashes it)' : ''}.`,
      );
    }
  }

  // Each key read once, by name (see hashedValuesOf). The country is needed first: it decides how
  // national phone numbers, US ZIP codes and state names are read.
  const hashedRaw = hashedValuesOf(source);
  const countries = normalizeHashedKey('country', hashedRaw[COUNTRY_AT], run);
  run.country = firstPlainCountry(countries);
  if (run.country === undefined && options?.defaultCountry !== undefined) {
    const fallback = normalizeCountry(options.defaultCountry);
    if (fallback === undefined) {
      run.issues?.push({
        path: 'defaultCountry',
        code: 'invalid_default_country',
        message: MESSAGES.invalid_default_country,
        severity: 'warning',
      });
    }
    run.country = fallback;
  }

  const dateOrder = options?.dateOrder;
  if (isDateOrder(dateOrder)) run.dateOrder = dateOrder;
  else if (dateOrder !== undefined) {
    run.issues?.push({
      path: 'dateOrder',
      code: 'invalid_date_order',
      message: MESSAGES.invalid_date_order,
      severity: 'warning',
    });
  }

  for (let i = 0; i < HASHED_USER_DATA_KEYS.length; i++) {
    const raw = hashedRaw[i];
    if (raw === undefined || raw === null) continue;
    const key = HASHED_USER_DATA_KEYS[i] as HashedUserDataKey;
    const finish = hash ? (ENUMERATED_KEYS.has(key) ? hashEnumerated : hashPersonal) : undefined;
    let values: string[];
    if (key !== 'country') values = normalizeHashedKey(key, raw, run, finish);
    else if (finish === undefined) values = countries;
    else {
      // Normalized first (run.country); hashed here, de-duplicated again like the others.
      values = unique(countries.map(finish));
    }
    if (values.length === 0) continue;
    writeHashedValue(out, i, values);
  }
  const plainRaw = plainValuesOf(source);
  for (let i = 0; i < PLAIN_USER_DATA_KEYS.length; i++) {
    const key = PLAIN_USER_DATA_KEYS[i] as string;
    const value = plainValue(key, plainRaw[i], run);
    if (value === undefined) continue;
    // Only fb_login_id and lead_id may stay numbers; the rest were turned into strings above.
    writePlainValue(out, i, value);
  }
  return out;
}

/**
 * Normalizes raw `user_data` the way Meta hashes it, without hashing: hashed keys become
 * de-duplicated string lists, already-hashed values pass through, invalid values are dropped and
 * reported in `options.issues`. Never throws, unless reading `input` does (a getter, a Proxy trap).
 * @example normalizeUserData({ em: ' John_Smith@Gmail.com ', country: 'United States' })
 * // { em: ['john_smith@gmail.com'], country: ['us'] }
 */
export function normalizeUserData(input: UserDataInput, options?: UserDataOptions): UserData {
  return processUserData(input, options, false);
}
