import { compactLowercase } from './compact-text.js';

// `ct`: lowercase, no punctuation, special characters or spaces; letters outside
// a–z stay in UTF-8 as for names. Meta's Parameter Builder keeps only [a-z0-9] and would hash
// `São Paulo` as `sopaulo`; the written rule wins.
// https://developers.facebook.com/documentation/ads-commerce/conversions-api/parameters/customer-information-parameters [CIP]

/**
 * Normalizes a city: lowercased, spaces and punctuation removed, letters of any script kept.
 * Returns `undefined` when nothing is left.
 * @example normalizeCity('São Paulo') // 'sãopaulo'
 */
export function normalizeCity(value: string): string | undefined {
  const city = compactLowercase(value);
  return city === '' ? undefined : city;
}
