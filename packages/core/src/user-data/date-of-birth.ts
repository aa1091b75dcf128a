// `db`: `YYYYMMDD`, year 1900 to the current year.
// https://developers.facebook.com/documentation/ads-commerce/conversions-api/parameters/customer-information-parameters [CIP]
//
// Accepted text: ISO `YYYY-MM-DD` (a time part after it is ignored: a birthday is a calendar date,
// not an instant), `YYYYMMDD`, year first `YYYY/M/D` and `YYYY.M.D` (China, Japan, Korea…), and
// year last with `/`, `-` or `.` between the parts: day first (`20/05/1990`, most of the world) or
// month first (`5/20/1990`, the US, as in Meta's own example `2/16/1997`).
// A year-last date whose day and month can both be read either way (`05/06/1990`) is never
// guessed: the caller's `dateOrder` decides, and without it the value is reported as ambiguous and
// dropped. A wrong guess would hash to a different birthday, which matches nobody (or the wrong
// person) without any sign. Two-digit years are not read (`1/2/97` is not a birthday Meta can use
// without guessing the century either).

import { foldFullWidth } from './compact-text.js';
import type { DateOrder } from './types.js';

const MIN_YEAR = 1900;

/** What {@link readDateOfBirth} found: a `YYYYMMDD` value, or why there is none. */
export type DateOfBirthReading =
  | { ok: true; value: string }
  | { ok: false; reason: 'invalid' | 'ambiguous' };

const INVALID: DateOfBirthReading = { ok: false, reason: 'invalid' };
const AMBIGUOUS: DateOfBirthReading = { ok: false, reason: 'ambiguous' };

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

