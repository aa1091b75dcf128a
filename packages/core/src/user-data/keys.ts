import type { HashedUserDataKey, PlainUserDataKey, UserData } from './types.js';

// The split between hashed and plain keys follows Meta's list of keys not to hash.
// https://developers.facebook.com/documentation/ads-commerce/conversions-api/parameters/customer-information-parameters [CIP]

/** Keys Meta wants normalized and SHA-256 hashed, in the order they are written to the wire. */
export const HASHED_USER_DATA_KEYS = [
  'em',
  'ph',
  'fn',
  'ln',
  'db',
  'ge',
  'ct',
  'st',
  'zp',
  'country',
  'external_id',
] as const satisfies readonly HashedUserDataKey[];

/** Keys Meta wants unhashed, in the order they are written to the wire. */
export const PLAIN_USER_DATA_KEYS = [
  'client_ip_address',
  'client_user_agent',
  'fbc',
  'fbp',
  'subscription_id',
  'fb_login_id',
  'lead_id',
  'anon_id',
  'madid',
  'page_id',
  'page_scoped_user_id',
  'ctwa_clid',
  'ig_account_id',
  'ig_sid',
] as const satisfies readonly PlainUserDataKey[];

const hashed: ReadonlySet<string> = new Set(HASHED_USER_DATA_KEYS);
const plain: ReadonlySet<string> = new Set(PLAIN_USER_DATA_KEYS);

/** True for a key Meta hashes. */
export function isHashedUserDataKey(key: string): key is HashedUserDataKey {
  return hashed.has(key);
}

/** True for a key Meta wants unhashed. */
export function isPlainUserDataKey(key: string): key is PlainUserDataKey {
  return plain.has(key);
}

// Reading a list of keys off a caller's object with `source[key]` in a loop is a megamorphic keyed
// lookup per key, and most of them miss (an event has 3-5 of the 25 keys): about 190 instructions
// each on V8 14 (Node 26), 4.7k per event. A read by name is a cached property access, about 15
// (callgrind, December 2026, docs/architecture.md). So the two lists are read by name here, in
// list order; a test keeps each function in step with its list.

/** The values of `source`'s {@link HASHED_USER_DATA_KEYS}, in that order, read by name. */
export function hashedValuesOf(source: Readonly<Record<string, unknown>>): unknown[] {
  return [
    source.em,
    source.ph,
    source.fn,
    source.ln,
    source.db,
    source.ge,
    source.ct,
    source.st,
    source.zp,
    source.country,
    source.external_id,
  ];
}

/** The values of `source`'s {@link PLAIN_USER_DATA_KEYS}, in that order, read by name. */
export function plainValuesOf(source: Readonly<Record<string, unknown>>): unknown[] {
  return [
    source.client_ip_address,
    source.client_user_agent,
    source.fbc,
    source.fbp,
    source.subscription_id,
    source.fb_login_id,
    source.lead_id,
    source.anon_id,
    source.madid,
    source.page_id,
    source.page_scoped_user_id,
    source.ctwa_clid,
    source.ig_account_id,
    source.ig_sid,
  ];
}

// Writing works the same way: `out[key] = value` with the key from a list is a megamorphic keyed
// store (about 150 instructions a key), a store by name a cached one. One `case` per list entry,
// each its own store site.

/**
 * Sets `out`'s {@link HASHED_USER_DATA_KEYS} entry number `index` to `value`, by name. Called in
 * list order, it writes the keys in their wire order.
 */
export function writeHashedValue(out: UserData, index: number, value: string[]): void {
  switch (index) {
    case 0:
      out.em = value;
      return;
    case 1:
      out.ph = value;
      return;
    case 2:
      out.fn = value;
      return;
    case 3:
      out.ln = value;
      return;
    case 4:
      out.db = value;
      return;
    case 5:
      out.ge = value;
      return;
    case 6:
      out.ct = value;
      return;
    case 7:
      out.st = value;
      return;
    case 8:
      out.zp = value;
      return;
    case 9:
      out.country = value;
      return;
    case 10:
      out.external_id = value;
      return;
  }
  throw new RangeError(`no hashed user_data key at ${index}`);
}

/**
 * Sets `out`'s {@link PLAIN_USER_DATA_KEYS} entry number `index` to `value`, by name. Only
 * `fb_login_id` and `lead_id` take numbers; for the others the caller passes strings.
 */
export function writePlainValue(out: UserData, index: number, value: string | number): void {
  switch (index) {
    case 0:
      out.client_ip_address = value as string;
      return;
    case 1:
      out.client_user_agent = value as string;
      return;
    case 2:
      out.fbc = value as string;
      return;
    case 3:
      out.fbp = value as string;
      return;
    case 4:
      out.subscription_id = value as string;
      return;
    case 5:
      out.fb_login_id = value;
      return;
    case 6:
      out.lead_id = value;
      return;
    case 7:
      out.anon_id = value as string;
      return;
    case 8:
      out.madid = value as string;
      return;
    case 9:
      out.page_id = value as string;
      return;
    case 10:
      out.page_scoped_user_id = value as string;
      return;
    case 11:
      out.ctwa_clid = value as string;
      return;
    case 12:
      out.ig_account_id = value as string;
      return;
    case 13:
      out.ig_sid = value as string;
      return;
  }
  throw new RangeError(`no plain user_data key at ${index}`);
}
