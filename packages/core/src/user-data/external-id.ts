// `external_id`: hashing is recommended, and Meta asks for the same format across channels; it
// gives no normalization rule. We trim and keep case: IDs can be case-sensitive (base64 tokens,
// some UUID stores), and lowercasing would merge distinct customers. Meta's Parameter Builder
// lowercases; hash the ID the same way on every channel you send it from.
// https://developers.facebook.com/documentation/ads-commerce/conversions-api/parameters/external-id [EXT]

/**
 * Normalizes an external ID: trimmed, case kept. Returns `undefined` for an empty value.
 * @example normalizeExternalId('  User-42 ') // 'User-42'
 */
export function normalizeExternalId(value: string): string | undefined {
  const id = value.trim();
  return id === '' ? undefined : id;
}
