/**
 * A random `event_id` (UUID v4). Meta deduplicates browser and server copies on `event_name` +
 * `event_id`, so it only has to be unique, not secret; every runtime capi-kit targets has Web
 * Crypto, and `getRandomValues` covers the few without `randomUUID` (older Safari for the browser).
 * https://developers.facebook.com/documentation/ads-commerce/conversions-api/deduplicate-pixel-and-server-events
 */
export function newEventId(): string {
  const webCrypto = globalThis.crypto;
  // Lowercased, which changes nothing but the string's form: Node builds `randomUUID()` by
  // concatenation, a rope in V8, and `JSON.stringify` leaves its fast path for a whole event that
  // holds one (see `flatString`); `toLowerCase` returns one flat string.
  if (typeof webCrypto?.randomUUID === 'function') return webCrypto.randomUUID().toLowerCase();
  const bytes = new Uint8Array(16);
  webCrypto.getRandomValues(bytes);
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x40;
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80;
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
