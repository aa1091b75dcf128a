// `db`: `YYYYMMDD`, year 1900 to the current year.
// https://developers.facebook.com/documentation/ads-commerce/conversions-api/parameters/customer-information-parameters [CIP]
//
// Accepted text: ISO `YYYY-MM-DD` (a time part after it is ignored: a birthday is a calendar date,
// not an instant), `YYYYMMDD`, `YYYY/M/D`, and `M/D/YYYY` read in US order (month first) as in
// Meta's own example `2/16/1997`. `D/M/YYYY` can't be told apart from it, so pass ISO dates or
// `Date` objects when your data is day-first.

const MIN_YEAR = 1900;

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

function parseText(text: string, currentYear: number): string | undefined {
  const length = text.length;
  if (length === 8 && readNumber(text, 0, 8) >= 0) {
    return format(
      readNumber(text, 0, 4),
      readNumber(text, 4, 6),
      readNumber(text, 6, 8),
      currentYear,
    );
  }
  // ISO date, optionally followed by a time (`T`, space) that is ignored.
  if (length >= 10 && text.charCodeAt(4) === 0x2d && text.charCodeAt(7) === 0x2d) {
    if (length > 10) {
      const next = text.charCodeAt(10);
      if (next !== 0x54 && next !== 0x74 && next !== 0x20) return undefined;
    }
    return format(
      readNumber(text, 0, 4),
      readNumber(text, 5, 7),
      readNumber(text, 8, 10),
      currentYear,
    );
  }
  const firstSlash = text.indexOf('/');
  if (firstSlash === -1) return undefined;
  const secondSlash = text.indexOf('/', firstSlash + 1);
  if (secondSlash === -1 || text.indexOf('/', secondSlash + 1) !== -1) return undefined;
  const a = readNumber(text, 0, firstSlash);
  const b = readNumber(text, firstSlash + 1, secondSlash);
  const c = readNumber(text, secondSlash + 1, length);
  if (firstSlash === 4) return format(a, b, c, currentYear); // YYYY/M/D
  if (firstSlash > 2 || secondSlash - firstSlash > 3 || length - secondSlash !== 5)
    return undefined;
  return format(c, a, b, currentYear); // M/D/YYYY (US order)
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
 * Normalizes a date of birth to `YYYYMMDD`. Accepts `YYYY-MM-DD` (time part ignored), `YYYYMMDD`,
 * `YYYY/M/D`, `M/D/YYYY` (US order, month first) and `Date` objects. Returns `undefined` for other
 * formats, impossible dates (Feb 30) and years outside 1900 to the current year.
 * @example normalizeDateOfBirth('2/16/1997') // '19970216'
 */
export function normalizeDateOfBirth(
  value: string | Date,
  now: number = Date.now(),
): string | undefined {
  const currentYear = new Date(now).getUTCFullYear();
  if (typeof value !== 'string') return parseDate(value, currentYear);
  return parseText(value.trim(), currentYear);
}
