import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs script without types
import { phonePlans } from '../../scripts/phone-plans.mjs';
import { NATIONAL_LENGTHS, REGIONS } from '../../src/user-data/phone-plans.js';

describe('phone-plans.ts', () => {
  it('matches the installed libphonenumber-js (else run scripts/phone-plans.mjs)', () => {
    const { lengths, regions } = phonePlans() as {
      lengths: Record<string, number[]>;
      regions: Record<string, [string, boolean]>;
    };
    expect(NATIONAL_LENGTHS).toEqual(lengths);
    expect(REGIONS).toEqual(regions);
    expect(Object.keys(REGIONS).length).toBeGreaterThan(240);
  });
});
