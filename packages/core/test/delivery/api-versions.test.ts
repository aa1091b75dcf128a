import { describe, expect, it } from 'vitest';
import { API_VERSIONS } from '../../src/delivery/api-versions.js';
import { DEFAULT_API_VERSION } from '../../src/delivery/options.js';

describe('API_VERSIONS (the table the CLI doctor and the mock Graph API read)', () => {
  it('starts with the version capi-kit sends by default, and runs newest first', () => {
    // A release that raises DEFAULT_API_VERSION must add the row (and Meta's end date for the
    // version before it), or the doctor and the mock judge versions against an old table.
    expect(API_VERSIONS[0]?.version).toBe(DEFAULT_API_VERSION);
    const majors = API_VERSIONS.map((v) => Number(/^v(\d+)\.0$/.exec(v.version)?.[1]));
    expect(majors.every((m) => Number.isInteger(m))).toBe(true);
    expect([...majors].sort((a, b) => b - a)).toEqual(majors);
    // Every version but the newest has its end date (two years after its successor's release).
    for (const [i, v] of API_VERSIONS.entries()) {
      if (i === 0) continue;
      expect(v.availableUntil, v.version).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    }
  });
});
