import type { HashedUserDataKey, PlainUserDataKey } from './types.js';

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
