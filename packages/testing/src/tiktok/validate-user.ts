import { isIP } from 'node:net';
import {
  invalid,
  isNonEmptyString,
  isRecord,
  type PathPart,
  required,
  type Violation,
} from '../field-checks.js';

// One event's `user` object ([EAPI] in sources.ts): `email`, `phone` and `external_id` "must be
// hashed with SHA-256 on the client side"; `ttclid`, `ttp`, `ip` and `user_agent` are sent raw
// ("non-hashed"). The sample shows one string per key, so the mock takes exactly that: an array
// is refused (whether TikTok takes arrays is unverified, docs/destinations.md). Written from
// TikTok's sample, not from @capi-kit/tiktok, so a bug in that package's builder is caught here.

/** Keys TikTok wants SHA-256 hashed. */
const HASHED = ['email', 'phone', 'external_id'] as const;
/** Keys TikTok wants raw. */
const RAW = ['ttclid', 'ttp', 'ip', 'user_agent'] as const;

/** Every `user` key of a web event in [EAPI]. */
export const TIKTOK_USER_KEYS: readonly string[] = [...HASHED, ...RAW];

/** Meta's `user_data` names a builder might leak, and TikTok's name for each. */
const META_NAMES: Readonly<Record<string, string>> = {
  em: 'email',
  ph: 'phone',
  client_ip_address: 'ip',
  client_user_agent: 'user_agent',
  fbc: 'ttclid',
  fbp: 'ttp',
};

const SHA256_LOWER = /^[0-9a-f]{64}$/;
const SHA256_ANY_CASE = /^[0-9a-fA-F]{64}$/;
const EMPTY_STRING_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

const checkHashed = (value: unknown, path: PathPart[]): Violation | undefined => {
  if (Array.isArray(value)) {
    return invalid(path, 'must be one SHA-256 string, not a list (TikTok takes one value per key)');
  }
  if (typeof value !== 'string') return invalid(path, 'must be a SHA-256 hex string');
  if (SHA256_LOWER.test(value)) {
    return value === EMPTY_STRING_SHA256
      ? invalid(path, 'is the SHA-256 of an empty string; omit the key instead')
      : undefined;
  }
  if (SHA256_ANY_CASE.test(value)) return invalid(path, 'must be lowercase hex');
  return invalid(path, 'must be SHA-256 hashed (64 lowercase hex characters); it looks unhashed');
};

const checkRaw = (key: string, value: unknown, path: PathPart[]): Violation | undefined => {
  if (!isNonEmptyString(value)) return invalid(path, 'must be a non-empty string');
  if (SHA256_ANY_CASE.test(value)) return invalid(path, 'must be sent raw (unhashed)');
  if (key === 'ip' && isIP(value) === 0) {
    return invalid(path, 'must be a raw IPv4 or IPv6 address (no spaces, no port)');
  }
  return undefined;
};

/** Checks one event's `user`: present, an object, each key TikTok's and in its form. */
export const checkTikTokUser = (value: unknown, at: PathPart[]): Violation | undefined => {
  const path = [...at, 'user'];
  if (value === undefined || value === null) return required(path);
  if (!isRecord(value)) return invalid(path, 'must be an object');
  for (const [key, v] of Object.entries(value)) {
    if (v === undefined || v === null) continue;
    const keyPath = [...path, key];
    if ((HASHED as readonly string[]).includes(key)) {
      const violation = checkHashed(v, keyPath);
      if (violation) return violation;
    } else if ((RAW as readonly string[]).includes(key)) {
      const violation = checkRaw(key, v, keyPath);
      if (violation) return violation;
    } else {
      const tiktokName = META_NAMES[key];
      return invalid(
        keyPath,
        tiktokName === undefined
          ? `is not a TikTok user field (${TIKTOK_USER_KEYS.join(', ')})`
          : `is Meta's name; TikTok's is user.${tiktokName}`,
      );
    }
  }
  return undefined;
};
