import fc from 'fast-check';
import { type CountryCode, parsePhoneNumberFromString } from 'libphonenumber-js/min';
import { describe, expect, it } from 'vitest';
import type { Issue } from '../../src/event/index.js';
import {
  HASHED_USER_DATA_KEYS,
  hashUserData,
  normalizeCity,
  normalizeCountry,
  normalizeDateOfBirth,
  normalizeEmail,
  normalizeExternalId,
  normalizeGender,
  normalizeName,
  normalizePhone,
  normalizeState,
  normalizeUserData,
  normalizeZip,
  type UserDataInput,
} from '../../src/user-data/index.js';

const NOW = Date.UTC(2026, 8, 12);

const loneSurrogate = fc
  .integer({ min: 0xd800, max: 0xdfff })
  .map((code) => String.fromCharCode(code));

/** Strings of every kind: ASCII, any code point, graphemes, lone surrogates, and realistic shapes. */
const anyString = fc.oneof(
  fc.string(),
  fc.string({ unit: 'binary' }),
  fc.string({ unit: 'grapheme' }),
  fc.string({ unit: fc.oneof(fc.string({ unit: 'binary', maxLength: 1 }), loneSurrogate) }),
  fc.emailAddress(),
  fc.stringMatching(/^\+?[0-9 ()\-.]{0,20}$/),
  fc.stringMatching(/^[0-9]{1,4}[/-][0-9]{1,2}[/-][0-9]{1,4}$/),
  fc.constantFrom('Valéry', '정', 'São Paulo', 'Vale\u0301ry', 'e-\u0301', 'İstanbul', 'ǅ', 'ß'),
);

/** True when `e164` is the typed digits, or them without one trunk 0 right after the calling code. */
function keepsTypedDigits(typed: string, e164: string): boolean {
  if (typed === e164) return true;
  for (let codeLength = 1; codeLength <= 3; codeLength++) {
    if (
      typed[codeLength] === '0' &&
      typed.slice(0, codeLength) + typed.slice(codeLength + 1) === e164
    ) {
      return true;
    }
  }
  return false;
}

const normalizers: [string, (value: string) => string | undefined][] = [
  ['em', normalizeEmail],
  ['ph (no country)', (v) => normalizePhone(v)],
  ['fn/ln', normalizeName],
  ['ge', normalizeGender],
  ['db', (v) => normalizeDateOfBirth(v, NOW)],
  ['ct', normalizeCity],
  ['st', (v) => normalizeState(v)],
  ['st (us)', (v) => normalizeState(v, 'us')],
  ['zp', (v) => normalizeZip(v)],
  ['zp (us)', (v) => normalizeZip(v, 'us')],
  ['country', normalizeCountry],
  ['external_id', normalizeExternalId],
];

