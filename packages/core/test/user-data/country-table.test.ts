import { getCountries } from 'libphonenumber-js/min';
import { describe, expect, it } from 'vitest';
import { lookupKey } from '../../src/user-data/compact-text.js';
import { COUNTRIES } from '../../src/user-data/country-table.js';
import { normalizeCountry } from '../../src/user-data/index.js';

describe('ISO 3166-1 table', () => {
  it('has all 249 officially assigned alpha-2 codes, unique and sorted', () => {
    const alpha2 = COUNTRIES.map(([code]) => code);
    expect(alpha2).toHaveLength(249);
    expect(new Set(alpha2).size).toBe(249);
    expect([...alpha2].sort()).toEqual(alpha2);
    for (const code of alpha2) expect(code).toMatch(/^[a-z]{2}$/);
  });

  it('has unique alpha-3 codes', () => {
    const alpha3 = COUNTRIES.map(([, code]) => code);
    expect(new Set(alpha3).size).toBe(249);
    for (const code of alpha3) expect(code).toMatch(/^[a-z]{3}$/);
  });

  it('maps every code, alpha-3 code, name and alias back to its own country', () => {
    for (const [alpha2, alpha3, ...names] of COUNTRIES) {
      expect(normalizeCountry(alpha2.toUpperCase())).toBe(alpha2);
      expect(normalizeCountry(alpha3.toUpperCase())).toBe(alpha2);
      for (const name of names) expect([name, normalizeCountry(name)]).toEqual([name, alpha2]);
    }
  });

  // Address forms list countries by CLDR's English names (what `Intl.DisplayNames` returns), long
  // and short; these are the ones that differ from ISO's names (the same from Node 20 to 26).
  it.each([
    ['Antigua & Barbuda', 'ag'],
    ['Bosnia & Herzegovina', 'ba'],
    ['South Georgia & South Sandwich Islands', 'gs'],
    ['Hong Kong SAR China', 'hk'],
    ['Heard & McDonald Islands', 'hm'],
    ['St. Kitts & Nevis', 'kn'],
    ['Myanmar (Burma)', 'mm'],
    ['Macao SAR China', 'mo'],
    ['St. Pierre & Miquelon', 'pm'],
    ['Palestinian Territories', 'ps'],
    ['St. Helena', 'sh'],
    ['Svalbard & Jan Mayen', 'sj'],
    ['São Tomé & Príncipe', 'st'],
    ['Turks & Caicos Islands', 'tc'],
    ['Trinidad & Tobago', 'tt'],
    ['U.S. Outlying Islands', 'um'],
    ['St. Vincent & Grenadines', 'vc'],
    ['Wallis & Futuna', 'wf'],
  ])('reads the CLDR name %j as %s', (name, code) => {
    expect(normalizeCountry(name)).toBe(code);
  });

  it('reads the CLDR English name of every country, as this runtime spells it', () => {
    const long = new Intl.DisplayNames(['en'], { type: 'region' });
    const short = new Intl.DisplayNames(['en'], { type: 'region', style: 'short' });
    const unread: string[] = [];
    for (const [alpha2] of COUNTRIES) {
      const code = alpha2.toUpperCase();
      for (const name of [long.of(code), short.of(code)]) {
        if (name !== undefined && name !== code && normalizeCountry(name) !== alpha2) {
          unread.push(`${code} ${name}`);
        }
      }
    }
    expect(unread).toEqual([]);
  });

  it('has no name or alias claimed by two countries', () => {
    const owner = new Map<string, string>();
    for (const [alpha2, , ...names] of COUNTRIES) {
      for (const name of names) {
        const key = lookupKey(name);
        expect([name, owner.get(key) ?? alpha2]).toEqual([name, alpha2]);
        owner.set(key, alpha2);
      }
    }
  });

  it('covers every region libphonenumber knows (phone numbers can be read for each)', () => {
    const codes = new Set(COUNTRIES.map(([code]) => code));
    const unknown = getCountries()
      .map((c) => c.toLowerCase())
      .filter((c) => !codes.has(c));
    // XK (Kosovo) is user-assigned, not ISO 3166-1; AC and TA are ITU-only regions.
    expect(unknown.sort()).toEqual(['ac', 'ta', 'xk']);
  });
});
