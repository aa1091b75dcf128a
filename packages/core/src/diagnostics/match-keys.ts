// The match keys Meta's Dataset Quality API reports on, by their `user_data` wire names, and the
// `match_key_feedback.identifier` it names each one with.
// https://developers.facebook.com/documentation/ads-commerce/conversions-api/dataset-quality-api [DQ]
// No imports, on purpose: @capi-kit/testing's mock bundles this file at build time, so its
// Dataset Quality answers and the core's diagnostics name the keys alike.

/** The `user_data` keys the diagnostics count, by their wire names. */
export const MATCH_KEYS = [
  'em',
  'ph',
  'client_ip_address',
  'client_user_agent',
  'fbc',
  'fbp',
  'external_id',
  'fn',
  'ln',
  'db',
  'ge',
  'ct',
  'st',
  'zp',
  'country',
] as const;

/** A `user_data` key the diagnostics count. */
export type MatchKey = (typeof MATCH_KEYS)[number];

/**
 * The Dataset Quality API's `match_key_feedback.identifier` for each key. `email`, `phone`,
 * `ip_address`, `user_agent`, `external_id`, `fbc` appear in Meta's examples; the others follow
 * the same pattern (unverified).
 */
export const MATCH_KEY_IDENTIFIERS: Readonly<Record<MatchKey, string>> = {
  em: 'email',
  ph: 'phone',
  client_ip_address: 'ip_address',
  client_user_agent: 'user_agent',
  fbc: 'fbc',
  fbp: 'fbp',
  external_id: 'external_id',
  fn: 'first_name',
  ln: 'last_name',
  db: 'date_of_birth',
  ge: 'gender',
  ct: 'city',
  st: 'state',
  zp: 'zip',
  country: 'country',
};
