import { CONTENT_KEYS, meantContentField } from './content-fields.js';
import { normalizeCurrency } from './currency.js';
import type { Issue } from './issues.js';
import { closestName } from './spelling.js';
import type { Content, CustomData, CustomerSegmentation, DeliveryCategory } from './types.js';
import { looksLikeEmail } from './urls.js';

// https://developers.facebook.com/documentation/ads-commerce/conversions-api/parameters/custom-data [CD]
// `value` and `currency` are required for purchases; `contents[].id` identifies each product;
// `delivery_category` has three values. Anything else in custom_data is a custom parameter.

const DELIVERY_CATEGORIES: ReadonlySet<string> = new Set<DeliveryCategory>([
  'in_store',
  'curbside',
  'home_delivery',
]);

const CUSTOMER_SEGMENTATIONS: ReadonlySet<string> = new Set<CustomerSegmentation>([
  'new_customer_to_business',
  'new_customer_to_business_line',
  'new_customer_to_product_area',
  'new_customer_to_medium',
  'existing_customer_to_business',
  'existing_customer_to_business_line',
  'existing_customer_to_product_area',
  'existing_customer_to_medium',
  'customer_in_loyalty_program',
]);

/** Documented keys in the order they are written; everything else follows as custom parameters. */
export const KNOWN_KEYS = [
  'value',
  'currency',
  'content_name',
  'content_category',
  'content_ids',
  'contents',
  'content_type',
  'order_id',
  'predicted_ltv',
  'net_revenue',
  'num_items',
  'search_string',
  'status',
  'delivery_category',
  'item_number',
  'customer_segmentation',
] as const;

const KNOWN: ReadonlySet<string> = new Set(KNOWN_KEYS);

/**
 * The values of `source`'s {@link KNOWN_KEYS}, in that order, read by name: a keyed read per key
 * in a loop costs about ten times as much on V8, and most keys are absent (see `hashedValuesOf`).
 */
export function knownValuesOf(source: Readonly<Record<string, unknown>>): unknown[] {
  return [
    source.value,
    source.currency,
    source.content_name,
    source.content_category,
    source.content_ids,
    source.contents,
    source.content_type,
    source.order_id,
    source.predicted_ltv,
    source.net_revenue,
    source.num_items,
    source.search_string,
    source.status,
    source.delivery_category,
    source.item_number,
    source.customer_segmentation,
  ];
}

/**
 * Sets `out`'s {@link KNOWN_KEYS} entry number `index` to `value` (that field's validated value),
 * by name: one store site per key rather than a megamorphic `out[key] = value`.
 */
export function writeKnownValue(out: CustomData, index: number, value: unknown): void {
  switch (index) {
    case 0:
      out.value = value as CustomData['value'];
      return;
    case 1:
      out.currency = value as CustomData['currency'];
      return;
    case 2:
      out.content_name = value as CustomData['content_name'];
      return;
    case 3:
      out.content_category = value as CustomData['content_category'];
      return;
    case 4:
      out.content_ids = value as CustomData['content_ids'];
      return;
    case 5:
      out.contents = value as CustomData['contents'];
      return;
    case 6:
      out.content_type = value as CustomData['content_type'];
      return;
    case 7:
      out.order_id = value as CustomData['order_id'];
      return;
    case 8:
      out.predicted_ltv = value as CustomData['predicted_ltv'];
      return;
    case 9:
      out.net_revenue = value as CustomData['net_revenue'];
      return;
    case 10:
      out.num_items = value as CustomData['num_items'];
      return;
    case 11:
      out.search_string = value as CustomData['search_string'];
      return;
    case 12:
      out.status = value as CustomData['status'];
      return;
    case 13:
      out.delivery_category = value as CustomData['delivery_category'];
      return;
    case 14:
      out.item_number = value as CustomData['item_number'];
      return;
    case 15:
      out.customer_segmentation = value as CustomData['customer_segmentation'];
      return;
  }
  throw new RangeError(`no custom_data field at ${index}`);
}

/** {@link KNOWN_KEYS}, for the test that keeps {@link knownValuesOf} in step with it. */
export const KNOWN_CUSTOM_DATA_KEYS: readonly string[] = KNOWN_KEYS;

