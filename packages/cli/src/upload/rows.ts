import {
  type ActionSource,
  buildEvent,
  type CustomData,
  type DateOrder,
  isActionSource,
  normalizeCountry,
  normalizeZip,
  type ServerEventInput,
  sha256Hex,
  type UserDataInput,
} from '@capi-kit/core';
import type { CsvRecord } from '../csv.js';
import { type UploadField, USER_DATA_FIELDS } from './columns.js';
import {
  isZonelessTime,
  localZoneWarning,
  readEventTime,
  SCIENTIFIC,
  SPREADSHEET_SERIAL,
} from './event-time.js';

/** Why a row cannot be sent: the field and the rule, never the value (it may be PII). */
export interface RowProblem {
  /** `event_time`, `user_data.em`, `custom_data.value`, `row`… */
  field: string;
  /** Machine-readable rule (`invalid_event_time`, `csv_field_count`, a core `Issue` code…). */
  rule: string;
  /** What is wrong, without the value. */
  message: string;
}

/** A row turned into an event, or the reasons it cannot be. */
export type RowResult =
  | {
      ok: true;
      /** The event as `track()` takes it. */
      input: ServerEventInput;
      /** Its `event_id` (from the row, its `order_id`, or a hash of its content). */
      eventId: string;
      /** Its `event_name`. */
      eventName: string;
      /** What the core changed or doubts but sends anyway (e.g. `event_time_in_milliseconds`). */
      warnings?: RowProblem[];
    }
  | { ok: false; problems: RowProblem[]; eventId?: string; eventName?: string };

/** Settings that apply to every row. */
export interface RowDefaults {
  /** Used when the row has no `event_name`. */
  eventName: string;
  /** Used when the row has no `action_source`. */
  actionSource: ActionSource;
  /** Used when the row has no `currency`. */
  currency?: string | undefined;
  /** Country for national phone numbers when the row has none. */
  defaultCountry?: string | undefined;
  /** Day/month order for birth dates that read both ways (`05/06/1990`); unset, they are reported. */
  dateOrder?: DateOrder | undefined;
  /**
   * The file's delimiter (default `,`). A `;` or tab file may come from a spreadsheet that writes
   * `1.234` for a thousand (a decimal-comma locale), so there that amount is refused as ambiguous.
   */
  delimiter?: ',' | ';' | '\t' | undefined;
}

