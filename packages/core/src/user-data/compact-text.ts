// Meta's rule for names, cities and non-US states: lowercase, no punctuation, special characters or
// spaces, non-ASCII letters in UTF-8. Letters of any script are kept, so `Valéry` → `valéry`
// and `정` → `정`, while Meta's Parameter Builder (which keeps only [a-z0-9] for cities) would
// turn `São Paulo` into `sopaulo`; Meta's written rule wins.
// https://developers.facebook.com/documentation/ads-commerce/conversions-api/parameters/customer-information-parameters [CIP]

// Letters (\p{L}), combining marks (\p{M}, needed by Indic, Thai, Hangul jamo and decomposed Latin)
// and decimal digits survive; everything else (punctuation, symbols, spaces, controls) goes.
//
// Built on first use from strings, not written as literals: V8 expands a literal's Unicode property
// classes through ICU when it parses the file, even inside a function never called. These two and
// the email check's `\p{Cc}` (em.ts) cost about 7.6 million instructions, an eighth of importing
// the whole package (docs/architecture.md, fourteenth session), for text that is ASCII in most
// events and never reaches them.
let notLetterOrDigit: RegExp | undefined;
let combiningMarks: RegExp | undefined;

/** The full-width forms of ASCII `!` to `~` (U+FF01-U+FF5E), 0xFEE0 above the characters they stand for. */
const FULL_WIDTH_ASCII = /[\uff01-\uff5e]/g;

const halfWidth = (c: string): string => String.fromCharCode(c.charCodeAt(0) - 0xfee0);

/**
 * Replaces full-width Latin letters, digits and punctuation (`ＪＯＨＮ`, `１００－０００１`, `＠`) with
 * their ASCII forms. Japanese, Chinese and Korean input methods type them in full-width mode; the
 * customer's data Meta matches against holds the ASCII ones, so kept they hashed to a value that
 * matches no one (the phone rule already read full-width digits).
 * @example foldFullWidth('ｊｏｈｎ＠ｅｘａｍｐｌｅ.ｃｏｍ') // 'john@example.com'
 */
export function foldFullWidth(value: string): string {
  return value.replace(FULL_WIDTH_ASCII, halfWidth);
}

/**
 * Lowercases `value` and removes everything but letters, combining marks and digits, then composes
 * it to Unicode NFC so the same name typed on different keyboards hashes the same (full-width
 * Latin letters and digits become ASCII, see {@link foldFullWidth}).
 * @example compactLowercase('  Mary-Ann O’Neil ') // 'maryannoneil'
 */
export function compactLowercase(value: string): string {
  // Most values are short ASCII and often already compact: return them without building a copy.
  let i = 0;
  for (; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (!((c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39))) break;
  }
  if (i === value.length) return value;
  let out = value.slice(0, i);
  for (; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c >= 0x80) return unicodeCompact(value);
    if ((c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39)) out += value[i];
    else if (c >= 0x41 && c <= 0x5a) out += String.fromCharCode(c + 0x20);
  }
  return out;
}

function unicodeCompact(value: string): string {
  // Stripping before composing matters: `e` `-` U+0301 must become `é`, and composing first would
  // leave a bare mark that a second pass would compose differently (normalization stays idempotent).
  // biome-ignore lint/complexity/useRegexLiterals: a literal is expanded when the file is parsed (above)
  notLetterOrDigit ??= new RegExp('[^\\p{L}\\p{M}\\p{Nd}]+', 'gu');
  return foldFullWidth(value).toLowerCase().replace(notLetterOrDigit, '').normalize('NFC');
}

/**
 * A lookup key for names of places: {@link compactLowercase} with diacritics removed, so
 * `Québec`, `Quebec` and `QUÉBEC` find the same entry. Never hashed, only used to look codes up.
 */
export function lookupKey(value: string): string {
  const compact = compactLowercase(value);
  for (let i = 0; i < compact.length; i++) {
    if (compact.charCodeAt(i) >= 0x80) {
      // biome-ignore lint/complexity/useRegexLiterals: a literal is expanded when the file is parsed
      combiningMarks ??= new RegExp('\\p{M}+', 'gu');
      return compact.normalize('NFD').replace(combiningMarks, '').normalize('NFC');
    }
  }
  return compact;
}
