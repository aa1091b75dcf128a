// @ts-check
// What the example apps share, so each example shows only its framework's adapter.
import { pixelSnippet } from '@capi-kit/core';

/**
 * A rejected request body: the message and the field it names.
 * @typedef {{ error: string, field: string }} InputError
 */
/**
 * @typedef {{ email: string, phone?: string, first_name?: string, last_name?: string, country?: string }} LeadInput
 * @typedef {{ id: string, quantity?: number, item_price?: number }} ContentInput
 * @typedef {{ email: string, value: number, currency: string, order_id: string, contents?: ContentInput[] }} PurchaseInput
 */

/** @param {unknown} v */
const isNonEmptyString = (v) => typeof v === 'string' && v.trim() !== '';

/**
 * @param {Record<string, unknown>} body
 * @param {string} field
 * @returns {InputError}
 */
const invalid = (body, field) => ({
  error: body[field] === undefined ? `${field} is required` : `${field} is invalid`,
  field,
});

/**
 * Validates `POST /lead`'s body.
 * @param {unknown} input
 * @returns {{ lead: LeadInput } | InputError}
 */
export function parseLead(input) {
  const body = /** @type {Record<string, unknown>} */ (input ?? {});
  if (!isNonEmptyString(body.email)) return invalid(body, 'email');
  for (const field of ['phone', 'first_name', 'last_name', 'country']) {
    if (body[field] !== undefined && typeof body[field] !== 'string') return invalid(body, field);
  }
  return { lead: /** @type {LeadInput} */ (body) };
}

/**
 * Validates `POST /purchase`'s body.
 * @param {unknown} input
 * @returns {{ purchase: PurchaseInput } | InputError}
 */
export function parsePurchase(input) {
  const body = /** @type {Record<string, unknown>} */ (input ?? {});
  if (!isNonEmptyString(body.email)) return invalid(body, 'email');
  if (typeof body.value !== 'number' || !Number.isFinite(body.value)) return invalid(body, 'value');
  if (typeof body.currency !== 'string' || !/^[A-Za-z]{3}$/.test(body.currency)) {
    return invalid(body, 'currency');
  }
  if (!isNonEmptyString(body.order_id)) return invalid(body, 'order_id');
  if (body.contents !== undefined) {
    const ok =
      Array.isArray(body.contents) &&
      body.contents.every((c) => c && typeof c === 'object' && isNonEmptyString(c.id));
    if (!ok) return invalid(body, 'contents');
  }
  return { purchase: /** @type {PurchaseInput} */ (body) };
}

/**
 * The same order always gives the same event ID, so Meta counts a retried checkout once.
 * @param {string} orderId
 */
export const purchaseEventId = (orderId) => `purchase-${orderId}`;

/**
 * The `user_data` of a lead or purchase, in Meta's names (capi-kit normalizes and hashes it).
 * @param {LeadInput} input
 */
export const userDataOf = (input) => ({
  em: input.email,
  ...(input.phone && { ph: input.phone }),
  ...(input.first_name && { fn: input.first_name }),
  ...(input.last_name && { ln: input.last_name }),
  ...(input.country && { country: input.country }),
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

/**
 * The landing page: the Pixel fires `PageView` with the server event's ID, so Meta counts it once.
 * @param {{ pixelId: string, eventId: string, scriptUrl?: string | undefined, framework: string }} page
 */
export function landingPage({ pixelId, eventId, scriptUrl, framework }) {
  const pixel = pixelSnippet({
    pixelId,
    events: [{ event_name: 'PageView', event_id: eventId }],
    ...(scriptUrl && { scriptUrl }),
  });
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>capi-kit ${framework} example</title>${pixel}</head>
<body>
<h1>capi-kit ${framework} example</h1>
<p>This page view was sent to Meta twice, by the Pixel and by the server, with one event ID.</p>
</body>
</html>`;
}

/**
 * `TRUST_PROXY` as capi-kit's `trustProxy` option: `true`/`false`, a hop count, or a comma list of
 * presets (`loopback`, `private`) and IPs/CIDRs.
 * @param {string | undefined} value
 * @returns {boolean | number | string[]}
 */
export function parseTrustProxy(value) {
  if (value === undefined || value === '' || value === 'false') return false;
  if (value === 'true') return true;
  if (/^\d+$/.test(value)) return Number(value);
  return value.split(',').map((s) => s.trim());
}
