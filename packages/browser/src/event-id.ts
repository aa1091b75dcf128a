/**
 * A fresh UUID v4 to use as `eventID`. `crypto.randomUUID()` exists only in secure contexts
 * (https, localhost), so plain-http pages get one built from `crypto.getRandomValues`.
 * @example const eventID = eventId(); await fetch('/checkout', { body: JSON.stringify({ eventID }) });
 */
export function eventId(): string {
  const crypto: Partial<Crypto> | undefined = globalThis.crypto;
  if (crypto?.randomUUID) return crypto.randomUUID();
  // One random byte a hex digit (31: the version digit is fixed), masked to the digit's 4 bits, or
  // to 2 for the RFC 4122 variant digit (8, 9, a or b). Without Web Crypto, Math.random: the last
  // resort of a runtime without it, as an event ID needs uniqueness, not secrecy.
  const bytes = crypto?.getRandomValues?.(new Uint8Array(31));
  let i = 0;
  return '00000000-0000-4000-8000-000000000000'.replace(/[08]/g, (c) =>
    (+c | ((bytes ? bytes[i++]! : Math.random() * 16) & (15 >> (+c / 4)))).toString(16),
  );
}
