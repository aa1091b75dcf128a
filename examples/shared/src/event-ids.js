// @ts-check

/**
 * The Purchase's `event_id`, derived from the order: the same order always gives the same ID, so
 * Meta counts a retried checkout once. Meta deduplicates on `event_name` + `event_id` and advises
 * order or transaction IDs, reused on retries:
 * https://developers.facebook.com/documentation/ads-commerce/conversions-api/deduplicate-pixel-and-server-events
 * Every example uses this one rule: `ORD-1001` → `purchase-ORD-1001`.
 * @param {string} orderId
 */
export const purchaseEventId = (orderId) => `purchase-${orderId}`;
