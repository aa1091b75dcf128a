import { lookupKey } from './compact-text.js';
import { COUNTRIES } from './country-table.js';

// `country`: lowercase ISO 3166-1 alpha-2 codes; Meta asks to always
// send it (`United States` → `us`).
// https://developers.facebook.com/documentation/ads-commerce/conversions-api/parameters/customer-information-parameters [CIP]

let countries: Map<string, string> | undefined;

/** Alpha-2 and alpha-3 codes, names and aliases, keyed by {@link lookupKey}; built on first use. */
function countryTable(): Map<string, string> {
  if (countries === undefined) {
    countries = new Map();
    // Codes first so that no alias can shadow an assigned code.
    for (const [alpha2] of COUNTRIES) countries.set(alpha2, alpha2);
    for (const [alpha2, alpha3, ...names] of COUNTRIES) {
      if (!countries.has(alpha3)) countries.set(alpha3, alpha2);
      for (const name of names) {
        const key = lookupKey(name);
        if (!countries.has(key)) countries.set(key, alpha2);
      }
    }
  }
  return countries;
}

/**
 * Normalizes a country to its lowercase ISO 3166-1 alpha-2 code, from an alpha-2 or alpha-3 code
 * or an English name or common alias, in any case and with or without accents.
 * Returns `undefined` for anything unknown.
 * @example normalizeCountry('United States') // 'us'
 * @example normalizeCountry('GBR') // 'gb'
 */
export function normalizeCountry(value: string): string | undefined {
  return countryTable().get(lookupKey(value));
}
