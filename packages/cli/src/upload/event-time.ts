import type { DateOrder } from '@capi-kit/core';
import { isLocalDateTime, readLocalDateTime } from './local-date-time.js';
import type { RowProblem } from './rows.js';

// How a row's event_time cell is read: what Meta takes (Unix seconds; ISO 8601 and local formats
// become a Date) and what a spreadsheet writes instead (a date serial, scientific notation).

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})/;

/** True when the `YYYY-MM-DD` at the start of `raw` is a day of the calendar (not 2026-02-30). */
const isCalendarDate = (raw: string): boolean => {
  const [, y, m, d] = ISO_DATE.exec(raw) ?? [];
  const date = new Date(Date.UTC(Number(y), Number(m) - 1, Number(d)));
  return (
    date.getUTCFullYear() === Number(y) &&
    date.getUTCMonth() === Number(m) - 1 &&
    date.getUTCDate() === Number(d)
  );
};
/** A number in scientific notation, as a spreadsheet writes a long one (3.36123E+10, 3,36123E+10). */
export const SCIENTIFIC = /^[-+]?\d+(?:[.,]\d+)?e\+?\d+$/i;
const INTEGER = /^\d+$/;
// Days since 1899-12-30, the time as a fraction (46353.5 is 2026-11-27 12:00): a date a spreadsheet
// holds as a number and exports so (its General format). Five digits are 1927 to 2173 as days; as
// Unix seconds they are the first day of 1970, which no conversion is, so there is no doubt.
export const SPREADSHEET_SERIAL = /^\d{5}(?:[.,]\d+)?$/;
// Unix seconds with a fraction, as Excel's =(A2-DATE(1970,1,1))*86400 gives them (floating point,
// or the seconds' own); a decimal comma where the spreadsheet's locale writes one. Six digits or
// more: five are a date serial.
const FRACTIONAL_UNIX = /^\d{6,}[.,]\d+$/;

/**
 * Reads a row's `event_time` cell: Unix seconds (milliseconds are the core's to convert), ISO 8601,
 * or a local format by `dateOrder`; pushes to `problems` (field and rule, never the value) what it
 * refuses.
 */
export const readEventTime = (
  raw: string,
  problems: RowProblem[],
  dateOrder: DateOrder | undefined,
): number | Date | undefined => {
  if (raw === '') {
    problems.push({
      field: 'event_time',
      rule: 'missing_event_time',
      message: 'event_time is required.',
    });
    return undefined;
  }
  // Excel's General format shows Unix milliseconds as 1.7651E+12 and exports them so: the digits
  // past the fifth are gone, up to 10^8 ms (more than a day), so the time is not rounded to a guess.
  if (SCIENTIFIC.test(raw)) {
    problems.push({
      field: 'event_time',
      rule: 'event_time_scientific_notation',
      message:
        'A timestamp in scientific notation (as a spreadsheet shows a long number): its last digits, up to a day or more, are lost. Format the column as a number with no decimals (or as text), and export again.',
    });
    return undefined;
  }
  // Read as Unix seconds, a serial was reported event_time_too_old (or, with a fraction, as not a
  // time at all). Not read as a date: a serial has no time zone, and spreadsheets count from 1900
  // or, in the 1904 system (older Excel for Mac, an option in any), from 1904, four years apart.
  if (SPREADSHEET_SERIAL.test(raw)) {
    problems.push({
      field: 'event_time',
      rule: 'event_time_spreadsheet_serial',
      message:
        "Looks like a spreadsheet date serial (days since 1900 or 1904, the time as a fraction), not Unix seconds; not guessed, as it has no time zone and the 1900 and 1904 systems are four years apart. Format the column as yyyy-mm-dd hh:mm:ss (read in this machine's time zone; add an offset such as +01:00 for another) or as Unix seconds, and export again.",
    });
    return undefined;
  }
  // Unix seconds; a 13-digit value is milliseconds, which buildEvent converts and flags with an
  // `event_time_in_milliseconds` warning that the upload reports (rowToEvent).
  if (INTEGER.test(raw)) return Number(raw);
  // The core keeps the whole second (Math.floor), as for a Date.
  if (FRACTIONAL_UNIX.test(raw)) return Number(raw.replace(',', '.'));
  // A spreadsheet writes a date-time cell as its locale shows it (07/12/2026 14:30), which reads
  // as July or December: read by --date-order, never guessed.
  if (isLocalDateTime(raw)) {
    const local = readLocalDateTime(raw, dateOrder);
    if (local instanceof Date) return local;
    problems.push({
      field: 'event_time',
      rule: 'invalid_event_time',
      message:
        local === 'order'
          ? "A local date format such as 07/12/2026, where day and month go either way: pass --date-order dmy or mdy to read it (in this machine's time zone), or write 2026-12-07T14:30:00+01:00 (Z for UTC) or Unix seconds."
          : `Not a date and time of the calendar read ${dateOrder === undefined ? 'year first' : `as ${dateOrder} (--date-order)`}: write 2026-12-07T14:30:00+01:00 (Z for UTC) or Unix seconds, or check --date-order.`,
    });
    return undefined;
  }
  // Date.parse rolls a day past the month's end over (2026-02-30 is March 2): a typo would be
  // sent as another day, so the date part must be a real one.
  const ms = ISO_DATE.test(raw) && isCalendarDate(raw) ? Date.parse(raw) : Number.NaN;
  if (!Number.isFinite(ms)) {
    problems.push({
      field: 'event_time',
      rule: 'invalid_event_time',
      message:
        'Not an ISO 8601 date-time or a Unix timestamp: write 2026-12-07T14:30:00+01:00 (Z for UTC) or Unix seconds; a local format such as 07/12/2026 is read with --date-order dmy or mdy.',
    });
    return undefined;
  }
  return new Date(ms);
};

// A date and a time without `Z` or an offset: ECMAScript reads it in the machine's time zone (a
// date alone is UTC), so the same file gives other event_times on a laptop and a UTC server.
const ZONELESS_TIME = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?$/;

/** True when `time` (the cell, a text apostrophe allowed) is read in the machine's time zone. */
export const isZonelessTime = (time: string): boolean => {
  const raw = time.replace(/^'\s*/, '');
  return ZONELESS_TIME.test(raw) || isLocalDateTime(raw);
};

let zoneWarning: RowProblem | undefined;
/** The warning for a zoneless date-time, naming the zone it was read in (the machine's, once). */
export const localZoneWarning = (): RowProblem => {
  if (zoneWarning === undefined) {
    const minutes = -new Date().getTimezoneOffset();
    const offset = `UTC${minutes < 0 ? '-' : '+'}${String(Math.floor(Math.abs(minutes) / 60)).padStart(2, '0')}:${String(Math.abs(minutes) % 60).padStart(2, '0')}`;
    const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    zoneWarning = {
      field: 'event_time',
      rule: 'event_time_local_zone',
      message: `A date and time without a time zone, read in this machine's (${zone}, ${offset} now); add Z or an offset (+02:00), or run with the file's zone (TZ=Europe/Paris capi-kit upload …), if it means another.`,
    };
  }
  return zoneWarning;
};
