import { HASHED_USER_DATA_KEYS } from '@capi-kit/core';
import { CliError, EXIT_CODES } from '../exit-codes.js';

/** What a CSV column can feed: a `user_data` key, an event field or a `custom_data` field. */
export type UploadField =
  | 'em'
  | 'ph'
  | 'fn'
  | 'ln'
  | 'db'
  | 'ge'
  | 'ct'
  | 'st'
  | 'zp'
  | 'country'
  | 'external_id'
  | 'event_name'
  | 'event_time'
  | 'event_id'
  | 'action_source'
  | 'value'
  | 'currency'
  | 'order_id'
  | 'content_ids';

/** `user_data` keys a column can feed (several columns may feed one: Meta accepts lists). */
export const USER_DATA_FIELDS: ReadonlySet<UploadField> = new Set<UploadField>(
  HASHED_USER_DATA_KEYS,
);

// Header names are compared lowercased, each run of spaces and punctuation as one underscore and
// none at the ends (`Zip/Postal Code` is zip_postal_code, `Order #` is order). Besides the generic
// names, the ones shops and CRMs export under: Shopify's orders (`Created at`, `Billing Zip`) and
// customers (`Default Address Zip`), WooCommerce's order exports (`Billing Postcode`, `Order
// Date`), HubSpot's (`State/Region`, `Create Date`) and Salesforce's reports (`Zip/Postal Code`,
// `Mailing City`). Billing columns only: a shipping address may be the recipient's, not the buyer's.
const ALIASES: Readonly<Record<string, UploadField>> = {
  em: 'em',
  email: 'em',
  e_mail: 'em',
  email_address: 'em',
  e_mail_address: 'em',
  customer_email: 'em',
  billing_email: 'em',
  billing_email_address: 'em',
  ph: 'ph',
  phone: 'ph',
  phone_number: 'ph',
  telephone: 'ph',
  mobile: 'ph',
  mobile_phone: 'ph',
  mobile_phone_number: 'ph',
  mobile_number: 'ph',
  billing_phone: 'ph',
  default_address_phone: 'ph',
  fn: 'fn',
  first_name: 'fn',
  firstname: 'fn',
  given_name: 'fn',
  billing_first_name: 'fn',
  ln: 'ln',
  last_name: 'ln',
  lastname: 'ln',
  surname: 'ln',
  family_name: 'ln',
  billing_last_name: 'ln',
  db: 'db',
  dob: 'db',
  date_of_birth: 'db',
  birthdate: 'db',
  birthday: 'db',
  ge: 'ge',
  gender: 'ge',
  ct: 'ct',
  city: 'ct',
  billing_city: 'ct',
  mailing_city: 'ct',
  default_address_city: 'ct',
  st: 'st',
  state: 'st',
  province: 'st',
  region: 'st',
  state_province: 'st',
  state_region: 'st',
  province_code: 'st',
  billing_state: 'st',
  billing_province: 'st',
  billing_state_province: 'st',
  mailing_state_province: 'st',
  default_address_province_code: 'st',
  zp: 'zp',
  zip: 'zp',
  zip_code: 'zp',
  zipcode: 'zp',
  postal_code: 'zp',
  postcode: 'zp',
  post_code: 'zp',
  zip_postal_code: 'zp',
  billing_zip: 'zp',
  billing_postcode: 'zp',
  billing_zip_postal_code: 'zp',
  mailing_zip_postal_code: 'zp',
  default_address_zip: 'zp',
  country: 'country',
  country_code: 'country',
  country_region: 'country',
  billing_country: 'country',
  mailing_country: 'country',
  default_address_country_code: 'country',
  external_id: 'external_id',
  customer_id: 'external_id',
  event_name: 'event_name',
  event: 'event_name',
  event_time: 'event_time',
  timestamp: 'event_time',
  time: 'event_time',
  date: 'event_time',
  created_at: 'event_time',
  created_date: 'event_time',
  create_date: 'event_time',
  date_created: 'event_time',
  order_date: 'event_time',
  close_date: 'event_time',
  event_id: 'event_id',
  action_source: 'action_source',
  value: 'value',
  amount: 'value',
  total: 'value',
  order_total: 'value',
  grand_total: 'value',
  currency: 'currency',
  order_currency: 'currency',
  order_id: 'order_id',
  order: 'order_id',
  transaction_id: 'order_id',
  content_ids: 'content_ids',
  sku: 'content_ids',
  skus: 'content_ids',
};

