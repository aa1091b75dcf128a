// Meta's rule for names, cities and non-US states: lowercase, no punctuation, special characters or
// spaces, non-ASCII letters in UTF-8. Letters of any script are kept, so `Valéry` → `valéry`
// and `정` → `정`, while Meta's Parameter Builder (which keeps only [a-z0-9] for cities) would
// turn `São Paulo` into `sopaulo`; Meta's written rule wins.
// https://developers.facebook.com/documentation/ads-commerce/conversions-api/parameters/customer-information-parameters [CIP]

// Letters (\p{L}), combining marks (\p{M}, needed by Indic, Thai, Hangul jamo and decomposed Latin)
// and decimal digits survive; everything else (punctuation, symbols, spaces, controls) goes.
const NOT_LETTER_OR_DIGIT = /[^\p{L}\p{M}\p{Nd}]+/gu;
const COMBINING_MARKS = /\p{M}+/gu;

/**
 * Lowercases `value` and removes everything but letters, combining marks and digits, then composes
 * it to Unicode NFC so the same name typed on different keyboards hashes the same.
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
  return value.toLowerCase().replace(NOT_LETTER_OR_DIGIT, '').normalize('NFC');
}

/**
 * A lookup key for names of places: {@link compactLowercase} with diacritics removed, so
 * `Québec`, `Quebec` and `QUÉBEC` find the same entry. Never hashed, only used to look codes up.
 */
export function lookupKey(value: string): string {
  const compact = compactLowercase(value);
  for (let i = 0; i < compact.length; i++) {
    if (compact.charCodeAt(i) >= 0x80) {
      return compact.normalize('NFD').replace(COMBINING_MARKS, '').normalize('NFC');
    }
  }
  return compact;
}
