// A local, transparent stand-in for Meta's Event Match Quality. Meta publishes no per-parameter
// weights; it names em, client_ip_address, fn/ln and ph as high-quality keys and shows email and IP
// as the largest "potential ACR increase" ([BP], [VS], [DQ]; capi.md §6). The weights below are
// this project's choice, documented in docs/diagnostics.md; they sum to 10.
// https://developers.facebook.com/documentation/ads-commerce/conversions-api/dataset-quality-api [DQ]

import { looksInternalClientIp } from './internal-client-ip.js';
import { MATCH_KEY_IDENTIFIERS, MATCH_KEYS, type MatchKey } from './match-keys.js';

export { MATCH_KEY_IDENTIFIERS, MATCH_KEYS, type MatchKey };

/**
 * Points (hundredths of the 0–10 scale) each key adds. IP address and user agent count together:
 * 1.5 for both, 0.5 for either alone (Meta matches browsers on the pair).
 */
export const MATCH_KEY_WEIGHTS: Readonly<Record<MatchKey, number>> = {
  em: 300,
  ph: 200,
  client_ip_address: 0,
  client_user_agent: 0,
  fbc: 100,
  fbp: 75,
  external_id: 75,
  fn: 25,
  ln: 25,
  db: 10,
  ge: 5,
  ct: 10,
  st: 10,
  zp: 10,
  country: 5,
};
const IP_AND_USER_AGENT = 150;
const IP_OR_USER_AGENT = 50;

// A Map: a key of the caller's object is looked up, and an object's prototype would answer for
// `toString` or `constructor` (a function, which `1 << i` turned into the email's bit).
const INDEX: ReadonlyMap<string, number> = new Map(MATCH_KEYS.map((key, i) => [key, i]));
const IP_INDEX = MATCH_KEYS.indexOf('client_ip_address');
const IP_BIT = 1 << IP_INDEX;
const UA_BIT = 1 << MATCH_KEYS.indexOf('client_user_agent');
const WEIGHT_BY_BIT = MATCH_KEYS.map((key) => MATCH_KEY_WEIGHTS[key]);

const present = (value: unknown): boolean => {
  if (value === undefined || value === null || value === '') return false;
  if (Array.isArray(value)) return value.length > 0;
  return true;
};

/**
 * Bit `i` is set when `userData` carries `MATCH_KEYS[i]` (non-empty). Reads key names, and of
 * `client_ip_address` only whether it is internal (loopback, private, link-local): a proxy's or
 * the server's own, on which Meta matches no one, so it is not counted as a key.
 * @example matchKeyMask({ em: ['…'], fbp: 'fb.1.…' }) // 0b100001
 */
export const matchKeyMask = (userData: object | undefined): number => {
  let mask = 0;
  if (!userData) return mask;
  for (const key in userData) {
    const i = INDEX.get(key);
    if (i === undefined) continue;
    const value = (userData as Record<string, unknown>)[key];
    if (!present(value)) continue;
    if (i === IP_INDEX && typeof value === 'string' && looksInternalClientIp(value)) continue;
    mask |= 1 << i;
  }
  return mask;
};

/** The estimate of one event in hundredths (0–1000), from {@link matchKeyMask}. */
export const matchQualityPoints = (mask: number): number => {
  let points = 0;
  for (let i = 0; i < WEIGHT_BY_BIT.length; i++)
    if (mask & (1 << i)) points += WEIGHT_BY_BIT[i] as number;
  const ip = (mask & IP_BIT) !== 0;
  const ua = (mask & UA_BIT) !== 0;
  if (ip && ua) points += IP_AND_USER_AGENT;
  else if (ip || ua) points += IP_OR_USER_AGENT;
  return points;
};

/**
 * Local match-quality estimate (0–10) of one event from the keys its `user_data` carries: an
 * estimate with published weights (docs/diagnostics.md), not Meta's Event Match Quality.
 * @example estimateMatchQuality({ em: [h], client_ip_address: ip, client_user_agent: ua }) // 4.5
 */
export const estimateMatchQuality = (userData: object): number =>
  matchQualityPoints(matchKeyMask(userData)) / 100;
