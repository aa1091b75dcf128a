import {
  type Issue,
  isClientIpAddress,
  isSha256Hash,
  normalizeCountry,
  normalizeEmail,
  normalizeExternalId,
  normalizePhoneNumber,
  sha256Hex,
  type UserDataInput,
} from '@capi-kit/core';
import type { TikTokContext } from './context.js';

// TikTok's `user` object ([EAPI] in sources.ts): `email`, `phone` and `external_id` SHA-256
// hashed; `ttclid`, `ttp`, `ip` and `user_agent` raw. Email and external ID are normalized as
// for Meta (trim + lowercase; trim), so the core's normalizers are reused. The phone is where the
// platforms differ: Meta hashes the E.164 digits without `+`, TikTok the E.164 string with it
// ([PH]), so the same normalizer runs and a different string is hashed.

/** TikTok's `data[].user` object, as sent. */
export interface TikTokUser {
  /** SHA-256 of the normalized email. */
  email?: string;
  /** SHA-256 of the phone in E.164 with `+` (`+16505551212`). */
  phone?: string;
  /** SHA-256 of the trimmed external ID. */
  external_id?: string;
  /** TikTok click ID, raw. */
  ttclid?: string;
  /** `_ttp` cookie value, raw. */
  ttp?: string;
  /** Client IP, raw. */
  ip?: string;
  /** Client user agent, raw. */
  user_agent?: string;
}

/** What {@link normalizeTikTokUser} returns: the user object and what it could not use. */
export interface TikTokUserResult {
  user: TikTokUser;
  issues: Issue[];
}

type Values = string | readonly string[] | null | undefined;

const warning = (path: string, code: string, message: string): Issue => ({
  path,
  code,
  message,
  severity: 'warning',
});

/**
 * A value as text, the way the core reads `user_data` for Meta: strings, and numbers (IDs and
 * phones come as numbers from databases, spreadsheets and JSON); anything else is reported.
 */
function textOf(value: unknown, path: string, issues: Issue[]): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value === 'bigint') return value.toString();
  issues.push(warning(path, 'invalid_type', 'Not a string or number; not sent to TikTok.'));
  return undefined;
}

/** The values of a Meta `user_data` field as text, with their issue paths. */
function valuesOf(
  value: unknown,
  path: string,
  issues: Issue[],
): { value: string; path: string }[] {
  if (value === null || value === undefined) return [];
  const out: { value: string; path: string }[] = [];
  const add = (item: unknown, at: string) => {
    if (item === null || item === undefined) return;
    const text = textOf(item, at, issues);
    if (text !== undefined) out.push({ value: text, path: at });
  };
  if (!Array.isArray(value)) add(value, path);
  else for (let i = 0; i < value.length; i++) add(value[i], `${path}[${i}]`);
  return out;
}

/** A value hashed upstream, as TikTok takes it: the 64 hex digits, lowercased (a Parameter Builder appendix is Meta's and is cut). */
const canonicalHex = (value: string): string => value.slice(0, 64).toLowerCase();

/**
 * TikTok takes one value per key (the request sample shows strings, [EAPI]); the first usable one
 * is sent and later different ones are reported, so a customer with two emails is never silently
 * half-sent.
 */
function first<T>(
  entries: readonly { value: string; path: string }[],
  use: (entry: { value: string; path: string }) => T | undefined,
  issues: Issue[],
  field: string,
): T | undefined {
  let chosen: T | undefined;
  for (const entry of entries) {
    const result = use(entry);
    if (result === undefined) continue;
    if (chosen === undefined) chosen = result;
    // The same value again (an email given twice, or raw and hashed) loses nothing.
    else if (result !== chosen) {
      issues.push(
        warning(
          entry.path,
          'tiktok_one_value',
          `TikTok takes one ${field}; only the first usable value is sent.`,
        ),
      );
    }
  }
  return chosen;
}

// SHA-256 of the empty string: a value hashed by a caller that had nothing to hash. TikTok would
// take it as a real email, phone or id (and refuse it, per the mock's reading of [EAPI]), so it is
// left out like an empty value.
const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

/** A pre-hashed value as sent (lowercase hex), or `undefined` with a warning for a hash of nothing. */
function prehashed(raw: string, path: string, issues: Issue[]): string | undefined {
  const hex = canonicalHex(raw);
  if (hex !== EMPTY_SHA256) return hex;
  issues.push(
    warning(path, 'hash_of_empty_value', 'The SHA-256 of an empty string; not sent to TikTok.'),
  );
  return undefined;
}

function hashEmail(entry: { value: string; path: string }, issues: Issue[]): string | undefined {
  const raw = entry.value.trim();
  if (isSha256Hash(raw)) return prehashed(raw, entry.path, issues);
  const email = normalizeEmail(raw);
  if (email === undefined) {
    issues.push(warning(entry.path, 'invalid_email', 'Not an email address; not sent to TikTok.'));
    return undefined;
  }
  return sha256Hex(email);
}

