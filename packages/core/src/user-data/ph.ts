import type { CountryCode } from 'libphonenumber-js/min';
import { phoneLibrary } from '#platform';
import { NATIONAL_LENGTHS, REGIONS } from './phone-plans.js';

// `ph`: remove symbols, letters and leading zeros; the number must include its country code.
// https://developers.facebook.com/documentation/ads-commerce/conversions-api/parameters/customer-information-parameters [CIP]
//
// Meta's Parameter Builder only keeps digits, so `(650)555-1212` hashes without its country code
// and `+44 (0)7911 123456` keeps the trunk 0; Meta's written rule (E.164 digits) wins here.
// libphonenumber parses national numbers correctly but costs 3–18 µs a call (numbers sharing a
// calling code, like +44 with GG/IM/JE, are the slow ones), so the common shapes take a fast path:
// `+`/`00` international numbers with a possible national length and no trunk 0 after the calling
// code, NANP (+1) numbers, and UK and Australian national numbers. Tests check that these agree
// with libphonenumber on every region's example number and on random valid numbers.

const MIN_DIGITS = 7; // the shortest E.164 numbers in use (e.g. Niue +683 xxxx)
const MAX_DIGITS = 15; // ITU-T E.164 maximum, country code included

/** A normalized phone number and whether its country code is known rather than assumed present. */
export interface NormalizedPhone {
  /** E.164 digits without `+` (`16505551212`). */
  digits: string;
  /** False when the number had no `+`/`00` prefix and no country was known: digits kept as typed. */
  hasCountryCode: boolean;
}

// Calling codes shared by several regions, where libphonenumber tries each region's patterns to
// pick one (8–18 µs), and whose usual national form is trunk 0 + a fixed number of digits: those
// numbers are converted directly. Other shapes (short codes, 1300 numbers) still go to the parser.
const TRUNK_ZERO_NATIONAL_LENGTHS: Readonly<Record<string, readonly number[]>> = {
  '44': [9, 10], // GB, GG, IM, JE
  '61': [9], // AU, CC, CX
};

/**
 * Possible national-number lengths per calling code (over every region sharing it), from
 * libphonenumber's metadata, generated into phone-plans.ts so that the fast path runs without
 * loading the library. `undefined` for an unassigned calling code.
 */
function nationalLengths(callingCode: string): readonly number[] | undefined {
  return Object.hasOwn(NATIONAL_LENGTHS, callingCode) ? NATIONAL_LENGTHS[callingCode] : undefined;
}

/** A region libphonenumber knows, with its calling code (looked up once per region). */
interface Region {
  code: CountryCode;
  callingCode: string;
  /** The region dials abroad with plain `00` (171 of 245 regions). */
  doubleZeroIdd: boolean;
}

const regions = new Map<string, Region | null>();

function isAsciiLetter(c: number): boolean {
  return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
}

function toRegion(country: string | undefined): Region | undefined {
  if (country === undefined || country.length !== 2) return undefined;
  if (!isAsciiLetter(country.charCodeAt(0)) || !isAsciiLetter(country.charCodeAt(1))) {
    return undefined;
  }
  const upper = country.toUpperCase();
  let region = regions.get(upper); // at most 26² keys
  if (region === undefined) {
    const plan = Object.hasOwn(REGIONS, upper) ? REGIONS[upper] : undefined;
    region =
      plan === undefined
        ? null
        : { code: upper as CountryCode, callingCode: plan[0], doubleZeroIdd: plan[1] };
    regions.set(upper, region);
  }
  return region ?? undefined;
}

/** Maps ASCII, full-width and Arabic-Indic digits to 0–9; -1 for anything else. */
function digitValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0xff10 && c <= 0xff19) return c - 0xff10;
  if (c >= 0x660 && c <= 0x669) return c - 0x660;
  if (c >= 0x6f0 && c <= 0x6f9) return c - 0x6f0;
  return -1;
}

/**
 * Separators people type inside phone numbers: spaces, dashes, dots, slashes, parentheses; and the
 * invisible characters that come with copied or formatted numbers, which Meta's rule (remove
 * symbols) removes too. Every Unicode space: French typography and some locales' number formats
 * group digits with U+202F or U+2009, and a number with them was refused. Zero-width and
 * direction marks: iOS wraps a copied contact number in U+202D…U+202C, which hid its leading `+`.
 */
