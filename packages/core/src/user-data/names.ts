import { compactLowercase } from './compact-text.js';

// `fn`/`ln`: lowercase, no punctuation; a–z recommended, other characters in UTF-8.
// https://developers.facebook.com/documentation/ads-commerce/conversions-api/parameters/customer-information-parameters [CIP]

/**
 * Normalizes a first or last name: lowercased, spaces and punctuation removed, letters of any
 * script kept in NFC. Returns `undefined` when nothing is left.
 * @example normalizeName('Valéry') // 'valéry'
 * @example normalizeName("O'Brien-Smith") // 'obriensmith'
 */
export function normalizeName(value: string): string | undefined {
  const name = compactLowercase(value);
  return name === '' ? undefined : name;
}
