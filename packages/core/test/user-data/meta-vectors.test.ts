import { describe, expect, it } from 'vitest';
import { sha256Hex } from '#platform';
import {
  hashUserData,
  normalizeCountry,
  normalizeDateOfBirth,
  normalizeEmail,
  normalizeName,
  normalizePhone,
} from '../../src/user-data/index.js';

// Meta's documented examples, from the normalization table of
// https://developers.facebook.com/documentation/ads-commerce/conversions-api/parameters/customer-information-parameters
// (reference/capi.md §3). Where Meta prints an abbreviated hash (`6915771b…c449f4ec`), the prefix
// and suffix are asserted.

const NOW = Date.UTC(2026, 8, 12);

function hashOf(key: 'em' | 'ph' | 'fn' | 'db' | 'country', value: string): string {
  const out = hashUserData({ [key]: value }, { now: () => NOW, defaultCountry: 'us' });
  const hashes = out[key];
  expect(hashes).toHaveLength(1);
  return hashes?.[0] ?? '';
}

describe("Meta's customer information vectors", () => {
  it('em: John_Smith@gmail.com → john_smith@gmail.com → full hash', () => {
    expect(normalizeEmail('John_Smith@gmail.com')).toBe('john_smith@gmail.com');
    expect(hashOf('em', 'John_Smith@gmail.com')).toBe(
      '62a14e44f765419d10fea99367361a727c12365e2520f32218d505ed9aa0f62f',
    );
  });

  it('ph: (650)555-1212 → 16505551212 (country us) → full hash', () => {
    expect(normalizePhone('(650)555-1212', 'us')).toBe('16505551212');
    expect(hashOf('ph', '(650)555-1212')).toBe(
      'e323ec626319ca94ee8bff2e4c87cf613be6ea19919ed1364124e16807ab3176',
    );
  });

  it.each([
    ['Mary', 'mary', '6915771b', 'c449f4ec'],
    ['정', '정', '8fa8cd9c', 'eb51db14'],
    ['Valéry', 'valéry', '08e1996b', '9417149c'],
  ])('fn/ln: %s → %s → %s…%s', (raw, normalized, prefix, suffix) => {
    expect(normalizeName(raw)).toBe(normalized);
    const hash = hashOf('fn', raw);
    expect(hash.startsWith(prefix)).toBe(true);
    expect(hash.endsWith(suffix)).toBe(true);
  });

  it('fn: Valéry typed with a combining accent (NFD) hashes like the composed form', () => {
    expect(hashOf('fn', 'Vale\u0301ry')).toBe(hashOf('fn', 'Valéry'));
  });

  it('db: 2/16/1997 → 19970216 → 01acdbf6…94f40f0c', () => {
    expect(normalizeDateOfBirth('2/16/1997', NOW)).toBe('19970216');
    const hash = hashOf('db', '2/16/1997');
    expect(hash.startsWith('01acdbf6')).toBe(true);
    expect(hash.endsWith('94f40f0c')).toBe(true);
  });

  it('country: United States → us → full hash', () => {
    expect(normalizeCountry('United States')).toBe('us');
    expect(hashOf('country', 'United States')).toBe(
      '79adb2a2fce5c6ba215fe5f27f532d4e7edbac4b6a5e09e1ef3a08084a904621',
    );
  });

  it('ct: New York → newyork; zp: M1 1AE → m11ae (UK)', () => {
    const out = hashUserData({ ct: 'New York', zp: 'M1 1AE', country: 'gb' });
    expect(out.ct).toEqual([sha256Hex('newyork')]);
    expect(out.zp).toEqual([sha256Hex('m11ae')]);
  });
});
