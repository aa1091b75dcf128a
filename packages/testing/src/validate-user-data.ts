import { isIP } from 'node:net';
// The core's list, bundled in at build time like match-quality.ts (no run-time dependency on core).
import { HASHED_USER_DATA_KEYS } from '../../core/src/user-data/keys.js';
import {
  invalid,
  isNonEmptyString,
  isRecord,
  type PathPart,
  required,
  type Violation,
} from './field-checks.js';

/** [CIP] keys Meta wants SHA-256 hashed (the project also hashes `external_id`). */
const HASHED_KEYS: ReadonlySet<string> = new Set([
  ...HASHED_USER_DATA_KEYS,
  // Legacy hashed keys still listed by the Business SDKs.
  'f5first',
  'f5last',
  'fi',
  'dobd',
  'dobm',
  'doby',
]);

/** [CIP] keys sent raw as non-empty strings, checked only for shape. */
const RAW_STRING_KEYS = new Set([
  'subscription_id',
  'madid',
  'anon_id',
  'page_id',
  'page_scoped_user_id',
  'ctwa_clid',
  'ig_account_id',
  'ig_sid',
]);

/** [CIP] keys Meta types as integers. */
const INTEGER_KEYS = new Set(['fb_login_id', 'lead_id']);

/**
 * [BP] "Invalid combinations": an event whose customer information is only a subset of one of
 * these sets is too broad to match.
 */
const TOO_BROAD_SETS: readonly (readonly string[])[] = [
  ['ct', 'country', 'st', 'zp', 'ge', 'client_user_agent'],
  ['db', 'client_user_agent'],
  ['fn', 'ge'],
  ['ln', 'ge'],
];

/** Parameter Builder appendix: `.` + 2 (v1) to 8 (v2) base64url characters (reference §5). */
const APPENDIX = '(?:\\.[A-Za-z0-9_-]{2,8})?';
const SHA256_HEX = new RegExp(`^[0-9a-f]{64}${APPENDIX}$`);
const ANY_CASE_HEX_64 = /^[0-9a-fA-F]{64}$/;
/** [FBC] `fb.{subdomainIndex}.{creationTime}.{payload}` plus the optional appendix. */
const FB_COOKIE = new RegExp(`^fb\\.\\d\\.\\d+\\.[^.\\s]+${APPENDIX}$`);
const APPENDIX_SUFFIX = /\.[A-Za-z0-9_-]{2,8}$/;

const EMPTY_STRING_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

const checkHashed = (value: unknown, path: PathPart[]): Violation | undefined => {
  const one = (v: unknown, p: PathPart[]): Violation | undefined => {
    if (typeof v !== 'string') return invalid(p, 'must be a SHA-256 hex string');
    if (SHA256_HEX.test(v)) {
      // Meta accepts it, but it matches no one: the client hashed a missing value.
      return v.startsWith(EMPTY_STRING_SHA256)
        ? invalid(p, 'is the SHA-256 of an empty string; omit the key instead')
        : undefined;
    }
    if (ANY_CASE_HEX_64.test(v.replace(APPENDIX_SUFFIX, ''))) {
      return invalid(p, 'must be lowercase hex');
    }
    return invalid(p, 'must be SHA-256 hashed (64 lowercase hex characters); it looks unhashed');
  };
  if (Array.isArray(value)) {
    if (value.length === 0) return invalid(path, 'must not be an empty list');
    for (const [i, v] of value.entries()) {
      const violation = one(v, [...path, i]);
      if (violation) return violation;
    }
    return undefined;
  }
  return one(value, path);
};

const isIpWithOptionalAppendix = (v: string): boolean =>
  isIP(v) !== 0 || (APPENDIX_SUFFIX.test(v) && isIP(v.replace(APPENDIX_SUFFIX, '')) !== 0);

const checkUserDataKey = (key: string, value: unknown, path: PathPart[]): Violation | undefined => {
  if (HASHED_KEYS.has(key)) return checkHashed(value, path);
  if (key === 'client_ip_address') {
    return typeof value === 'string' && isIpWithOptionalAppendix(value)
      ? undefined
      : invalid(path, 'must be a raw IPv4 or IPv6 address (not hashed, no spaces)');
  }
  if (key === 'client_user_agent') {
    if (!isNonEmptyString(value)) return invalid(path, 'must be a non-empty string');
    return SHA256_HEX.test(value) ? invalid(path, 'must be sent unhashed') : undefined;
  }
  if (key === 'fbc' || key === 'fbp') {
    if (typeof value !== 'string') return invalid(path, 'must be a string');
    if (ANY_CASE_HEX_64.test(value.replace(APPENDIX_SUFFIX, ''))) {
      return invalid(path, 'must be sent unhashed');
    }
    return FB_COOKIE.test(value)
      ? undefined
      : invalid(path, 'must look like fb.<subdomainIndex>.<creationTime>.<id>');
  }
  if (RAW_STRING_KEYS.has(key)) {
    return isNonEmptyString(value) ? undefined : invalid(path, 'must be a non-empty string');
  }
  if (INTEGER_KEYS.has(key)) {
    return (typeof value === 'number' && Number.isInteger(value)) ||
      (typeof value === 'string' && /^\d+$/.test(value))
      ? undefined
      : invalid(path, 'must be an integer id');
  }
  return invalid(path, 'is not a known user_data parameter');
};

/** [CIP] Checks one event's `user_data`: each key's form, `client_user_agent` for website events, enough to match. */
export const checkUserData = (
  value: unknown,
  at: PathPart[],
  actionSource: unknown,
): Violation | undefined => {
  const path = [...at, 'user_data'];
  if (value === undefined || value === null) return required(path);
  if (!isRecord(value)) return invalid(path, 'must be an object');
  const present: string[] = [];
  for (const [key, v] of Object.entries(value)) {
    if (v === undefined || v === null) continue;
    const violation = checkUserDataKey(key, v, [...path, key]);
    if (violation) return violation;
    present.push(key);
  }
  if (actionSource === 'website' && !present.includes('client_user_agent')) {
    return required([...path, 'client_user_agent']);
  }
  if (present.length === 0) {
    return {
      path,
      kind: 'insufficient',
      reason: 'must contain at least one customer information parameter',
    };
  }
  const tooBroad = TOO_BROAD_SETS.find((set) => present.every((key) => set.includes(key)));
  if (tooBroad) {
    return {
      path,
      kind: 'insufficient',
      reason: `is too broad to match: only ${present.join(', ')} (a subset of ${tooBroad.join('+')})`,
    };
  }
  return undefined;
};