function isSeparator(c: number): boolean {
  if (c < 0x80) {
    return (
      c === 0x20 || c === 0x09 || c === 0x2d || c === 0x2e || c === 0x2f || c === 0x28 || c === 0x29
    );
  }
  return (
    c === 0xa0 ||
    c === 0xad || // soft hyphen
    (c >= 0x2000 && c <= 0x200f) || // spaces, zero-width space/joiners, LRM/RLM
    (c >= 0x2010 && c <= 0x2015) || // dashes
    (c >= 0x2028 && c <= 0x202f) || // line/paragraph separators, bidi embeddings, narrow NBSP
    (c >= 0x205f && c <= 0x2069) || // medium math space, word joiner, invisible operators, isolates
    c === 0x2212 ||
    c === 0x3000 ||
    c === 0xfeff
  );
}

interface Scan {
  digits: string;
  /** Written with a leading `+` (international). */
  plus: boolean;
  /** Only digits and separators: no letters, extensions or other text that needs a real parser. */
  plain: boolean;
}

function scan(value: string): Scan {
  let digits = '';
  let plus = false;
  let plain = true;
  let seenContent = false;
  const length = value.length;
  for (let i = 0; i < length; i++) {
    const c = value.charCodeAt(i);
    const d = digitValue(c);
    if (d >= 0) {
      digits += String.fromCharCode(0x30 + d);
      seenContent = true;
    } else if ((c === 0x2b || c === 0xff0b) && !seenContent) {
      plus = true;
      seenContent = true;
    } else if (!isSeparator(c)) {
      plain = false;
      seenContent = true;
    }
  }
  return { digits, plus, plain };
}

/** `NXX NXX XXXX` (N = 2–9): the North American Numbering Plan's national format. */
function nanpNational(digits: string, from: number): boolean {
  if (digits.length - from !== 10) return false;
  const area = digits.charCodeAt(from);
  const exchange = digits.charCodeAt(from + 3);
  return area >= 0x32 && area <= 0x39 && exchange >= 0x32 && exchange <= 0x39;
}

/**
 * International digits that need no parser: an assigned calling code followed by a national number
 * of a possible length that doesn't start with 0.
 */
function isPlainInternational(digits: string): boolean {
  if (digits.length < MIN_DIGITS || digits.length > MAX_DIGITS) return false;
  if (digits.charCodeAt(0) === 0x31) return nanpNational(digits, 1);
  for (let codeLength = 1; codeLength <= 3; codeLength++) {
    const lengths = nationalLengths(digits.slice(0, codeLength));
    if (lengths === undefined) continue;
    // A 0 (or another trunk prefix, like Russia's 8) typed after the calling code (+44 07…, +7 8…)
    // must be dropped, but Italy's leading 0 (+39 06…) is part of the number: libphonenumber
    // knows which, and a national part of an impossible length is sent to it as well.
    return digits.charCodeAt(codeLength) !== 0x30 && lengths.includes(digits.length - codeLength);
  }
  return false;
}

function parseWithLibrary(
  text: string,
  region: CountryCode | undefined,
  requireValid = false,
): string | undefined {
  try {
    const { parsePhoneNumberFromString } = phoneLibrary();
    const parsed =
      region === undefined
        ? parsePhoneNumberFromString(text)
        : parsePhoneNumberFromString(text, { defaultCountry: region });
    if (parsed === undefined || !(requireValid ? parsed.isValid() : parsed.isPossible())) {
      return undefined;
    }
    const digits = parsed.number.slice(1);
    if (digits.length < MIN_DIGITS || digits.length > MAX_DIGITS) return undefined;
    // isPossible only checks length; NANP numbers have a strict, cheap-to-check structure.
    return digits.charCodeAt(0) === 0x31 && !nanpNational(digits, 1) ? undefined : digits;
  } catch {
    return undefined;
  }
}

function stripLeadingZeros(digits: string): string {
  let i = 0;
  while (i < digits.length && digits.charCodeAt(i) === 0x30) i++;
  return i === 0 ? digits : digits.slice(i);
}

/**
 * `+44 (0)20…`, `+61 0412…`: a trunk 0 typed after a calling code whose national numbers never
 * start with 0, dropped without the parser. Elsewhere the parser knows whether a 0 there is a
 * trunk prefix (Germany's `+49 (0)30…`) or part of the number (Italy's `+39 (0)6…`, San Marino's,
 * Côte d'Ivoire's), so `(0)` is read as the digit it is and never dropped blindly.
 */
function withoutTrunkZero(digits: string): string | undefined {
  const callingCode = digits.slice(0, 2);
  const lengths = TRUNK_ZERO_NATIONAL_LENGTHS[callingCode];
  if (lengths === undefined || digits.charCodeAt(2) !== 0x30 || digits.charCodeAt(3) === 0x30) {
    return undefined;
  }
  return lengths.includes(digits.length - 3) ? callingCode + digits.slice(3) : undefined;
}