function hashPhone(
  entry: { value: string; path: string },
  country: string | undefined,
  issues: Issue[],
): string | undefined {
  const raw = entry.value.trim();
  if (isSha256Hash(raw)) {
    // Whether it was hashed with TikTok's `+` cannot be seen; Meta's rule (no `+`) would not match.
    issues.push(
      warning(
        entry.path,
        'tiktok_prehashed_phone',
        "A pre-hashed phone is sent as is: TikTok matches only a hash of E.164 with '+' (+16505551212), not Meta's digits-only form.",
      ),
    );
    return prehashed(raw, entry.path, issues);
  }
  const phone = normalizePhoneNumber(raw, country);
  if (phone === undefined) {
    issues.push(warning(entry.path, 'invalid_phone', 'Not a phone number; not sent to TikTok.'));
    return undefined;
  }
  if (!phone.hasCountryCode) {
    issues.push(
      warning(
        entry.path,
        'tiktok_phone_without_country_code',
        "TikTok needs the country code: write the number with '+', or set user_data.country or the client's defaultCountry. Not sent to TikTok.",
      ),
    );
    return undefined;
  }
  return sha256Hex(`+${phone.digits}`);
}

function hashExternalId(
  entry: { value: string; path: string },
  issues: Issue[],
): string | undefined {
  const raw = entry.value.trim();
  if (isSha256Hash(raw)) return prehashed(raw, entry.path, issues);
  const id = normalizeExternalId(raw);
  return id === undefined ? undefined : sha256Hex(id);
}

/**
 * The bare address of a `client_ip_address`, or `undefined` when it is not one. Meta's Parameter
 * Builder returns `<ip>.<appendix>`, which the core accepts and Meta takes as is ([PBL]:
 * https://developers.facebook.com/documentation/ads-commerce/conversions-api/parameter-builder-library);
 * TikTok's `user.ip` is the "non-hashed public IP address of the browser" ([EAPI]), and a value
 * that is not one fails the whole batch ([BATCH]), so the appendix is cut, as for pre-hashed
 * values. A bare IPv4 never loses its last octet here: what is left of it (`a.b.c`) is no address.
 */
function bareIp(value: string): string | undefined {
  if (!isClientIpAddress(value)) return undefined;
  const dot = value.lastIndexOf('.');
  if (dot > 0) {
    const address = value.slice(0, dot);
    if (isClientIpAddress(address)) return address;
  }
  return value;
}

function countryOf(value: Values): string | undefined {
  // Unusable countries are the phone's concern here (a national number is reported), not reported
  // twice. The first one that is a country, as the core picks it for Meta: `['', 'us']` (shipping
  // then billing) reads a national number as American on both platforms, not on Meta's alone.
  for (const entry of valuesOf(value, 'user_data.country', [])) {
    const country = normalizeCountry(entry.value);
    if (country !== undefined) return country;
  }
  return undefined;
}

/**
 * Meta-named `user_data` (raw, as `track()` takes it) and the request's TikTok context → TikTok's
 * `user` object, normalized and hashed by TikTok's rules. Never throws on plain data; unusable values are left
 * out and reported as warnings (path and rule, never the value).
 * @example normalizeTikTokUser({ em: ' Jane@Example.com ', ph: '+1 (650) 555-1212' }).user.phone
 * // sha256('+16505551212')
 */
export function normalizeTikTokUser(
  userData: UserDataInput | undefined,
  context: TikTokContext = {},
  defaultCountry?: string,
): TikTokUserResult {
  const issues: Issue[] = [];
  const user: TikTokUser = {};
  let data = userData ?? {};
  if (typeof data !== 'object' || Array.isArray(data)) {
    // An email given as the whole `user_data` (Meta's build refuses it): said, not silently empty.
    issues.push(
      warning('user_data', 'invalid_user_data', 'Not an object; none of it sent to TikTok.'),
    );
    data = {};
  }
  const email = first(
    valuesOf(data.em, 'user_data.em', issues),
    (e) => hashEmail(e, issues),
    issues,
    'email',
  );
  if (email !== undefined) user.email = email;
  // As for Meta: the caller's country, else the client's `defaultCountry`, reads national numbers.
  const country =
    countryOf(data.country) ??
    (defaultCountry === undefined ? undefined : normalizeCountry(defaultCountry));
  const phone = first(
    valuesOf(data.ph, 'user_data.ph', issues),
    (e) => hashPhone(e, country, issues),
    issues,
    'phone',
  );
  if (phone !== undefined) user.phone = phone;
  const externalId = first(
    valuesOf(data.external_id, 'user_data.external_id', issues),
    (e) => hashExternalId(e, issues),
    issues,
    'external_id',
  );
  if (externalId !== undefined) user.external_id = externalId;
  if (context.ttclid !== undefined) user.ttclid = context.ttclid;
  if (context.ttp !== undefined) user.ttp = context.ttp;
  // Plain data of any type may reach here (the core hands the caller's input on): never throw.
  const ip = typeof data.client_ip_address === 'string' ? data.client_ip_address.trim() : undefined;
  if (ip) {
    const address = bareIp(ip);
    if (address !== undefined) user.ip = address;
    else
      issues.push(
        warning(
          'user_data.client_ip_address',
          'invalid_ip',
          'Not an IP address; not sent to TikTok.',
        ),
      );
  }
  const userAgent =
    typeof data.client_user_agent === 'string' ? data.client_user_agent.trim() : undefined;
  if (userAgent) user.user_agent = userAgent;
  return { user, issues };
}