const CONTENT_KNOWN: ReadonlySet<string> = new Set(CONTENT_KEYS);

function error(issues: Issue[], path: string, code: string, message: string): void {
  issues.push({ path, code, message, severity: 'error' });
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Strings stay; numbers become strings (IDs and order numbers are often numeric in databases). */
function text(value: unknown, path: string, issues: Issue[]): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  error(issues, path, 'invalid_type', 'Expected a string.');
  return undefined;
}

/**
 * One entry of `content_ids`: a product ID, trimmed (as `contents[].id` is). An empty one names no
 * product, and the mock Graph API refuses the whole batch for it, as it does for `contents[].id`.
 */
function contentId(value: unknown, path: string, issues: Issue[]): string | undefined {
  const id = text(value, path, issues);
  if (id === undefined) return undefined;
  const trimmed = id.trim();
  if (trimmed === '') {
    error(issues, path, 'missing_content_id', 'Each content ID must be a non-empty string.');
    return undefined;
  }
  return trimmed;
}

/** A plain decimal, as a form, a query string or a data layer writes an amount (`"19.90"`). */
const DECIMAL_TEXT = /^-?(?:[0-9]{1,15}(?:\.[0-9]{0,15})?|\.[0-9]{1,15})$/;

/**
 * The number a plain decimal written as text spells (`' 19.90 '` → 19.9), else `undefined`: no
 * exponent, grouping, currency sign or unit, which could be read more than one way.
 * @example readDecimalText('19.90') // 19.9
 */
export function readDecimalText(value: unknown): number | undefined {
  if (typeof value !== 'string') return undefined;
  const trimmed = value.trim();
  return DECIMAL_TEXT.test(trimmed) ? Number(trimmed) : undefined;
}

/**
 * A number written as text, read (a warning): refused, a Purchase whose amount came from a form
 * field was not sent at all, the conversion lost for a quote mark.
 */
function fromText(value: unknown, path: string, issues: Issue[]): number | undefined {
  const read = readDecimalText(value);
  if (read !== undefined) {
    issues.push({
      path,
      code: 'number_as_text',
      message: 'Written as text; sent as the number it spells.',
      severity: 'warning',
    });
  }
  return read;
}

function finite(value: unknown, path: string, code: string, issues: Issue[]): number | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'string' && readDecimalText(value) !== undefined) {
    return fromText(value, path, issues);
  }
  error(issues, path, code, 'Expected a finite number.');
  return undefined;
}

function count(value: unknown, path: string, code: string, issues: Issue[]): number | undefined {
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0) return value;
  const read = readDecimalText(value);
  if (read !== undefined && Number.isInteger(read) && read >= 0) {
    return fromText(value, path, issues);
  }
  error(issues, path, code, 'Expected a non-negative integer.');
  return undefined;
}

function deliveryCategory(
  value: unknown,
  path: string,
  issues: Issue[],
): DeliveryCategory | undefined {
  if (typeof value === 'string' && DELIVERY_CATEGORIES.has(value)) return value as DeliveryCategory;
  error(issues, path, 'invalid_delivery_category', 'Must be in_store, curbside or home_delivery.');
  return undefined;
}