/** Digits after `+`/`00`; `text` is the raw input when it needs the full parser (letters, `ext.`). */
function international(digits: string, text: string | undefined): NormalizedPhone | undefined {
  if (text === undefined) {
    if (isPlainInternational(digits)) return { digits, hasCountryCode: true };
    const dropped = withoutTrunkZero(digits);
    if (dropped !== undefined) return { digits: dropped, hasCountryCode: true };
  }
  const parsed = parseWithLibrary(text ?? `+${digits}`, undefined);
  return parsed === undefined ? undefined : { digits: parsed, hasCountryCode: true };
}

/**
 * Normalizes a phone number to E.164 digits without `+`, reporting whether the country code is
 * known. `country` (ISO 3166-1 alpha-2, any case) is used for numbers written in national form.
 * Returns `undefined` when the value can't be a phone number.
 */
export function normalizePhoneNumber(
  value: string,
  country?: string | undefined,
): NormalizedPhone | undefined {
  const { digits, plus, plain } = scan(value);
  if (digits.length === 0) return undefined;
  if (plus) return international(digits, plain ? undefined : value);
  const region = toRegion(country);
  // A value of digits and separators only is given to the parser as its digits: the parser knows
  // fewer separators than `scan` (U+202F, the direction marks), and national digits carry no more.
  const text = plain ? digits : value;
  if (digits.startsWith('00')) {
    // `00` is the international prefix in most countries. Where it isn't (US `011`, Australia
    // `0011`, Japan `010`), libphonenumber reads the region's own prefix first.
    if (region !== undefined && !region.doubleZeroIdd) {
      const parsed = parseWithLibrary(text, region.code);
      if (parsed !== undefined) return { digits: parsed, hasCountryCode: true };
    }
    const parsed = international(digits.slice(2), undefined);
    // Not a possible international number: read it as national when the country is known.
    if (parsed !== undefined || region === undefined) return parsed;
  }
  if (region === undefined) {
    // What Meta's Parameter Builder does for every number; flagged because the digits may lack
    // the country code Meta requires.
    const bare = stripLeadingZeros(digits);
    if (bare.length < MIN_DIGITS || bare.length > MAX_DIGITS) return undefined;
    return { digits: bare, hasCountryCode: false };
  }
  if (plain && region.callingCode === '1') {
    if (nanpNational(digits, 0)) return { digits: `1${digits}`, hasCountryCode: true };
    if (digits.charCodeAt(0) === 0x31 && nanpNational(digits, 1)) {
      return { digits, hasCountryCode: true };
    }
  }
  const trunkZero = TRUNK_ZERO_NATIONAL_LENGTHS[region.callingCode];
  if (
    plain &&
    trunkZero !== undefined &&
    digits.charCodeAt(0) === 0x30 &&
    digits.charCodeAt(1) !== 0x30 &&
    trunkZero.includes(digits.length - 1)
  ) {
    return { digits: region.callingCode + digits.slice(1), hasCountryCode: true };
  }
  if (plain && digits.startsWith(region.callingCode)) {
    // Already E.164 without the `+` (what this function returns): read as national it would get
    // its calling code twice (`4915123456789` in Germany), so a valid international reading wins.
    const parsed = parseWithLibrary(`+${digits}`, undefined, true);
    if (parsed !== undefined) return { digits: parsed, hasCountryCode: true };
  }
  let parsed = parseWithLibrary(text, region.code);
  if (parsed === undefined && plain && digits.length >= 11 && digits.charCodeAt(0) !== 0x30) {
    // Often stored as E.164 without the `+` (`447911123456`) while the customer's country differs;
    // shorter numbers are national-length and would be misread (`2000000000` is not Egyptian).
    parsed = parseWithLibrary(`+${digits}`, undefined);
  }
  return parsed === undefined ? undefined : { digits: parsed, hasCountryCode: true };
}

/**
 * Normalizes a phone number to the digits Meta hashes: E.164 with country code, no `+`.
 * `country` (ISO alpha-2) resolves national numbers; without it they are kept as digits.
 * @example normalizePhone('(650)555-1212', 'us') // '16505551212'
 * @example normalizePhone('+44 (0)7911 123456') // '447911123456'
 */
export function normalizePhone(value: string, country?: string | undefined): string | undefined {
  return normalizePhoneNumber(value, country)?.digits;
}
