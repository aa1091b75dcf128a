import { isAppendix } from './prehashed.js';

// `fbc` = `fb.{subdomainIndex}.{creationTime ms}.{fbclid}`, `fbp` = `fb.{subdomainIndex}.{ms}.{random}`;
// both are sent unhashed and unaltered (the fbclid is case-sensitive).
// https://developers.facebook.com/documentation/ads-commerce/conversions-api/parameters/fbp-and-fbc [FBC]
// Meta's Parameter Builder accepts 4 or 5 dot-separated parts, the 5th being its appendix.
// https://developers.facebook.com/documentation/ads-commerce/conversions-api/parameter-builder-library [PBL]

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

/** Payload characters: printable ASCII except `.` (the part separator) and cookie delimiters. */
function isPayloadChar(c: number): boolean {
  return c > 0x20 && c < 0x7f && c !== 0x2e && c !== 0x3b && c !== 0x2c && c !== 0x22 && c !== 0x5c;
}

/**
 * True when `value` has the shape of an `_fbc`/`_fbp` cookie value:
 * `fb.<0-9>.<creation time in ms>.<payload>` with an optional Parameter Builder appendix.
 * @example isFbCookieValue('fb.1.1554763741205.AbCdEfGhIjKlMnOpQrStUvWxYz1234567890') // true
 */
export function isFbCookieValue(value: string): boolean {
  const length = value.length;
  if (length < 8 || !value.startsWith('fb.') || !isDigit(value.charCodeAt(3))) return false;
  if (value.charCodeAt(4) !== 0x2e) return false;
  let i = 5;
  while (i < length && isDigit(value.charCodeAt(i))) i++;
  if (i === 5 || value.charCodeAt(i) !== 0x2e) return false;
  const payloadStart = ++i;
  while (i < length && isPayloadChar(value.charCodeAt(i))) i++;
  if (i === payloadStart) return false;
  if (i === length) return true;
  return value.charCodeAt(i) === 0x2e && isAppendix(value, i + 1);
}
