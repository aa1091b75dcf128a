// `fbc` = `fb.{subdomainIndex}.{creationTime ms}.{fbclid}`, `fbp` = `fb.{subdomainIndex}.{ms}.{random}`;
// both are sent unhashed and unaltered (the fbclid is case-sensitive).
// https://developers.facebook.com/documentation/ads-commerce/conversions-api/parameters/fbp-and-fbc [FBC]
// Meta's Parameter Builder accepts 4 or 5 dot-separated parts, the 5th being its appendix.
// https://developers.facebook.com/documentation/ads-commerce/conversions-api/parameter-builder-library [PBL]

// The rule as one pattern: irregexp's compiled code checks a value in about a third of the
// instructions a character loop took (1.3k against 4.1k for a 90-character `_fbc` cut from the
// Cookie header, callgrind, Node 26), and every tracked page view checks one or two. Payload
// characters are printable ASCII except `.` (the part separator) and the cookie delimiters
// `"` `,` `;` `\`; the appendix is 2-8 base64url characters (prehashed.ts' `isAppendix`).
// The subdomain index counts the cookie domain's labels less one ([FBC]: `com` 0, `example.com` 1,
// `www.example.com` 2), so it is not one digit by definition: 1-3 digits, the request context's
// rule (`context/fb-cookies.ts`), so a cookie the context reads is never refused here.
const FB_COOKIE_VALUE = /^fb\.[0-9]{1,3}\.[0-9]+\.[!#-+\-/-:<-[\]-~]+(?:\.[A-Za-z0-9_-]{2,8})?$/;

/**
 * True when `value` has the shape of an `_fbc`/`_fbp` cookie value:
 * `fb.<subdomain index, 1-3 digits>.<creation time in ms>.<payload>` with an optional Parameter
 * Builder appendix.
 * @example isFbCookieValue('fb.1.1554763741205.AbCdEfGhIjKlMnOpQrStUvWxYz1234567890') // true
 */
export function isFbCookieValue(value: string): boolean {
  return FB_COOKIE_VALUE.test(value);
}