function content(item: unknown, path: string, issues: Issue[]): Content | undefined {
  if (!isObject(item)) {
    error(issues, path, 'invalid_content', 'Each item of contents must be an object with an id.');
    return undefined;
  }
  const rawId = item.id;
  const id =
    typeof rawId === 'string'
      ? rawId.trim()
      : typeof rawId === 'number' && Number.isFinite(rawId)
        ? String(rawId)
        : '';
  if (id === '') {
    // An item with `sku` or `product_id` and no `id` was refused with no word of its `sku`.
    const named = Object.keys(item).some((key) => key !== 'id' && meantContentField(key) === 'id');
    error(
      issues,
      `${path}.id`,
      'missing_content_id',
      `Each item of contents needs an id.${named ? " Meta's name for the product's sku or product_id is id." : ''}`,
    );
    return undefined;
  }
  const out: Content = { id };
  if (item.quantity !== undefined) {
    const quantity = count(item.quantity, `${path}.quantity`, 'invalid_quantity', issues);
    if (quantity !== undefined) out.quantity = quantity;
  }
  if (item.item_price !== undefined) {
    const price = finite(item.item_price, `${path}.item_price`, 'invalid_item_price', issues);
    if (price !== undefined) out.item_price = price;
  }
  if (item.delivery_category !== undefined) {
    const category = deliveryCategory(item.delivery_category, `${path}.delivery_category`, issues);
    if (category !== undefined) out.delivery_category = category;
  }
  for (const key of ['title', 'description', 'brand', 'category'] as const) {
    if (item[key] === undefined) continue;
    const value = text(item[key], `${path}.${key}`, issues);
    if (value !== undefined) out[key] = value;
  }
  for (const key of Object.keys(item)) {
    if (!CONTENT_KNOWN.has(key) && item[key] !== undefined) {
      // `qty`, `price`, `sku`: the field is dropped (or the item refused for want of an id); the
      // message names Meta's field, never a value.
      const meant = meantContentField(key);
      issues.push({
        path: `${path}.${key}`,
        code: 'unknown_content_field',
        message: `Not a documented contents field; dropped.${meant === undefined ? '' : ` Meta's name for it is ${meant}.`}`,
        severity: 'warning',
      });
    }
  }
  return out;
}

function list<T>(
  value: unknown,
  path: string,
  issues: Issue[],
  item: (element: unknown, path: string, issues: Issue[]) => T | undefined,
): T[] | undefined {
  if (!Array.isArray(value)) {
    error(issues, path, 'invalid_type', 'Expected a list.');
    return undefined;
  }
  const out: T[] = [];
  for (let i = 0; i < value.length; i++) {
    const element = item(value[i], `${path}[${i}]`, issues);
    if (element !== undefined) out.push(element);
  }
  return out;
}

type Field = (typeof KNOWN_KEYS)[number];

function knownField(key: Field, value: unknown, path: string, issues: Issue[]): unknown {
  switch (key) {
    case 'value':
      return finite(value, path, 'invalid_value', issues);
    case 'currency': {
      const currency = typeof value === 'string' ? normalizeCurrency(value) : undefined;
      if (currency === undefined) {
        error(issues, path, 'invalid_currency', 'Must be an ISO 4217 currency code such as USD.');
      }
      return currency;
    }
    case 'content_ids':
      return list(value, path, issues, contentId);
    case 'contents':
      return list(value, path, issues, content);
    case 'predicted_ltv':
    case 'net_revenue':
      return finite(value, path, 'invalid_number', issues);
    case 'num_items':
      return count(value, path, 'invalid_num_items', issues);
    case 'status':
      return typeof value === 'boolean' ? value : text(value, path, issues);
    case 'delivery_category':
      return deliveryCategory(value, path, issues);
    case 'customer_segmentation':
      if (typeof value === 'string' && CUSTOMER_SEGMENTATIONS.has(value)) return value;
      error(
        issues,
        path,
        'invalid_customer_segmentation',
        'Must be one of Meta’s customer_segmentation values, e.g. new_customer_to_business.',
      );
      return undefined;
    default:
      return text(value, path, issues);
  }
}

/** The input key whose entries are sent as custom parameters (see `CustomDataInput`). */
const CUSTOM_PROPERTIES = 'custom_properties';

/** Where `JSON.stringify` would throw inside a custom parameter, and why. */
interface Unserializable {
  path: string;
  cycle: boolean;
}

/** What `JSON.stringify` serializes in place of `value` (found under `key`): its `toJSON()`. */
function jsonValue(value: unknown, key: string): unknown {
  if (typeof value !== 'object' || value === null) return value;
  const toJSON = (value as { toJSON?: unknown }).toJSON;
  return typeof toJSON === 'function' ? toJSON.call(value, key) : value;
}

/** An object being walked: its path, and the keys (or, for an array, the length) left to visit. */
interface Frame {
  object: Record<string, unknown>;
  path: string;
  keys: string[] | undefined;
  length: number;
  next: number;
}

