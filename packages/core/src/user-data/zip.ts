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
 * A US ZIP code that lost its leading zeros, kept as a number or by a spreadsheet (02134 Boston,
 * 00601 Puerto Rico, 07030-1234 as `70301234` or `7030-1234`), with them put back and cut to 5
 * digits: every US ZIP code has 5 digits, ZIP+4 9. Read from `zip` (normalized: digits only here)
 * so that the result normalizes to itself; `undefined` for any other length, and when `value`
 * starts with a whole 5-digit ZIP code (`12345-678`, a ZIP+4 short of a digit of its own).
 */
function withLostZeros(zip: string, value: string): string | undefined {
  const length = zip.length;
  if (length !== 3 && length !== 4 && length !== 7 && length !== 8) return undefined;
  if (!isDigits(zip, 0, length)) return undefined;
  if (value.length > 5 && isDigits(value, 0, 5) && !isDigits(value, 5, 6)) return undefined;
  return length < 5 ? zip.padStart(5, '0') : zip.padStart(9, '0').slice(0, 5);
}

/**
 * Normalizes a postal code: lowercased, spaces, dashes and punctuation removed. US ZIP codes are cut
 * to their first 5 digits when `country` (ISO alpha-2, any case) is `us`, or when no country is
 * known and the value is shaped like a ZIP+4 code; with `us`, leading zeros a number dropped are
 * put back (`2134` → `02134`). Returns `undefined` when nothing is left.
 * @example normalizeZip('94025-1234') // '94025'
 * @example normalizeZip('M1 1AE') // 'm11ae'
 */
export function normalizeZip(value: string, country?: string | undefined): string | undefined {
  const trimmed = value.trim();
  const where = country?.toLowerCase();
  const zip = compactLowercase(trimmed);
  if (zip === '') return undefined;
  if (where === 'us') {
    const restored = withLostZeros(zip, trimmed);
    if (restored !== undefined) return restored;
  }
  const us = where === 'us' || (where === undefined && isZipPlusFour(trimmed));
  return us && zip.length > 5 && isDigits(zip, 0, 5) ? zip.slice(0, 5) : zip;
}
