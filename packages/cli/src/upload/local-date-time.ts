import type { DateOrder } from '@capi-kit/core';

// A date and time as a spreadsheet writes a date-time cell to CSV: as its locale shows it
// (11/7/2026 2:30 PM in the US, 07.11.2026 14:30 in Germany, 2026/11/07 14:30 in Japan), with no
// time zone. Day and month go either way unless the year comes first, so `--date-order` decides.
const LOCAL_DATE_TIME =
  /^(\d{1,4})([/.-])(\d{1,2})\2(\d{1,4})(?:[ T,]+(\d{1,2}):(\d{2})(?::(\d{2}))?(?:\s*([AaPp])\.?[Mm]\.?)?)?$/;

// ISO 8601's date is left to Date.parse, which reads a date alone as UTC midnight.
const ISO_DATE = /^\d{4}-\d{2}-\d{2}/;

/** True when `raw` is shaped like a local date (and time), whether or not it reads as one. */
export const isLocalDateTime = (raw: string): boolean =>
  LOCAL_DATE_TIME.test(raw) && !ISO_DATE.test(raw);

/**
 * Reads a local-format date and time in the machine's time zone (as JavaScript reads a date-time
 * without an offset): year first (`2026/11/07`) always, year last by `dateOrder` (`dmy`, `mdy`).
 * `'order'` when day and month go either way and no order is given, undefined when it is not a
 * day and time of the calendar (27/11/2026 as mdy, 31/11/2026, 25:00, 13:00 PM, a 2-digit year).
 */
export const readLocalDateTime = (
  raw: string,
  dateOrder: DateOrder | undefined,
): Date | 'order' | undefined => {
  const match = LOCAL_DATE_TIME.exec(raw);
  if (!match) return undefined;
  const [, a = '', , b = '', c = '', hh, mm, ss, half] = match;
  let year: string;
  let month: string;
  let day: string;
  if (a.length === 4) {
    if (c.length > 2) return undefined;
    [year, month, day] = [a, b, c];
  } else {
    if (c.length !== 4 || a.length > 2) return undefined;
    if (dateOrder === 'dmy') [day, month, year] = [a, b, c];
    else if (dateOrder === 'mdy') [month, day, year] = [a, b, c];
    else return 'order';
  }
  let hour = hh === undefined ? 0 : Number(hh);
  const minute = mm === undefined ? 0 : Number(mm);
  const second = ss === undefined ? 0 : Number(ss);
  if (half !== undefined) {
    if (hour < 1 || hour > 12) return undefined;
    hour = (hour % 12) + (half.toLowerCase() === 'p' ? 12 : 0);
  }
  if (hour > 23 || minute > 59 || second > 59) return undefined;
  const date = new Date(Number(year), Number(month) - 1, Number(day), hour, minute, second);
  // The Date constructor rolls 31/11 over to December 1st: a typo would be sent as another day.
  if (date.getFullYear() !== Number(year) || date.getMonth() !== Number(month) - 1)
    return undefined;
  if (date.getDate() !== Number(day)) return undefined;
  return date;
};
