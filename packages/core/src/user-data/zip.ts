import { compactLowercase } from './compact-text.js';

// `zp`: lowercase, no spaces or dash; only the first 5 digits of US ZIP codes; area, district and
// sector for the UK (`M1 1AE` → `m11ae`).
// https://developers.facebook.com/documentation/ads-commerce/conversions-api/parameters/customer-information-parameters [CIP]
// Meta's Parameter Builder cuts every code at `-` and keeps inner spaces (`m1 1ae`); cutting at
// `-` would also truncate Brazil's `01310-100`, so only US ZIP+4 codes are shortened.

function isDigits(value: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return false;
  }
  return true;
}

/**
 * `12345-6789` or `12345 6789`: a ZIP+4 code. Nine bare digits are left alone without a country:
 * they are not recognizably American, and cutting them would make normalization non-idempotent.
 */
function isZipPlusFour(value: string): boolean {
  if (value.length !== 10) return false;
  const separator = value.charCodeAt(5);
  return (
    (separator === 0x2d || separator === 0x20) && isDigits(value, 0, 5) && isDigits(value, 6, 10)
  );
}

/**
 * Normalizes a postal code: lowercased, spaces, dashes and punctuation removed. US ZIP codes are cut
 * to their first 5 digits when `country` (ISO alpha-2, any case) is `us`, or when no country is
 * known and the value is shaped like a ZIP+4 code. Returns `undefined` when nothing is left.
 * @example normalizeZip('94025-1234') // '94025'
 * @example normalizeZip('M1 1AE') // 'm11ae'
 */
export function normalizeZip(value: string, country?: string | undefined): string | undefined {
  const trimmed = value.trim();
  const where = country?.toLowerCase();
  const zip = compactLowercase(trimmed);
  if (zip === '') return undefined;
  const us = where === 'us' || (where === undefined && isZipPlusFour(trimmed));
  return us && zip.length > 5 && isDigits(zip, 0, 5) ? zip.slice(0, 5) : zip;
}
