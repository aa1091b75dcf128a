// @ts-check
// `POST /lead` and `POST /purchase` inputs: one validation, one set of error texts, for every
// example (examples/README.md, "Invalid input").
import { contentTypeRejection, NOT_A_JSON_OBJECT } from './request-body.js';

/** @typedef {import('./request-body.js').Rejection} Rejection */
/**
 * @typedef {{ email: string, phone?: string, first_name?: string, last_name?: string, country?: string }} LeadInput
 * @typedef {{ id: string, quantity?: number, item_price?: number }} ContentInput
 * @typedef {{ email: string, value: number, currency: string, order_id: string, contents?: ContentInput[] }} PurchaseInput
 * @typedef {{ contentType: string | undefined | null, body: unknown }} IncomingBody
 */

/**
 * What a present but wrong field is told; a missing one is told `<field> is required`.
 * @type {Readonly<Record<string, string>>}
 */
const EXPECTED = {
  email: 'email must be a non-empty string',
  phone: 'phone must be a string',
  first_name: 'first_name must be a string',
  last_name: 'last_name must be a string',
  country: 'country must be a string',
  value: 'value must be a number',
  currency: 'currency must be a three-letter ISO 4217 code, like "EUR"',
  order_id: 'order_id must be a non-empty string',
  contents: 'contents must be a list of { id, quantity?, item_price? } with a non-empty string id',
};

/**
 * @param {string} field
 * @param {unknown} value
 * @returns {{ rejection: Rejection }}
 */
const invalid = (field, value) => ({
  rejection: {
    status: 400,
    body: {
      error: value === undefined || value === null ? `${field} is required` : `${EXPECTED[field]}`,
      field,
    },
  },
});

/** @param {unknown} v @returns {v is Record<string, unknown>} */
const isObject = (v) => typeof v === 'object' && v !== null && !Array.isArray(v);
/** @param {unknown} v @returns {v is string} */
const isNonEmptyString = (v) => typeof v === 'string' && v.trim() !== '';
/** @param {unknown} v @returns {v is number} */
const isFiniteNumber = (v) => typeof v === 'number' && Number.isFinite(v);
/** @param {unknown} v */
const isAbsent = (v) => v === undefined || v === null;

/**
 * The JSON object of a request, or the rejection of its content type or body.
 * @param {IncomingBody} request
 * @returns {{ body: Record<string, unknown> } | { rejection: Rejection }}
 */
function jsonObjectOf({ contentType, body }) {
  const refused = contentTypeRejection(contentType);
  if (refused !== undefined) return { rejection: refused };
  if (!isObject(body)) return { rejection: NOT_A_JSON_OBJECT };
  return { body };
}

/** @param {unknown} item @returns {ContentInput | undefined} */
function contentOf(item) {
  if (!isObject(item) || !isNonEmptyString(item.id)) return undefined;
  /** @type {ContentInput} */
  const line = { id: item.id };
  for (const key of /** @type {const} */ (['quantity', 'item_price'])) {
    const value = item[key];
    if (isAbsent(value)) continue;
    if (!isFiniteNumber(value)) return undefined;
    line[key] = value;
  }
  return line;
}

/**
 * Reads `POST /lead`: JSON `{ email, phone?, first_name?, last_name?, country? }`. Checks the
 * content type, then the fields in that order; the first problem is the answer.
 * @param {IncomingBody} request
 * @returns {{ lead: LeadInput } | { rejection: Rejection }}
 */
export function readLead(request) {
  const json = jsonObjectOf(request);
  if ('rejection' in json) return json;
  const { body } = json;
  if (!isNonEmptyString(body.email)) return invalid('email', body.email);
  /** @type {LeadInput} */
  const lead = { email: body.email };
  for (const field of /** @type {const} */ (['phone', 'first_name', 'last_name', 'country'])) {
    const value = body[field];
    if (isAbsent(value)) continue;
    if (typeof value !== 'string') return invalid(field, value);
    lead[field] = value;
  }
  return { lead };
}

/**
 * Reads `POST /purchase`: JSON `{ email, value, currency, order_id, contents? }`. Checks the
 * content type, then the fields in that order; the first problem is the answer.
 * @param {IncomingBody} request
 * @returns {{ purchase: PurchaseInput } | { rejection: Rejection }}
 */
export function readPurchase(request) {
  const json = jsonObjectOf(request);
  if ('rejection' in json) return json;
  const { body } = json;
  const { email, value, currency, order_id, contents } = body;
  if (!isNonEmptyString(email)) return invalid('email', email);
  if (!isFiniteNumber(value)) return invalid('value', value);
  // Meta takes ISO 4217 codes; core upper-cases them, so `eur` is fine.
  if (typeof currency !== 'string' || !/^[A-Za-z]{3}$/.test(currency)) {
    return invalid('currency', currency);
  }
  if (!isNonEmptyString(order_id)) return invalid('order_id', order_id);
  /** @type {PurchaseInput} */
  const purchase = { email, value, currency, order_id };
  if (!isAbsent(contents)) {
    const lines = Array.isArray(contents) ? contents.map(contentOf) : [undefined];
    if (lines.some((line) => line === undefined)) return invalid('contents', contents);
    purchase.contents = /** @type {ContentInput[]} */ (lines);
  }
  return { purchase };
}

/**
 * The `user_data` of a lead or purchase, in Meta's names (capi-kit normalizes and hashes it).
 * @param {LeadInput} input
 */
export const userDataOf = (input) => ({
  em: input.email,
  ...(input.phone !== undefined && { ph: input.phone }),
  ...(input.first_name !== undefined && { fn: input.first_name }),
  ...(input.last_name !== undefined && { ln: input.last_name }),
  ...(input.country !== undefined && { country: input.country }),
});

/**
 * The `custom_data` of a purchase.
 * @param {PurchaseInput} purchase
 */
export const purchaseDataOf = (purchase) => ({
  value: purchase.value,
  currency: purchase.currency,
  order_id: purchase.order_id,
  ...(purchase.contents && { contents: purchase.contents }),
});
