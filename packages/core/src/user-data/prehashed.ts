// Values hashed upstream (by Meta's Parameter Builder, a data warehouse, another SDK) must not be
// hashed twice. The builder appends `.<appendix>`: base64url of a 6-byte header (8 chars), or a
// 2-char legacy token; Meta says to send its output as-is, so the appendix is kept untouched.
// https://developers.facebook.com/documentation/ads-commerce/conversions-api/parameter-builder-library [PBL]

const HEX_LENGTH = 64;
const MIN_APPENDIX = 2;
const MAX_APPENDIX = 8;

function isHexDigit(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46);
}

/** True for base64url alphabet characters (`A-Z a-z 0-9 - _`). */
export function isBase64UrlChar(c: number): boolean {
  return (
    (c >= 0x41 && c <= 0x5a) ||
    (c >= 0x61 && c <= 0x7a) ||
    (c >= 0x30 && c <= 0x39) ||
    c === 0x2d ||
    c === 0x5f
  );
}

/** True when `text[from..]` is a Parameter Builder appendix: 2–8 base64url characters. */
export function isAppendix(text: string, from: number): boolean {
  const length = text.length - from;
  if (length < MIN_APPENDIX || length > MAX_APPENDIX) return false;
  for (let i = from; i < text.length; i++) if (!isBase64UrlChar(text.charCodeAt(i))) return false;
  return true;
}

/**
 * True when `value` is already a SHA-256 hex digest (any case), optionally followed by a
 * Parameter Builder appendix (`<64 hex>.<2–8 base64url chars>`).
 */
export function isSha256Hash(value: string): boolean {
  const length = value.length;
  if (length !== HEX_LENGTH) {
    if (length < HEX_LENGTH + 1 + MIN_APPENDIX || length > HEX_LENGTH + 1 + MAX_APPENDIX) {
      return false;
    }
    if (value.charCodeAt(HEX_LENGTH) !== 0x2e || !isAppendix(value, HEX_LENGTH + 1)) return false;
  }
  for (let i = 0; i < HEX_LENGTH; i++) if (!isHexDigit(value.charCodeAt(i))) return false;
  return true;
}

/** Canonical form of a value {@link isSha256Hash} accepted: hex lowercased, appendix untouched. */
export function canonicalHash(value: string): string {
  if (value.length === HEX_LENGTH) return value.toLowerCase();
  return value.slice(0, HEX_LENGTH).toLowerCase() + value.slice(HEX_LENGTH);
}