/** Parses `value[from..to)` as decimal digits; -1 if empty or not all digits. */
function readNumber(value: string, from: number, to: number): number {
  if (from >= to) return -1;
  let n = 0;
  for (let i = from; i < to; i++) {
    const c = value.charCodeAt(i);
    if (!isDigit(c)) return -1;
    n = n * 10 + (c - 0x30);
  }
  return n;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

function format(year: number, month: number, day: number, currentYear: number): string | undefined {
  if (year < MIN_YEAR || year > currentYear) return undefined;
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return undefined;
  return `${year}${month < 10 ? '0' : ''}${month}${day < 10 ? '0' : ''}${day}`;
}

function found(value: string | undefined): DateOfBirthReading {
  return value === undefined ? INVALID : { ok: true, value };
}

/**
 * A year-last date `a?b?YYYY`. Each order is tried; a date valid in only one order (a day above 12,
 * `31/02` in neither) is read as that, whatever `order` says. Only when both orders give different
 * real dates does `order` decide.
 */
function yearLast(
  a: number,
  b: number,
  year: number,
  currentYear: number,
  order: DateOrder | undefined,
): DateOfBirthReading {
  const dayFirst = format(year, b, a, currentYear);
  const monthFirst = format(year, a, b, currentYear);
  if (dayFirst === undefined || monthFirst === undefined || dayFirst === monthFirst) {
    return found(dayFirst ?? monthFirst);
  }
  if (order === 'dmy') return found(dayFirst);
  if (order === 'mdy') return found(monthFirst);
  return AMBIGUOUS; // `ymd` (or none) says nothing about a year-last date
}

function isSeparator(c: number): boolean {
  return c === 0x2f || c === 0x2d || c === 0x2e; // `/`, `-`, `.`
}

function parseText(
  text: string,
  currentYear: number,
  order: DateOrder | undefined,
): DateOfBirthReading {
  const length = text.length;
  if (length === 8 && readNumber(text, 0, 8) >= 0) {
    return found(
      format(readNumber(text, 0, 4), readNumber(text, 4, 6), readNumber(text, 6, 8), currentYear),
    );
  }
  // ISO date, optionally followed by a time (`T`, space) that is ignored.
  if (length >= 10 && text.charCodeAt(4) === 0x2d && text.charCodeAt(7) === 0x2d) {
    if (length > 10) {
      const next = text.charCodeAt(10);
      if (next !== 0x54 && next !== 0x74 && next !== 0x20) return INVALID;
    }
    return found(
      format(readNumber(text, 0, 4), readNumber(text, 5, 7), readNumber(text, 8, 10), currentYear),
    );
  }
  // Three numbers with one separator used twice (`20/05-1990` is not a date).
  let first = 0;
  while (first < length && isDigit(text.charCodeAt(first))) first++;
  if (first === length || !isSeparator(text.charCodeAt(first))) return INVALID;
  const separator = text[first] as string;
  const second = text.indexOf(separator, first + 1);
  if (second === -1 || text.indexOf(separator, second + 1) !== -1) return INVALID;
  const a = readNumber(text, 0, first);
  const b = readNumber(text, first + 1, second);
  const c = readNumber(text, second + 1, length);
  if (a < 0 || b < 0 || c < 0) return INVALID;
  const middle = second - first - 1;
  const last = length - second - 1;
  if (first === 4) {
    // Year first. With `-` only ISO's two-digit parts (handled above) are read, as before.
    if (separator === '-' || middle > 2 || last > 2) return INVALID;
    return found(format(a, b, c, currentYear));
  }
  if (first > 2 || middle > 2 || last !== 4) return INVALID;
  return yearLast(a, b, c, currentYear, order);
}

/**
 * Reads a `Date` as a calendar day. A date built as `new Date('1997-02-16')` is UTC midnight and
 * `new Date(1997, 1, 16)` is local midnight; whichever of the two is exactly midnight names the
 * intended day, so both give 1997-02-16 in any server time zone. Otherwise UTC is used.
 */
function parseDate(date: Date, currentYear: number): string | undefined {
  const time = date.getTime();
  if (Number.isNaN(time)) return undefined;
  const utcMidnight =
    date.getUTCHours() === 0 && date.getUTCMinutes() === 0 && date.getUTCSeconds() === 0;
  const localMidnight = date.getHours() === 0 && date.getMinutes() === 0 && date.getSeconds() === 0;
  if (localMidnight && !utcMidnight) {
    return format(date.getFullYear(), date.getMonth() + 1, date.getDate(), currentYear);
  }
  return format(date.getUTCFullYear(), date.getUTCMonth() + 1, date.getUTCDate(), currentYear);
}

/**
 * Reads a date of birth as `YYYYMMDD`, telling an unreadable value (`invalid`) from one whose day
 * and month could be either way round with no `order` to decide (`ambiguous`).
 */
export function readDateOfBirth(
  value: string | Date,
  now: number,
  order: DateOrder | undefined,
): DateOfBirthReading {
  const currentYear = new Date(now).getUTCFullYear();
  if (typeof value !== 'string') return found(parseDate(value, currentYear));
  return parseText(foldFullWidth(value.trim()), currentYear, order);
}

/**
 * Normalizes a date of birth to `YYYYMMDD`. Accepts `YYYY-MM-DD` (time part ignored), `YYYYMMDD`,
 * `YYYY/M/D`, `YYYY.M.D`, `D/M/YYYY` and `M/D/YYYY` (with `/`, `-` or `.`) and `Date` objects.
 * A year-last date readable both ways (`05/06/1990`) needs `dateOrder`. Returns `undefined` for
 * other formats, ambiguous dates without `dateOrder`, impossible dates (`31/02/1990`) and years
 * outside 1900 to the current year.
 * @example normalizeDateOfBirth('20.05.1990') // '19900520'
 */
export function normalizeDateOfBirth(
  value: string | Date,
  now: number = Date.now(),
  dateOrder?: DateOrder,
): string | undefined {
  const reading = readDateOfBirth(value, now, dateOrder);
  return reading.ok ? reading.value : undefined;
}
