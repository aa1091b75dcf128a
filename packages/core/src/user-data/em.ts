import { foldFullWidth } from './compact-text.js';

// `em`: trim leading and trailing whitespace, lowercase.
// https://developers.facebook.com/documentation/ads-commerce/conversions-api/parameters/customer-information-parameters [CIP]
//
// The shape check is deliberately loose: exactly one `@`, something before it, and a domain with
// a dot and no empty labels. Unicode local parts and IDN domains are valid email (RFC 6531/5890);
// Meta's Node SDK rejected them with an ASCII-only validator (facebook-nodejs-business-sdk #302).
// What it refuses are the ASCII characters no deliverable address holds and that text around an
// address brings: RFC 5322's specials in the local part (`"john@x.com"`, `<john@x.com>`,
// `a@x.com,` split from a list) and anything but letters, digits, `-` and `.` in an ASCII domain.
// Accepted, they were hashed with the address, which then matched no one, and nobody was told.

function isAsciiOnly(value: string): boolean {
  for (let i = 0; i < value.length; i++) if (value.charCodeAt(i) >= 0x80) return false;
  return true;
}

// Whitespace and control characters are never part of an address, in any script. The controls
// (\p{Cc}) are exactly U+0000-U+001F and U+007F-U+009F; written as ranges, the pattern needs no
// Unicode property, which V8 would expand through ICU when parsing the file (compact-text.ts).
// `\s` is the same set with or without the `u` flag; none of it lies outside the BMP.
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it finds
const SPACE_OR_CONTROL = /[\s\x00-\x1f\x7f-\x9f]/;

/** RFC 5322's specials other than `@` and `.`: `(` `)` `,` `:` `;` `<` `>` `[` `\\` `]` `"`. */
function isSpecial(c: number): boolean {
  return (
    c === 0x28 ||
    c === 0x29 ||
    c === 0x2c ||
    c === 0x3a ||
    c === 0x3b ||
    c === 0x3c ||
    c === 0x3e ||
    c === 0x5b ||
    c === 0x5c ||
    c === 0x5d ||
    c === 0x22
  );
}

/** A character of a domain: an ASCII letter (lowercased already), digit, `-` or `.`, or any non-ASCII (IDN). */
function isDomainChar(c: number): boolean {
  return (
    c >= 0x80 || (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x2e
  );
}

function isValidShape(email: string): boolean {
  if (SPACE_OR_CONTROL.test(email)) return false;
  const at = email.indexOf('@');
  if (at <= 0 || at !== email.lastIndexOf('@')) return false;
  for (let i = 0; i < at; i++) if (isSpecial(email.charCodeAt(i))) return false;
  const domainStart = at + 1;
  const length = email.length;
  if (domainStart >= length) return false;
  let sawDot = false;
  let previous = 0x2e; // a leading dot in the domain counts as an empty label
  for (let i = domainStart; i < length; i++) {
    const c = email.charCodeAt(i);
    if (!isDomainChar(c)) return false;
    if (c === 0x2e) {
      if (previous === 0x2e) return false;
      sawDot = true;
    }
    previous = c;
  }
  return sawDot && previous !== 0x2e;
}

// Invisible characters that copying adds to an address and that no address contains: the soft
// hyphen, zero-width space, word joiner and byte order mark (which IDNA's UTS #46 mapping ignores
// in a domain), and direction marks and embeddings (copied from right-to-left pages and iOS, which
// IDNA disallows). Kept, they were hashed with the address, which then matched no one. Zero-width
// joiners (U+200C, U+200D) stay: IDNA allows them in some scripts' domain names.
const INVISIBLE = /[\u00ad\u200b\u200e\u200f\u202a-\u202e\u2060\u2066-\u2069\ufeff]/g;

/**
 * Normalizes an email address the way Meta hashes it: trimmed, lowercased (Unicode NFC), invisible
 * characters (zero-width space, direction marks, soft hyphen) removed, full-width ASCII typed by an
 * East Asian input method (`ｊｏｈｎ＠ｘ.ｃｏｍ`) made ASCII, a `mailto:` prefix removed. Returns
 * `undefined` when it isn't shaped like an address (brackets, quotes, commas or semicolons around
 * it included).
 * @example normalizeEmail(' John_Smith@Gmail.com ') // 'john_smith@gmail.com'
 */
export function normalizeEmail(value: string): string | undefined {
  let email = value.trim().toLowerCase();
  // A link's address (`<a href="mailto:…">`): the scheme is never part of it.
  if (email.startsWith('mailto:')) email = email.slice(7).trim();
  if (!isAsciiOnly(email)) {
    email = foldFullWidth(email).replace(INVISIBLE, '').trim().normalize('NFC');
  }
  return isValidShape(email) ? email : undefined;
}
