import { describe, expect, it } from 'vitest';
import { jsonByteLength } from '../../src/relay/json-size.js';

const utf8 = (value: unknown) => new TextEncoder().encode(JSON.stringify(value) ?? '').byteLength;

describe('jsonByteLength', () => {
  const values: [string, unknown][] = [
    ['null', null],
    ['true', true],
    ['false', false],
    ['an integer', 42],
    ['a negative float', -3.25],
    ['a large number written in full', 1e20],
    ['an exponent', 1e21],
    ['a tiny number', 1e-7],
    ['-0', -0],
    ['NaN and Infinity', [Number.NaN, Number.POSITIVE_INFINITY]],
    ['an empty string', ''],
    ['escapes', 'a"b\\c\n\r\t\b\f/'],
    ['control characters', '\u0000\u0001\u001f\u007f'],
    ['two- and three-byte characters', 'é€ü✓'],
    ['a surrogate pair', '😀 and 𝄞'],
    ['lone surrogates', 'a\ud800b\udc00c\ud83d'],
    ['U+2028 and U+2029', '\u2028\u2029'],
    ['an empty object and array', { a: {}, b: [] }],
    ['nested', { v: 1, pixel_id: '1', events: [{ event_name: 'X', custom_data: { n: [1, 2] } }] }],
    ['unserializable members', { a: undefined, b: () => 1, c: Symbol('s'), d: 1 }],
    [
      'unserializable array members and holes',
      [undefined, () => 1, Object.assign(new Array(3), { 2: 5 })],
    ],
    ['keys that need escaping', { 'q"é\n': 1, '': 2 }],
    ['a Date (toJSON)', { at: new Date(0) }],
  ];
  it.each(values)('matches JSON.stringify for %s', (_label, value) => {
    expect(jsonByteLength(value, Number.MAX_SAFE_INTEGER)).toBe(utf8(value));
  });

  it('matches JSON.stringify on random JSON documents', () => {
    let seed = 7;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const alphabet = ['a', 'Z', '"', '\\', '\n', '\u0001', 'é', '€', '😀', '\ud800', ' ', '/'];
    const text = () =>
      Array.from(
        { length: Math.floor(random() * 8) },
        () => alphabet[Math.floor(random() * 12)],
      ).join('');
    const make = (depth: number): unknown => {
      const kind = Math.floor(random() * (depth > 3 ? 4 : 6));
      if (kind === 0) return null;
      if (kind === 1) return random() < 0.5;
      if (kind === 2) return (random() - 0.5) * 10 ** Math.floor(random() * 30 - 10);
      if (kind === 3) return text();
      if (kind === 4)
        return Array.from({ length: Math.floor(random() * 4) }, () => make(depth + 1));
      return Object.fromEntries(
        Array.from({ length: Math.floor(random() * 4) }, () => [text(), make(depth + 1)]),
      );
    };
    for (let i = 0; i < 500; i++) {
      const value = make(0);
      expect(jsonByteLength(value, Number.MAX_SAFE_INTEGER)).toBe(utf8(value));
    }
  });

  it('stops soon after the limit instead of measuring everything', () => {
    const huge = Array.from({ length: 200_000 }, () => 'x'.repeat(10));
    const size = jsonByteLength(huge, 1000);
    expect(size).toBeGreaterThan(1000);
    // At most one more member than needed: far from the 2.6 MB the whole array would take.
    expect(size).toBeLessThan(1100);
  });

  it('survives a deep and a cyclic value (no stack overflow, no endless loop)', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(jsonByteLength(deep, Number.MAX_SAFE_INTEGER)).toBe(200_001);
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    expect(jsonByteLength(cyclic, 64 * 1024)).toBeGreaterThan(64 * 1024);
  });
});
