import { isCurrencyCode } from '../../../core/src/event/currency.js';
import {
  invalid,
  isNonEmptyString,
  isRecord,
  type PathPart,
  required,
  type Violation,
} from '../field-checks.js';

// One event's `properties` ([EAPI] in sources.ts): `contents[]` of `content_id` (string),
// `content_type` (`product` or `product_group`), `content_name`, and the recommended
// `content_category`, `quantity`, `price`, `brand`; `content_type` also at the top of
// `properties`; `value` a number; `currency` "the 4217 currency code"; `order_id`, `query`,
// `description`. Other keys pass: TikTok takes custom properties.

const CONTENT_TYPES: readonly unknown[] = ['product', 'product_group'];
const STRING_KEYS = ['order_id', 'query', 'description', 'shop_id'] as const;
const CONTENT_STRING_KEYS = ['content_name', 'content_category', 'brand'] as const;

// The active ISO 4217 codes, the core's own list (bundled at build time, like the match keys), not
// the runtime's `Intl` list: that one depends on the ICU build and keeps withdrawn codes.

const isFiniteNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

const checkNumber = (value: unknown, path: PathPart[]): Violation | undefined => {
  if (isFiniteNumber(value)) return undefined;
  return invalid(
    path,
    typeof value === 'string' ? 'must be a number, not a string' : 'must be a number',
  );
};

const checkContentType = (value: unknown, path: PathPart[]): Violation | undefined =>
  CONTENT_TYPES.includes(value) ? undefined : invalid(path, "must be 'product' or 'product_group'");

const checkContent = (item: unknown, path: PathPart[]): Violation | undefined => {
  if (!isRecord(item)) return invalid(path, 'must be an object');
  if (item.content_id === undefined || item.content_id === null) {
    return required([...path, 'content_id']);
  }
  if (!isNonEmptyString(item.content_id)) {
    return invalid([...path, 'content_id'], 'must be a non-empty string');
  }
  if (item.content_type !== undefined) {
    const violation = checkContentType(item.content_type, [...path, 'content_type']);
    if (violation) return violation;
  }
  for (const key of ['quantity', 'price'] as const) {
    if (item[key] === undefined) continue;
    const violation = checkNumber(item[key], [...path, key]);
    if (violation) return violation;
  }
  for (const key of CONTENT_STRING_KEYS) {
    if (item[key] !== undefined && typeof item[key] !== 'string') {
      return invalid([...path, key], 'must be a string');
    }
  }
  return undefined;
};

const checkCurrency = (value: unknown, path: PathPart[]): Violation | undefined => {
  if (typeof value !== 'string') return invalid(path, 'must be a 3-letter ISO 4217 code');
  if (isCurrencyCode(value)) return undefined;
  if (isCurrencyCode(value.toUpperCase())) return invalid(path, 'must be uppercase (ISO 4217)');
  return invalid(path, 'must be an ISO 4217 currency code');
};

/** Checks one event's `properties`, when present. */
export const checkTikTokProperties = (value: unknown, at: PathPart[]): Violation | undefined => {
  const path = [...at, 'properties'];
  if (value === undefined || value === null) return undefined;
  if (!isRecord(value)) return invalid(path, 'must be an object');
  if (value.contents !== undefined) {
    if (!Array.isArray(value.contents)) {
      return invalid([...path, 'contents'], 'must be a list of objects');
    }
    for (const [i, item] of value.contents.entries()) {
      const violation = checkContent(item, [...path, 'contents', i]);
      if (violation) return violation;
    }
  }
  if (value.content_type !== undefined) {
    const violation = checkContentType(value.content_type, [...path, 'content_type']);
    if (violation) return violation;
  }
  if (value.value !== undefined) {
    const violation = checkNumber(value.value, [...path, 'value']);
    if (violation) return violation;
  }
  if (value.currency !== undefined) {
    const violation = checkCurrency(value.currency, [...path, 'currency']);
    if (violation) return violation;
  }
  for (const key of STRING_KEYS) {
    if (value[key] !== undefined && typeof value[key] !== 'string') {
      return invalid([...path, key], 'must be a string');
    }
  }
  return undefined;
};