// What Number() read before: `5`, `5.5`, `.5`, `5.`, `1e3` (never `0x1A`, `Infinity` or blanks).
const PLAIN = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
// One dot and three digits: in a comma-separated file a decimal point (1.234), elsewhere perhaps a
// thousand, as spreadsheets of decimal-comma locales write it (they write `;`-separated files).
const DOT_AND_THREE = /^[+-]?\d{1,3}\.\d{3}$/;
// A decimal comma with one or two digits after it cannot be a thousands separator (12,50).
const DECIMAL_COMMA = /^[+-]?\d+,\d{1,2}$/;
// Thousands grouped by one separator, with a decimal part after the other mark (or none, when
// there are two groups or more, or the separator is a space or apostrophe).
const GROUPED = /^([+-]?)(\d{1,3}(?:([,. \u00a0\u202f'])\d{3})+)(?:([.,])(\d+))?$/;

/**
 * A monetary amount as spreadsheets write it: `1234.5`, `1234,50`, `1,234.50`, `1.234,50`,
 * `1 234,50`, `1'234.50`. `1,234` reads both ways and is refused ('ambiguous'), as is `1.234`
 * outside a comma-separated file (`commaFile`); `Number()` alone refused the decimal comma and took
 * `0x1A` for 26.
 */
const readAmount = (raw: string, commaFile: boolean): number | 'ambiguous' | undefined => {
  if (!commaFile && DOT_AND_THREE.test(raw)) return 'ambiguous';
  if (PLAIN.test(raw)) {
    const value = Number(raw);
    return Number.isFinite(value) ? value : undefined;
  }
  if (DECIMAL_COMMA.test(raw)) return Number(raw.replace(',', '.'));
  const grouped = GROUPED.exec(raw);
  if (!grouped) return undefined;
  const [, sign, digits, separator, mark, decimals] = grouped;
  if (mark === separator) return undefined; // 1,234,56
  const groups = (digits as string).split(separator as string).length - 1;
  if (mark === undefined && groups === 1 && (separator === ',' || separator === '.'))
    return 'ambiguous'; // 1,234 or 1.234: a thousand, or one and a bit
  const whole = (digits as string).replaceAll(separator as string, '');
  return Number(`${sign}${whole}${decimals === undefined ? '' : `.${decimals}`}`);
};

/** The row's `event_id`: its own, else its `order_id` (Meta's advice), else a hash of its content. */
const eventIdOf = (values: Map<UploadField, string[]>, eventName: string): string => {
  const own = values.get('event_id')?.[0];
  if (own) return own;
  const order = values.get('order_id')?.[0];
  if (order) return order;
  const content = [...values.entries()]
    .filter(([field]) => field !== 'event_id')
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  // Same row content → same id, so a row sent twice (a resumed upload) deduplicates at Meta.
  return `row-${sha256Hex(JSON.stringify([eventName, content])).slice(0, 32)}`;
};

// An amount with a currency symbol (€, $, £, ¥, any Unicode Sc) or a three-letter code before or
// after its digits (€19.90, 19,90 €, 12.50 EUR): a spreadsheet's currency format, exported as shown.
const CURRENCY_IN_AMOUNT =
  /^(?:\p{Sc}|[A-Za-z]{3})\s*[-+]?[\d.,'\s\u00a0]+$|^[-+]?[\d.,'\s\u00a0]+\s*(?:\p{Sc}|[A-Za-z]{3})$/u;

// A negative amount in a spreadsheet's accounting format: `(5.00)`, `($5.00)`, `(5,00 €)`, and
// with the symbol or code outside, as Excel's Accounting format exports it: `$ (5.00)`,
// `(5,00) €`. The parentheses hold an amount with no sign of its own.
const ACCOUNTING_NEGATIVE =
  /^((?:\p{Sc}|[A-Za-z]{3})\s*)?\(\s*([^\s()+-][^()]*?)\s*\)(\s*(?:\p{Sc}|[A-Za-z]{3}))?$/u;

// Meta's `custom_data.value` is the monetary value of the event, for a Purchase the revenue it
// brought (https://developers.facebook.com/documentation/ads-commerce/conversions-api/parameters/custom-data):
// a negative one is a refund, which a Purchase cannot report, and sent it would lower the revenue
// counted. Refused, not read as its absolute value and not sent.
const NEGATIVE_PURCHASE =
  "A negative amount (a refund or reversal; a spreadsheet's accounting format writes it in parentheses): a Purchase's value is the revenue it brought and cannot be negative. Leave refunds out of the upload, or give them their own event_name (e.g. Refund) in an event_name column.";

/** Scientific notation as a spreadsheet writes a long number: a mantissa with decimals (1.23457E+15). */
const SPREADSHEET_SCIENTIFIC = /^\d[.,]\d+e\+\d+$/i;

// What a cell whose formula failed exports as: Excel's and Google Sheets' error values (#N/A from a
// VLOOKUP finding nothing, #VALUE!, #REF!…) and LibreOffice's Err:502. Only these: a name or an id
// may start with # (#1 fan, #A-17).
const SPREADSHEET_ERROR =
  /^(?:#(?:N\/A|NULL!|DIV\/0!|VALUE!|REF!|NAME\?|NUM!|ERROR!|SPILL!|CALC!|FIELD!|BLOCKED!|CONNECT!|BUSY!|UNKNOWN!|PYTHON!|TIMEOUT!|GETTING_DATA)|Err:\d{3})$/i;

const CUSTOM_DATA_FIELDS: ReadonlySet<UploadField> = new Set<UploadField>([
  'value',
  'currency',
  'order_id',
  'content_ids',
]);

/** Where a column's field goes in the event: `user_data.em`, `custom_data.value`, `event_time`. */
const pathOf = (field: UploadField): string =>
  USER_DATA_FIELDS.has(field)
    ? `user_data.${field}`
    : CUSTOM_DATA_FIELDS.has(field)
      ? `custom_data.${field}`
      : field;

/** A cell that is Excel's text formula, `="…"`, with no quote inside it. */
const TEXT_FORMULA = /^="([^"]*)"$/;

/** Fields a spreadsheet's text apostrophe may precede (numbers it would otherwise reformat). */
const APOSTROPHE_MARKED: ReadonlySet<UploadField> = new Set([
  'ph',
  'zp',
  'db',
  'event_time',
  'value',
]);

/**
 * Reads one CSV record into a server event as `track()` takes it, with the CLI's own checks (CSV
 * shape, `event_time`, `value`, `action_source`) but without the core's validation.
 */
export const rowToInput = (
  record: CsvRecord,
  columns: readonly (UploadField | undefined)[],
  defaults: RowDefaults,
): RowResult => {
  const problems: RowProblem[] = [];
  // A record spanning lines is fine when a quoted field holds a line break; when it is also
  // malformed, a stray quote has likely joined every line up to the next quote into it, and those
  // rows must be seen as lost, not just this one.
  const span =
    record.endLine === undefined
      ? ''
      : ` The record runs from line ${record.line} to line ${record.endLine}: a stray quote may have joined those lines into one row.`;
  if (record.error)
    problems.push({
      field: 'row',
      rule: 'csv_quoting',
      message: `Malformed CSV: ${record.error}.${span}`,
    });
  if (record.fields.length !== columns.length) {
    problems.push({
      field: 'row',
      rule: 'csv_field_count',
      message: `${record.fields.length} fields; the header has ${columns.length}.${record.error ? '' : span}`,
    });
    return { ok: false, problems };
  }
  const values = new Map<UploadField, string[]>();
  const misDecoded = new Set<UploadField>();
  const failedFormulas = new Set<UploadField>();
  let serialBirthDate = false;
  columns.forEach((field, i) => {
    let value = (record.fields[i] ?? '').trim();
    // A spreadsheet keeps a leading + or 0 (+33…, 01234) by marking the cell as text with an
    // apostrophe, which some exports keep: read behind it, the phone was a national number and a
    // --default-country code went before it. Only in fields of digits and dates: a name may start
    // with one ('t Hart).
    if (field !== undefined && APOSTROPHE_MARKED.has(field) && value.startsWith("'")) {
      value = value.slice(1).trim();
    }
    // Exporters keep a leading zero from Excel by writing the cell as the formula ="02134": the
    // value is what it spells, not the formula (sent with its =" and ", an order_id made an
    // event_id that never deduplicates, an external_id hashed to no one).
    const formula = TEXT_FORMULA.exec(value);
    if (formula) value = (formula[1] as string).trim();
    if (!field || value === '') return;
    if (SPREADSHEET_ERROR.test(value)) {
      failedFormulas.add(field);
      return;
    }
    if (field === 'db' && SPREADSHEET_SERIAL.test(value)) {
      serialBirthDate = true;
      return;
    }
    // The reader decodes UTF-8 and turns bytes that are not UTF-8 into U+FFFD: a file saved as
    // Windows-1252 ("CSV (Comma delimited)" in Excel) would have "Müller" hashed as "M�ller",
    // which matches no one. Meta hashes special characters as UTF-8 (capi.md §3, [CIP]).
    if (value.includes('\uFFFD')) misDecoded.add(field);
    const list = values.get(field);
    if (list) list.push(value);
    else values.set(field, [value]);
  });
  for (const field of misDecoded) {
    problems.push({
      field: USER_DATA_FIELDS.has(field) ? `user_data.${field}` : field,
      rule: 'invalid_encoding',
      message:
        'Not UTF-8 text (the file may be saved as Windows-1252/ANSI); save it as "CSV UTF-8" and run again.',
    });
  }
  // Read as data, #N/A was the first name "na", the country Namibia, one external_id shared by
  // every such row (one person to Meta), or an order_id making the rows duplicates of each other.
  // Customer information is left out (the rest of the row still matches), as the core drops a value
  // it cannot read; an event field has no such fallback, so the row is refused.
  const warnings: RowProblem[] = [];
  for (const field of failedFormulas) {
    const userData = USER_DATA_FIELDS.has(field);
    (userData ? warnings : problems).push({
      field: pathOf(field),
      rule: 'spreadsheet_error_value',
      message: `A spreadsheet error (#N/A, #VALUE!, #REF!…) instead of a value: the formula behind the cell failed. ${userData ? 'The value is left out of the event; fix the formula and export again to send it.' : 'Fix the formula (or clear the cell) and export again.'}`,
    });
  }
  // A birth-date column exported as numbers (32999 is 1990-05-06): the core dropped it as "Not a
  // date of birth". Not read as a date, as for event_time (1900 or 1904 system).
  if (serialBirthDate) {
    warnings.push({
      field: 'user_data.db',
      rule: 'date_of_birth_spreadsheet_serial',
      message:
        'Looks like a spreadsheet date serial (days since 1900 or 1904), not a date; left out of the event, not guessed. Format the column as yyyy-mm-dd in the spreadsheet and export again.',
    });
  }
  // Excel shows a long number in a General cell as 3.36123E+10 and exports it so: the digits
  // past the sixth are gone, and the phone was sent (hashed) as another number.
  if (values.get('ph')?.some((phone) => SCIENTIFIC.test(phone))) {
    problems.push({
      field: 'user_data.ph',
      rule: 'phone_scientific_notation',
      message:
        'A phone number in scientific notation (as a spreadsheet shows a long number): its last digits are lost. Format the column as text in the spreadsheet, retype or re-import the numbers, and export again.',
    });
  }
  // A long customer number the same way (1.23457E+15): sent hashed, it was another id. Only the
  // spreadsheet's form (a mantissa with decimals): an id may be 2E5.
  if (values.get('external_id')?.some((id) => SPREADSHEET_SCIENTIFIC.test(id))) {
    problems.push({
      field: 'user_data.external_id',
      rule: 'external_id_scientific_notation',
      message:
        'An external_id in scientific notation (as a spreadsheet shows a long number): its last digits are lost. Format the column as text in the spreadsheet, retype or re-import the ids, and export again.',
    });
  }
  const one = (field: UploadField) => values.get(field)?.[0];

  const eventName = one('event_name') ?? defaults.eventName;
  const eventId = eventIdOf(values, eventName);
  const sourceRaw = one('action_source') ?? defaults.actionSource;
  let actionSource: ActionSource = defaults.actionSource;
  if (isActionSource(sourceRaw)) actionSource = sourceRaw;
  else {
    problems.push({
      field: 'action_source',
      rule: 'invalid_action_source',
      message: "Not one of Meta's action_source values.",
    });
  }
  const eventTime = failedFormulas.has('event_time')
    ? undefined // said above, not as missing
    : readEventTime(one('event_time') ?? '', problems, defaults.dateOrder);

  const userData: Record<string, string | string[]> = {};
  for (const field of USER_DATA_FIELDS) {
    const list = values.get(field);
    if (list) userData[field] = list.length === 1 ? (list[0] as string) : list;
  }
  const customData: CustomData = {};
  const valueRaw = one('value');
  if (valueRaw !== undefined) {
    // The amount without its parentheses, a symbol outside them kept (refused as in `$5.00`).
    const parts = ACCOUNTING_NEGATIVE.exec(valueRaw);
    const accounting = parts ? `${parts[1] ?? ''}${parts[2]}${parts[3] ?? ''}` : undefined;
    const amountText = accounting ?? valueRaw;
    const read = readAmount(amountText, (defaults.delimiter ?? ',') === ',');
    const value = accounting !== undefined && typeof read === 'number' ? 0 - read : read;
    const negative =
      typeof value === 'number'
        ? value < 0
        : accounting !== undefined && CURRENCY_IN_AMOUNT.test(amountText);
    if (negative && eventName === 'Purchase')
      problems.push({
        field: 'custom_data.value',
        rule: 'negative_purchase_value',
        message: NEGATIVE_PURCHASE,
      });
    else if (typeof value === 'number') customData.value = value;
    else
      problems.push({
        field: 'custom_data.value',
        rule: 'invalid_value',
        message:
          value === 'ambiguous'
            ? 'A comma or dot followed by three digits reads as a thousands separator or a decimal mark; write the number without thousands separators, with a dot for decimals.'
            : CURRENCY_IN_AMOUNT.test(amountText)
              ? 'A currency symbol or code in the amount; write the number alone, and the currency (ISO 4217, e.g. EUR) in a currency column or --currency.'
              : 'Not a number.',
      });
  }
  const currency = one('currency') ?? defaults.currency;
  if (currency !== undefined) customData.currency = currency;
  const orderId = one('order_id');
  if (orderId !== undefined) customData.order_id = orderId;
  const contentIds = one('content_ids');
  if (contentIds !== undefined) {
    customData.content_ids = contentIds
      .split(/[|;]/)
      .map((s) => s.trim())
      .filter(Boolean);
  }
  if (problems.length > 0) return { ok: false, problems, eventId, eventName };
  const input = {
    event_name: eventName,
    event_id: eventId,
    action_source: actionSource,
    user_data: userData as UserDataInput,
    ...(eventTime === undefined ? {} : { event_time: eventTime }),
    ...(Object.keys(customData).length > 0 ? { custom_data: customData } : {}),
  } as ServerEventInput;
  return warnings.length > 0
    ? { ok: true, input, eventId, eventName, warnings }
    : { ok: true, input, eventId, eventName };
};

/**
 * {@link rowToInput} plus the core's `buildEvent` validation (normalization and hashing included),
 * as `track()` will do it at `nowMs`. Problems name fields and rules, never values.
 */
export const rowToEvent = (
  record: CsvRecord,
  columns: readonly (UploadField | undefined)[],
  defaults: RowDefaults,
  nowMs: number,
): RowResult => {
  const row = rowToInput(record, columns, defaults);
  if (!row.ok) return row;
  const { issues } = buildEvent(row.input, {
    now: () => nowMs,
    defaultCountry: defaults.defaultCountry,
    dateOrder: defaults.dateOrder,
  });
  const problems = issues
    .filter((issue) => issue.severity === 'error')
    .map((issue) => ({ field: issue.path, rule: issue.code, message: issue.message }));
  if (problems.length > 0)
    return { ok: false, problems, eventId: row.eventId, eventName: row.eventName };
  const warnings = [
    ...(row.warnings ?? []),
    ...issues
      .filter((issue) => issue.severity === 'warning')
      .map((issue) => ({
        field: issue.path,
        rule: issue.code,
        message: CLI_FIXES[issue.code] ?? issue.message,
      })),
  ];
  if (zerosRestored(row.input.user_data, defaults.defaultCountry)) warnings.push(ZEROS_RESTORED);
  const time = record.fields[columns.indexOf('event_time')]?.trim();
  if (time !== undefined && isZonelessTime(time)) warnings.push(localZoneWarning());
  return warnings.length > 0 ? { ...row, warnings } : row;
};

const listOf = (value: unknown): string[] =>
  (Array.isArray(value) ? value : [value]).filter((v): v is string => typeof v === 'string');

/**
 * True when the core will send one of the row's ZIP codes with leading zeros put back: a spreadsheet
 * reads 02134 (Boston) as the number 2134, and the core restores it where the country is the US
 * (the row's first country it knows, else --default-country, as the core decides). Said in the
 * report, so an export that drops zeros (from phones and ids too) is noticed.
 */
const zerosRestored = (
  userData: ServerEventInput['user_data'],
  defaultCountry: string | undefined,
): boolean => {
  const data = (userData ?? {}) as Record<string, unknown>;
  const known = listOf(data.country)
    .map((c) => normalizeCountry(c))
    .find((c) => c?.length === 2);
  const country =
    known ?? (defaultCountry === undefined ? undefined : normalizeCountry(defaultCountry));
  if (country !== 'us') return false;
  return listOf(data.zp).some((zip) => {
    const asUs = normalizeZip(zip, 'us');
    const asIs = normalizeZip(zip);
    return asUs !== undefined && asIs !== undefined && !asIs.startsWith(asUs);
  });
};

const ZEROS_RESTORED: RowProblem = {
  field: 'user_data.zp',
  rule: 'zip_leading_zeros_restored',
  message:
    'A US ZIP code shorter than 5 digits (a spreadsheet drops leading zeros): sent with its zeros put back, as every US ZIP code has 5 digits. Format the column as text in the spreadsheet and export again; check phones and ids for lost zeros too.',
};

// The core's messages for these name the library's options (`createCapi`'s buildOptions); here
// the same setting is a flag or a column.
const CLI_FIXES: Readonly<Record<string, string>> = {
  phone_without_country_code:
    'National phone number with no country known: sent as digits, country code unverified. Add a country column, or --default-country (e.g. --default-country US).',
  ambiguous_date_of_birth:
    'Day and month can be read either way round (both 12 or less); dropped, not guessed. Pass --date-order dmy or mdy, or write dates as YYYY-MM-DD.',
};
