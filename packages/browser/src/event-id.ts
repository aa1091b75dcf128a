/**
 * A fresh UUID v4 to use as `eventID`. `crypto.randomUUID()` exists only in secure contexts
 * (https, localhost), so plain-http pages get one built from `crypto.getRandomValues`.
 * @example const eventID = eventId(); await fetch('/checkout', { body: JSON.stringify({ eventID }) });
 */
export function eventId(): string {
  const crypto: Partial<Crypto> | undefined = globalThis.crypto;
  if (crypto?.randomUUID) return crypto.randomUUID();
  const bytes = new Uint8Array(16);
  if (crypto?.getRandomValues) crypto.getRandomValues(bytes);
  // Last resort for a runtime without Web Crypto: an event ID needs uniqueness, not secrecy.
  else for (let i = 0; i < 16; i++) bytes[i] = Math.random() * 256;
  bytes[6] = (bytes[6]! & 0x0f) | 0x40; // version 4
  bytes[8] = (bytes[8]! & 0x3f) | 0x80; // RFC 4122 variant
  const hex = Array.from(bytes, (b) => (b + 256).toString(16).slice(1)).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
