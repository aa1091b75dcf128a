import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isValidFbValue } from '../../src/context/fb-cookies.js';
import { getRequestContext, mergeContext } from '../../src/context/index.js';
import { buildEvent } from '../../src/event/build-event.js';
import { isFbCookieValue } from '../../src/user-data/index.js';

// The rule as the character loop it was written as before it became a pattern: the pattern must
// accept exactly what this accepts.
const isDigit = (c: number) => c >= 0x30 && c <= 0x39;
const isPayloadChar = (c: number) =>
  c > 0x20 && c < 0x7f && c !== 0x2e && c !== 0x3b && c !== 0x2c && c !== 0x22 && c !== 0x5c;
const isBase64Url = (c: number) =>
  (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || isDigit(c) || c === 0x2d || c === 0x5f;
const byTheLoop = (value: string): boolean => {
  const length = value.length;
  if (length < 8 || !value.startsWith('fb.')) return false;
  let i = 3;
  while (i < length && i < 6 && isDigit(value.charCodeAt(i))) i++;
  if (i === 3 || value.charCodeAt(i) !== 0x2e) return false;
  const timeStart = ++i;
  while (i < length && isDigit(value.charCodeAt(i))) i++;
  if (i === timeStart || value.charCodeAt(i) !== 0x2e) return false;
  const payloadStart = ++i;
  while (i < length && isPayloadChar(value.charCodeAt(i))) i++;
  if (i === payloadStart) return false;
  if (i === length) return true;
  if (value.charCodeAt(i) !== 0x2e) return false;
  const appendix = length - i - 1;
  if (appendix < 2 || appendix > 8) return false;
  for (let j = i + 1; j < length; j++) if (!isBase64Url(value.charCodeAt(j))) return false;
  return true;
};

// Every character class the rule tells apart, and the ones next to its boundaries.
const CHARS = [...'fb.0129:/ -_aAzZ~!#+<[]`{"\\;,\t\n\u007f\u0080é😀'];
const noise = fc.string({ unit: fc.constantFrom(...CHARS), maxLength: 3 });
// Values shaped like the rule, each part sometimes replaced by noise: about one in nine valid,
// most of the rest near misses.
const part = (valid: fc.Arbitrary<string>) => fc.oneof({ weight: 6, arbitrary: valid }, noise);
const digits = fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: 1, maxLength: 14 });
const payload = fc.string({
  unit: fc.constantFrom(...CHARS.filter((c) => c !== '.')),
  maxLength: 20,
});
const base64url = fc.string({ unit: fc.constantFrom(...'aZ09-_'), minLength: 1, maxLength: 9 });
const candidate = fc
  .tuple(
    part(fc.constantFrom('fb.1.', 'fb.0.', 'fb.2.', 'fb.12.', 'fb.123.', 'fb.1234.')),
    part(digits),
    part(fc.constant('.')),
    part(payload),
    fc.oneof(fc.constant(''), part(base64url.map((a) => `.${a}`)), noise),
  )
  .map((parts) => parts.join(''));

describe('isFbCookieValue', () => {
  it('accepts exactly what the character loop accepts', () => {
    fc.assert(
      fc.property(candidate, (value) => {
        expect(isFbCookieValue(value)).toBe(byTheLoop(value));
      }),
      { numRuns: 20_000 },
    );
  });

  it.each([
    ['fb.1.1554763741205.AbCdEfGhIjKlMnOpQrStUvWxYz1234567890', true],
    ['fb.1.1554763741205.IwAR2F4-dbP0l7Mn1IawQQ.AQ', true],
    ['fb.1.1.x', true],
    ['fb.1.1.x.A', false],
    ['fb.1.1.x.ABCDEFGHI', false],
    ['fb.12.1.x', true],
    ['fb.123.1.x', true],
    ['fb.1234.1.x', false],
    ['fb..1.x', false],
    ['fb.1..x', false],
    ['fb.1.1.', false],
    ['fb.1.1.a"b', false],
    ['fb.1.1.a\\b', false],
    ['fb.1.1.é', false],
    ['fb.1.1.x\n', false],
    ['FB.1.1.x', false],
  ])('%j → %s', (value, expected) => {
    expect(isFbCookieValue(value)).toBe(expected);
    expect(byTheLoop(value)).toBe(expected);
  });
});

// The request context reads `_fbp`/`_fbc` under its own, narrower rule (a URL-safe payload of at
// most 500 characters: it echoes them back in `Set-Cookie`). A cookie it reads is filled into
// every event, where this rule checks it again: it must never be refused there as `invalid_fbp`.
describe('the request context and the event agree on fb values', () => {
  it('every value the context accepts, the event accepts', () => {
    fc.assert(
      fc.property(candidate, (value) => {
        if (isValidFbValue(value)) expect(isFbCookieValue(value)).toBe(true);
      }),
      { numRuns: 20_000 },
    );
  });

  it.each([
    'fb.12.1596403881668.1116446470',
    'fb.123.1596403881668.IwAR2F4-dbP0l7Mn1IawQQ.AQQAAQIB',
  ])('%j passes both', (value) => {
    expect(isValidFbValue(value)).toBe(true);
    expect(isFbCookieValue(value)).toBe(true);
  });

  it('a deep-subdomain `_fbp` read from the Cookie header reaches the event with no issue', () => {
    const fbp = 'fb.12.1596403881668.1116446470';
    const context = getRequestContext(
      new Request('https://shop.example.com/', {
        headers: { cookie: `_fbp=${fbp}`, 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64)' },
      }),
    );
    expect(context.user_data.fbp).toBe(fbp);
    const { event, issues } = buildEvent(
      mergeContext({ event_name: 'PageView', action_source: 'website' }, context),
    );
    expect(issues).toEqual([]);
    expect(event?.user_data.fbp).toBe(fbp);
  });
});