function frame(object: object, path: string): Frame {
  const keys = Array.isArray(object) ? undefined : Object.keys(object);
  const length = keys === undefined ? (object as unknown[]).length : keys.length;
  return { object: object as Record<string, unknown>, path, keys, length, next: 0 };
}

/**
 * The first place below `value` (a custom parameter) where `JSON.stringify` would throw: a BigInt
 * (a database's `bigint` column read as one) or an object that contains itself. Read the way
 * `JSON.stringify` reads (array indices, own enumerable keys, `toJSON`), so what passes here
 * serializes; walked with a stack of its own, not recursion, since `JSON.stringify` takes objects
 * nested far deeper than the call stack would. Only the objects on the way down count for a
 * cycle: a value shared by two keys is none.
 */
function unserializable(value: unknown, path: string, key: string): Unserializable | undefined {
  const root = jsonValue(value, key);
  if (typeof root === 'bigint') return { path, cycle: false };
  if (typeof root !== 'object' || root === null) return undefined;
  const ancestors = new Set<object>([root]);
  const stack: Frame[] = [frame(root, path)];
  while (stack.length > 0) {
    const top = stack[stack.length - 1] as Frame;
    if (top.next === top.length) {
      stack.pop();
      ancestors.delete(top.object);
      continue;
    }
    const index = top.next++;
    const name = top.keys === undefined ? String(index) : (top.keys[index] as string);
    const child = jsonValue(top.object[name], name);
    if (typeof child !== 'bigint' && (typeof child !== 'object' || child === null)) continue;
    const at = top.keys === undefined ? `${top.path}[${index}]` : `${top.path}.${name}`;
    if (typeof child === 'bigint') return { path: at, cycle: false };
    if (ancestors.has(child)) return { path: at, cycle: true };
    ancestors.add(child);
    stack.push(frame(child, at));
  }
  return undefined;
}