describe('normalizers (property-based)', () => {
  it.each(normalizers)('%s never throws and is idempotent', (_key, normalize) => {
    fc.assert(
      fc.property(anyString, (value) => {
        const once = normalize(value);
        if (once === undefined) return;
        expect(normalize(once)).toBe(once);
      }),
      { numRuns: 500 },
    );
  });

  it('ph with a country never throws and yields 7–15 digits', () => {
    fc.assert(
      fc.property(
        anyString,
        fc.constantFrom('us', 'gb', 'fr', 'de', 'it', 'br', 'in', 'aq', 'zz'),
        (value, country) => {
          const digits = normalizePhone(value, country);
          if (digits !== undefined) expect(digits).toMatch(/^[1-9][0-9]{6,14}$/);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('ph fast paths read every valid number the way libphonenumber does', () => {
    const separator = fc.constantFrom('', ' ', '-', '.', ' (', ') ');
    const formatted = fc
      .tuple(
        fc.array(fc.tuple(fc.stringMatching(/^[0-9]{1,4}$/), separator), {
          minLength: 1,
          maxLength: 5,
        }),
      )
      .map(([parts]) => parts.map(([d, s]) => d + s).join(''));
    const cases = fc.oneof(
      fc.tuple(
        formatted.map((n) => `0${n}`),
        fc.constantFrom<CountryCode>('GB', 'JE', 'AU', 'CX'),
      ),
      fc.tuple(formatted, fc.constantFrom<CountryCode>('US', 'CA', 'JM', 'PR')),
      fc.tuple(
        formatted.map((n) => `+${n}`),
        fc.constant(undefined),
      ),
      fc.tuple(
        formatted.map((n) => `00${n}`),
        fc.constant(undefined),
      ),
    );
    fc.assert(
      fc.property(cases, ([text, region]) => {
        const international = region === undefined;
        const reference = international
          ? parsePhoneNumberFromString(text.startsWith('00') ? `+${text.slice(2)}` : text)
          : parsePhoneNumberFromString(text, { defaultCountry: region });
        if (!reference?.isValid()) return; // invalid numbers may be read either way
        const e164 = reference.number.slice(1);
        // libphonenumber's min metadata lets NANP exchanges start with 0 or 1 and knows 7-digit
        // service numbers (310-xxxx); normalizePhone accepts only NXX-NXX-XXXX subscriber numbers.
        if (e164.startsWith('1') && !/^1[2-9]\d{2}[2-9]\d{6}$/.test(e164)) return;
        // normalizePhone enforces 7–15 digits: E.164's maximum, and the shortest subscriber numbers
        // in use (shorter ones are service codes, not customers' phones).
        if (e164.length < 7 || e164.length > 15) return;
        // After a calling code, libphonenumber also strips carrier prefixes (China's `17951`…,
        // Brazil's `90`); only a typed trunk 0 is removed on the fast path, so compare where that
        // is all it did. A number typed with `00` is international whatever region is given.
        const digits = text.replace(/\D/g, '');
        if (
          (international || digits.startsWith('00')) &&
          !keepsTypedDigits(digits.replace(/^00/, ''), e164)
        ) {
          return;
        }
        expect(normalizePhone(text, region)).toBe(e164);
      }),
      { numRuns: 2000 },
    );
  });

  it('names, cities and states keep only lowercase letters, marks and digits in NFC', () => {
    fc.assert(
      fc.property(anyString, (value) => {
        for (const out of [normalizeName(value), normalizeCity(value), normalizeState(value)]) {
          if (out === undefined) continue;
          expect(out).toMatch(/^[\p{L}\p{M}\p{Nd}]+$/u);
          expect(out.normalize('NFC')).toBe(out);
          expect(out.toLowerCase()).toBe(out);
        }
      }),
      { numRuns: 500 },
    );
  });
});

const userDataInput: fc.Arbitrary<UserDataInput> = fc.record(
  {
    em: fc.oneof(anyString, fc.array(anyString, { maxLength: 3 })),
    ph: fc.oneof(anyString, fc.array(anyString, { maxLength: 3 })),
    fn: anyString,
    ln: anyString,
    db: fc.oneof(anyString, fc.date()),
    ge: anyString,
    ct: anyString,
    st: anyString,
    zp: anyString,
    country: anyString,
    external_id: fc.oneof(anyString, fc.array(anyString, { maxLength: 3 })),
    client_ip_address: anyString,
    client_user_agent: anyString,
    fbc: anyString,
    fbp: anyString,
  },
  { requiredKeys: [] },
);

describe('normalizeUserData / hashUserData (property-based)', () => {
  it('hashed keys always come out as de-duplicated 64-char lowercase hex', () => {
    fc.assert(
      fc.property(userDataInput, (input) => {
        const issues: Issue[] = [];
        const out = hashUserData(input, { issues, now: () => NOW });
        for (const key of HASHED_USER_DATA_KEYS) {
          const values = out[key];
          if (values === undefined) continue;
          expect(values.length).toBeGreaterThan(0);
          expect(new Set(values).size).toBe(values.length);
          for (const value of values) expect(value).toMatch(/^[0-9a-f]{64}$/);
        }
        for (const issue of issues) expect(['error', 'warning']).toContain(issue.severity);
      }),
      { numRuns: 300 },
    );
  });

  it('normalizing is idempotent for a whole user_data without a phone country', () => {
    fc.assert(
      fc.property(userDataInput, (input) => {
        const { country: _country, st: _st, zp: _zp, ...rest } = input;
        const once = normalizeUserData(rest, { now: () => NOW });
        expect(normalizeUserData(once, { now: () => NOW })).toEqual(once);
      }),
      { numRuns: 300 },
    );
  });

  it('never throws on arbitrary values', () => {
    fc.assert(
      fc.property(
        fc.anything(),
        fc.dictionary(
          fc.constantFrom(...HASHED_USER_DATA_KEYS, 'fbc', 'lead_id', 'x'),
          fc.anything(),
        ),
        (any, dict) => {
          normalizeUserData(any as UserDataInput, { issues: [] });
          hashUserData(dict as UserDataInput, { issues: [] });
        },
      ),
      { numRuns: 300 },
    );
  });
});