const normalizeName = (name: string): string =>
  name
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, '_')
    .replace(/^_|_$/g, '');

/** The field a header or `--map` target names, or undefined. */
export const fieldFor = (name: string): UploadField | undefined => {
  const key = normalizeName(name);
  // Own keys only: a header `constructor` or `__proto__` read Object.prototype's members, and a
  // column meant to be ignored was listed as mapped to `function Object() { [native code] }`.
  return Object.hasOwn(ALIASES, key) ? ALIASES[key] : undefined;
};

/** How the columns of a file map to fields. */
export interface ColumnMapping {
  /** The field of each column (undefined: ignored). */
  columns: (UploadField | undefined)[];
  /** Header names of ignored columns (`(column 6, no header)` for one without a name). */
  ignored: string[];
  /** `header → field` for the report. */
  mapped: { column: string; field: UploadField }[];
}

/** Parses `--map "Mail=email,Tel=phone"` into column → field pairs. */
export const parseMapOption = (values: readonly string[]): Map<string, UploadField> => {
  const out = new Map<string, UploadField>();
  for (const part of values.flatMap((v) => v.split(','))) {
    if (part.trim() === '') continue;
    const eq = part.lastIndexOf('=');
    const column = eq > 0 ? part.slice(0, eq).trim() : '';
    const target = eq > 0 ? part.slice(eq + 1).trim() : '';
    const field = fieldFor(target);
    if (!column || !field) {
      throw new CliError(
        `--map expects column=field pairs with a known field (email, phone, event_time, value…), got "${part.trim()}"`,
        EXIT_CODES.usage,
      );
    }
    out.set(column.toLowerCase(), field);
  }
  return out;
};

/**
 * Maps header names to fields: `--map` entries first (matched case-insensitively), then known
 * header names and aliases. Throws a usage error for a `--map` column missing from the header or
 * two columns feeding one single-valued field.
 */
export const mapColumns = (
  header: readonly string[],
  overrides: Map<string, UploadField>,
): ColumnMapping => {
  const byName = new Map(header.map((h, i) => [h.trim().toLowerCase(), i]));
  for (const column of overrides.keys()) {
    if (!byName.has(column)) {
      throw new CliError(
        `--map names a column the header does not have: "${column}"`,
        EXIT_CODES.usage,
      );
    }
  }
  // A field --map gives a column is that column's alone: a column the table maps to it too (the
  // other of a deal's Create Date and Close Date) is ignored, not a conflict.
  const chosen = new Set(overrides.values());
  const columns = header.map((h) => {
    const override = overrides.get(h.trim().toLowerCase());
    if (override) return override;
    const field = fieldFor(h);
    return field && chosen.has(field) && !USER_DATA_FIELDS.has(field) ? undefined : field;
  });
  const seen = new Map<UploadField, string>();
  const mapped: ColumnMapping['mapped'] = [];
  const ignored: string[] = [];
  columns.forEach((field, i) => {
    const name = header[i] ?? '';
    if (!field) {
      // A column without a header cell (often trailing, `email,event_time,,`) is named by its
      // position: listed as an empty name, the report read "ignored columns: , ".
      ignored.push(name.trim() === '' ? `(column ${i + 1}, no header)` : name);
      return;
    }
    const previous = seen.get(field);
    if (previous !== undefined && !USER_DATA_FIELDS.has(field)) {
      throw new CliError(
        `Columns "${previous}" and "${name}" both map to ${field}; choose one with --map "${previous}=${field}"`,
        EXIT_CODES.usage,
      );
    }
    seen.set(field, name);
    mapped.push({ column: name, field });
  });
  return { columns, ignored, mapped };
};