/** Copies one custom parameter into `out`; false (and an issue) when it cannot be sent. */
function customParameter(
  out: CustomData,
  key: string,
  value: unknown,
  path: string,
  issues: Issue[],
): boolean {
  if (value === undefined) return false;
  // `NaN` and `±Infinity` (a division by zero, `Number('')` of an empty form field) serialize as
  // `null`: sent, the parameter told Meta nothing and the app was not told either.
  if (typeof value === 'number' && !Number.isFinite(value)) {
    issues.push({
      path,
      code: 'invalid_custom_parameter',
      message: `Must be a finite number, got ${value}; dropped (JSON would send null).`,
      severity: 'warning',
    });
    return false;
  }
  if (typeof value === 'function' || typeof value === 'symbol' || typeof value === 'bigint') {
    error(issues, path, 'invalid_custom_parameter', 'Must be JSON-serializable.');
    return false;
  }
  // A raw address in a custom parameter is what Meta reports as potentially violating personal
  // data (see withoutEmailQuery): dropped, said by the parameter's path.
  if (typeof value === 'string' && looksLikeEmail(value)) {
    issues.push({
      path,
      code: 'personal_data_in_custom_data',
      message:
        'Held an email address, which Meta reports as potentially violating personal data in a custom parameter (keeping neither it nor, often, the event); dropped. Customer information goes in user_data.em, which capi-kit hashes.',
      severity: 'warning',
    });
    return false;
  }
  if (typeof value === 'object' && value !== null) {
    // Found here, the event is refused naming the field; found by the serialization at track(),
    // it was a failure of capi-kit's own ("track() failed (TypeError)"), with no field to fix.
    const found = unserializable(value, path, key);
    if (found !== undefined) {
      error(
        issues,
        found.path,
        'invalid_custom_parameter',
        found.cycle
          ? 'Must be JSON-serializable: contains itself (a circular reference).'
          : 'Must be JSON-serializable: a BigInt; convert it with String() or Number().',
      );
      return false;
    }
  }
  // A `__proto__` key from JSON.parse is data; plain assignment would replace the prototype.
  if (key === '__proto__') {
    Object.defineProperty(out, key, {
      value,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  } else {
    out[key] = value;
  }
  return true;
}

/**
 * Validates and copies `custom_data`: documented fields checked and written first in a stable
 * order (currency uppercased), custom parameters after them: keys written directly in
 * `custom_data` (untyped callers, the browser relay), then those of `custom_properties`.
 * `Purchase` needs `value` and `currency`. Returns `undefined` when there is nothing to send.
 */
export function normalizeCustomData(
  input: unknown,
  eventName: string,
  issues: Issue[],
): CustomData | undefined {
  const purchase = eventName === 'Purchase';
  if (input !== undefined && input !== null && !isObject(input)) {
    error(issues, 'custom_data', 'invalid_custom_data', 'custom_data must be an object.');
    return undefined;
  }
  if (input === undefined || input === null) {
    if (purchase) {
      error(issues, 'custom_data.value', 'missing_value', 'A Purchase needs a value.');
      error(issues, 'custom_data.currency', 'missing_currency', 'A Purchase needs a currency.');
    }
    return undefined;
  }
  const source = input as Record<string, unknown>;
  const out: CustomData = {};
  let size = 0;
  const known = knownValuesOf(source);
  for (let i = 0; i < KNOWN_KEYS.length; i++) {
    const raw = known[i];
    if (raw === undefined || raw === null) continue;
    const key = KNOWN_KEYS[i] as Field;
    const value = knownField(key, raw, `custom_data.${key}`, issues);
    if (value === undefined) continue;
    writeKnownValue(out, i, value);
    size++;
  }
  if (out.value === undefined && source.value == null && purchase) {
    error(issues, 'custom_data.value', 'missing_value', 'A Purchase needs a value.');
  }
  if (out.currency === undefined && source.currency == null) {
    if (purchase) {
      error(issues, 'custom_data.currency', 'missing_currency', 'A Purchase needs a currency.');
    } else if (out.value !== undefined) {
      issues.push({
        path: 'custom_data.currency',
        code: 'missing_currency',
        message: 'A value without a currency can’t be used for value optimization.',
        severity: 'warning',
      });
    }
  }
  // `Object.keys`, not `for…in` + `Object.hasOwn`: `for…in` also enumerates the prototype chain,
  // which runs the traps of a Proxy there (or this object's `getPrototypeOf` trap) and turned an
  // event Object.keys reads fine into an `unreadable_value` drop; and on Node 26 it was no faster.
  for (const key of Object.keys(source)) {
    if (KNOWN.has(key) || key === CUSTOM_PROPERTIES) continue;
    if (!customParameter(out, key, source[key], `custom_data.${key}`, issues)) continue;
    size++;
    const meant = closestName(key, KNOWN_KEYS);
    if (meant !== undefined && source[meant] == null) {
      issues.push({
        path: `custom_data.${key}`,
        code: 'possible_misspelling',
        message: `Not a documented custom_data field, so it is sent as a custom parameter; did you mean ${meant}?`,
        severity: 'warning',
      });
    }
  }
  // `custom_properties` is the typed path for custom parameters (`CustomDataInput` has no index
  // signature, so a misspelled documented key is a compile error). On the wire they are keys of
  // `custom_data`, merged the way Meta's own Node Business SDK merges `CustomData.custom_properties`.
  const properties = source[CUSTOM_PROPERTIES];
  if (properties !== undefined && properties !== null) {
    if (!isObject(properties)) {
      issues.push({
        path: `custom_data.${CUSTOM_PROPERTIES}`,
        code: 'invalid_custom_properties',
        message: 'custom_properties must be an object of custom parameters; dropped.',
        severity: 'warning',
      });
    } else {
      for (const key of Object.keys(properties)) {
        const value = properties[key];
        if (value === undefined) continue;
        const path = `custom_data.${CUSTOM_PROPERTIES}.${key}`;
        // A typed field (or a key written directly in custom_data) is never replaced unseen.
        if (KNOWN.has(key) || Object.hasOwn(out, key)) {
          issues.push({
            path,
            code: 'custom_property_conflict',
            message: KNOWN.has(key)
              ? `Is a documented custom_data field; set custom_data.${key} instead. Dropped.`
              : 'The same key written directly in custom_data wins; dropped.',
            severity: 'warning',
          });
          continue;
        }
        if (customParameter(out, key, value, path, issues)) size++;
      }
    }
  }
  return size === 0 ? undefined : out;
}
