import { describe, expect, it } from 'vitest';
import { sha256Hex } from '#platform';
import type { Issue } from '../../src/event/index.js';
import {
  HASHED_USER_DATA_KEYS,
  hashUserData,
  isUserDataTooBroad,
  normalizeUserData,
  PLAIN_USER_DATA_KEYS,
  type UserDataInput,
} from '../../src/user-data/index.js';

const NOW = Date.UTC(2026, 8, 12);
const EMAIL_HASH = '62a14e44f765419d10fea99367361a727c12365e2520f32218d505ed9aa0f62f';
const UA = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) AppleWebKit/605.1.15 Safari/605.1.15';
const FBC = 'fb.1.1554763741205.IwAR2F4-dbP0l7Mn1IawQQGCINEz7PYXQvwjNwB_qa2ofrHyiLjcbCRxTDMgk';
const FBP = 'fb.1.1596403881668.1116446470';

function run(input: UserDataInput, options: { defaultCountry?: string; path?: string } = {}) {
  const issues: Issue[] = [];
  const normalized = normalizeUserData(input, { ...options, issues, now: () => NOW });
  return { normalized, issues };
}

describe('normalizeUserData', () => {
  it('normalizes every hashed key into a list, in wire order', () => {
    const { normalized, issues } = run({
      country: 'United States',
      external_id: ' Cust-42 ',
      zp: '94025-1234',
      st: 'California',
      ct: 'Menlo Park',
      ge: 'Female',
      db: '1997-02-16',
      ln: 'Smith',
      fn: 'Mary',
      ph: '(650) 555-1212',
      em: 'Mary@Example.com',
    });
    expect(issues).toEqual([]);
    expect(normalized).toEqual({
      em: ['mary@example.com'],
      ph: ['16505551212'],
      fn: ['mary'],
      ln: ['smith'],
      db: ['19970216'],
      ge: ['f'],
      ct: ['menlopark'],
      st: ['ca'],
      zp: ['94025'],
      country: ['us'],
      external_id: ['Cust-42'],
    });
    expect(Object.keys(normalized)).toEqual(HASHED_USER_DATA_KEYS.filter((k) => k in normalized));
  });

  it('accepts arrays and de-duplicates after normalization, keeping first-seen order', () => {
    const { normalized } = run({
      em: ['B@example.com', 'a@example.com', ' b@EXAMPLE.com', 'a@example.com'],
    });
    expect(normalized.em).toEqual(['b@example.com', 'a@example.com']);
  });

  it('reads national phone numbers with user_data.country, else defaultCountry', () => {
    expect(run({ ph: '07911 123456', country: 'GB' }).normalized.ph).toEqual(['447911123456']);
    expect(run({ ph: '07911 123456' }, { defaultCountry: 'gb' }).normalized.ph).toEqual([
      '447911123456',
    ]);
    // The event's own country wins over the default.
    expect(
      run({ ph: '(650) 555-1212', country: 'us' }, { defaultCountry: 'gb' }).normalized.ph,
    ).toEqual(['16505551212']);
    expect(run({ ph: '06 12 34 56 78' }, { defaultCountry: 'France' }).normalized.ph).toEqual([
      '33612345678',
    ]);
  });

  it('warns when a national phone number has no known country', () => {
    const { normalized, issues } = run({ ph: '(650) 555-1212' });
    expect(normalized.ph).toEqual(['6505551212']);
    expect(issues).toEqual([
      expect.objectContaining({
        path: 'user_data.ph',
        code: 'phone_without_country_code',
        severity: 'warning',
      }),
    ]);
  });

  it('reports an invalid defaultCountry and ignores it', () => {
    const { normalized, issues } = run({ ph: '+1 650 555 1212' }, { defaultCountry: 'Atlantis' });
    expect(normalized.ph).toEqual(['16505551212']);
    expect(issues.map((i) => i.code)).toEqual(['invalid_default_country']);
  });

  it('uses the country for ZIP and state rules', () => {
    expect(run({ zp: '940251234', country: 'us' }).normalized.zp).toEqual(['94025']);
    expect(run({ zp: '940251234', country: 'de' }).normalized.zp).toEqual(['940251234']);
    expect(run({ st: 'Georgia', country: 'us' }).normalized.st).toEqual(['ga']);
    expect(run({ st: 'Georgia', country: 'Georgia' }).normalized.st).toEqual(['georgia']);
  });

  it('passes already-hashed values through: hex lowercased, appendix untouched', () => {
    const { normalized } = run({
      em: [EMAIL_HASH.toUpperCase(), `${EMAIL_HASH}.AQQAAQIB`],
      external_id: `  ${EMAIL_HASH}  `,
    });
    expect(normalized.em).toEqual([EMAIL_HASH, `${EMAIL_HASH}.AQQAAQIB`]);
    expect(normalized.external_id).toEqual([EMAIL_HASH]);
  });

  it('drops the SHA-256 of an empty string (a missing value hashed upstream), with a warning', () => {
    const empty = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
    const { normalized, issues } = run({
      em: [empty.toUpperCase(), EMAIL_HASH],
      ph: `${empty}.AQQAAQIB`,
      external_id: empty,
    });
    expect(normalized).toEqual({ em: [EMAIL_HASH] });
    expect(issues.map((i) => [i.path, i.code, i.severity])).toEqual([
      ['user_data.em[0]', 'hash_of_empty_value', 'warning'],
      ['user_data.ph', 'hash_of_empty_value', 'warning'],
      ['user_data.external_id', 'hash_of_empty_value', 'warning'],
    ]);
  });

  it('drops invalid values with a warning per value and keeps the valid ones', () => {
    const { normalized, issues } = run({
      em: ['not-an-email', 'ok@example.com'],
      ph: 'call me',
      ge: 'x',
      db: '1997-02-30',
      country: 'Atlantis',
      fn: '---',
    });
    expect(normalized).toEqual({ em: ['ok@example.com'] });
    expect(issues.map((i) => [i.path, i.code, i.severity])).toEqual([
      ['user_data.country', 'invalid_country', 'warning'],
      ['user_data.em[0]', 'invalid_email', 'warning'],
      ['user_data.ph', 'invalid_phone', 'warning'],
      ['user_data.fn', 'invalid_name', 'warning'],
      ['user_data.db', 'invalid_date_of_birth', 'warning'],
      ['user_data.ge', 'invalid_gender', 'warning'],
    ]);
  });

  it('skips empty, null and undefined values silently', () => {
    const { normalized, issues } = run({
      em: '',
      ph: '   ',
      fn: null,
      ln: undefined,
      ct: [],
      client_ip_address: '',
      fbp: null,
    });
    expect(normalized).toEqual({});
    expect(issues).toEqual([]);
  });

  it('accepts Date objects for db, alone or in a list', () => {
    const { normalized } = run({ db: [new Date('1997-02-16'), '2/16/1997', new Date(1990, 0, 5)] });
    expect(normalized.db).toEqual(['19970216', '19900105']);
  });

  it('drops a user agent that was hashed upstream, reporting it without the value', () => {
    const hashed = sha256Hex(UA);
    for (const value of [hashed, hashed.toUpperCase(), ` ${hashed}.AQQAAQIB `]) {
      const { normalized, issues } = run({ em: 'a@example.com', client_user_agent: value });
      expect(normalized.client_user_agent).toBeUndefined();
      expect(issues.map((i) => [i.path, i.code, i.severity])).toEqual([
        ['user_data.client_user_agent', 'hashed_client_user_agent', 'warning'],
      ]);
      expect(JSON.stringify(issues)).not.toContain(hashed);
    }
  });

  it('takes numbers where IDs and ZIP codes are expected', () => {
    const input = { zp: 94025, external_id: 42, page_id: 123 } as unknown as UserDataInput;
    expect(run(input).normalized).toEqual({ zp: ['94025'], external_id: ['42'], page_id: '123' });
  });

  it('gives a US ZIP code read as a number back the leading zeros it lost', () => {
    const input = { zp: [2134, 601], country: 'United States' } as unknown as UserDataInput;
    expect(run(input).normalized.zp).toEqual(['02134', '00601']);
  });

  it('reports values of the wrong type', () => {
    const input = {
      em: { address: 'x' },
      fn: [true],
      client_user_agent: ['a'],
    } as unknown as UserDataInput;
    const { normalized, issues } = run(input);
    expect(normalized).toEqual({});
    expect(issues.map((i) => [i.path, i.code])).toEqual([
      ['user_data.em', 'invalid_type'],
      ['user_data.fn[0]', 'invalid_type'],
      ['user_data.client_user_agent', 'invalid_type'],
    ]);
  });

  it('reports and drops unknown keys', () => {
    const input = { email: 'a@example.com', em: 'a@example.com' } as unknown as UserDataInput;
    const { normalized, issues } = run(input);
    expect(normalized).toEqual({ em: ['a@example.com'] });
    expect(issues).toEqual([
      expect.objectContaining({ path: 'user_data.email', code: 'unknown_user_data_key' }),
    ]);
  });

  it('reports a user_data that is not an object as an error', () => {
    for (const bad of [null, 'a@example.com', ['a@example.com'], 42]) {
      const { normalized, issues } = run(bad as unknown as UserDataInput);
      expect(normalized).toEqual({});
      expect(issues).toEqual([
        expect.objectContaining({
          path: 'user_data',
          code: 'invalid_user_data',
          severity: 'error',
        }),
      ]);
    }
  });

  it('prefixes issue paths with options.path', () => {
    const { issues } = run({ em: 'nope' }, { path: 'events[3].user_data' });
    expect(issues[0]?.path).toBe('events[3].user_data.em');
  });

  it('works without an issues array', () => {
    expect(normalizeUserData({ em: 'nope', ph: 'nope' })).toEqual({});
  });

  it('never mutates its input', () => {
    const input = Object.freeze({
      em: Object.freeze(['A@example.com', 'a@example.com']),
      ph: '+1 650 555 1212',
      db: new Date('1997-02-16'),
    });
    const copy = structuredClone(input);
    normalizeUserData(input);
    hashUserData(input);
    expect(input).toEqual(copy);
  });
});

describe('unhashed keys', () => {
  it('passes them through trimmed, in wire order', () => {
    const { normalized, issues } = run({
      ig_sid: ' igsid ',
      ig_account_id: 'igacc',
      ctwa_clid: 'ctwa',
      page_scoped_user_id: 'psid',
      page_id: 'page',
      madid: 'madid',
      anon_id: 'anon',
      lead_id: '1234567890',
      fb_login_id: 987654321,
      subscription_id: 'sub',
      fbp: ` ${FBP} `,
      fbc: FBC,
      client_user_agent: ` ${UA} `,
      client_ip_address: ' 2001:db8::1 ',
    });
    expect(issues).toEqual([]);
    expect(normalized).toEqual({
      client_ip_address: '2001:db8::1',
      client_user_agent: UA,
      fbc: FBC,
      fbp: FBP,
      subscription_id: 'sub',
      fb_login_id: 987654321,
      lead_id: '1234567890',
      anon_id: 'anon',
      madid: 'madid',
      page_id: 'page',
      page_scoped_user_id: 'psid',
      ctwa_clid: 'ctwa',
      ig_account_id: 'igacc',
      ig_sid: 'igsid',
    });
    expect(Object.keys(normalized)).toEqual([...PLAIN_USER_DATA_KEYS]);
  });

  it('never lowercases or hashes fbc (the fbclid is case-sensitive)', () => {
    expect(hashUserData({ fbc: FBC }).fbc).toBe(FBC);
  });

  it.each([
    ['client_ip_address', '999.1.1.1', 'invalid_client_ip_address'],
    ['client_ip_address', 'unknown', 'invalid_client_ip_address'],
    ['fbc', 'IwAR2F4-dbP0l7Mn1IawQQGCINEz7PYXQvwjNwB', 'invalid_fbc'],
    ['fbp', 'fb.1.abc', 'invalid_fbp'],
    ['fb_login_id', 'abc', 'invalid_fb_login_id'],
    ['fb_login_id', 1.5, 'invalid_fb_login_id'],
    ['lead_id', -1, 'invalid_lead_id'],
  ] as const)('drops an invalid %s with %s', (key, value, code) => {
    const { normalized, issues } = run({ [key]: value } as UserDataInput);
    expect(normalized).toEqual({});
    expect(issues).toEqual([
      expect.objectContaining({ path: `user_data.${key}`, code, severity: 'warning' }),
    ]);
  });
});

describe('hashUserData', () => {
  it('hashes the normalized value of every hashed key and leaves the rest plain', () => {
    const out = hashUserData(
      { em: 'Mary@Example.com', ph: '+1 650 555 1212', client_user_agent: UA, fbp: FBP },
      { now: () => NOW },
    );
    expect(out).toEqual({
      em: [sha256Hex('mary@example.com')],
      ph: [sha256Hex('16505551212')],
      client_user_agent: UA,
      fbp: FBP,
    });
  });

  it('does not hash already-hashed values twice, and de-duplicates a value given raw and hashed', () => {
    const out = hashUserData({
      em: ['John_Smith@gmail.com', EMAIL_HASH.toUpperCase(), `${EMAIL_HASH}.AQQAAQIB`],
    });
    expect(out.em).toEqual([EMAIL_HASH, `${EMAIL_HASH}.AQQAAQIB`]);
  });

  it('keeps external_id case before hashing', () => {
    const out = hashUserData({ external_id: ['ABC', 'abc'] });
    expect(out.external_id).toEqual([sha256Hex('ABC'), sha256Hex('abc')]);
  });

  it('de-duplicates a long list in time proportional to it, not to its length squared', () => {
    // Each distinct value was checked against every value kept before it: 60 000 short IDs took
    // 8 s of one thread. Server code may pass lists that long (a relay no longer can: it takes
    // 10 values a key from a page). No timing asserted (speed is the benches'): the old scan
    // made this one call take seconds, past the test's own timeout.
    const ids = Array.from({ length: 60_000 }, (_, i) => `u${i}`);
    expect(hashUserData({ external_id: [...ids, 'u0'] }).external_id).toHaveLength(60_000);
  });

  it('hashes what normalizeUserData returns to the same result', () => {
    const input: UserDataInput = {
      em: 'Mary@Example.com',
      fn: 'Valéry',
      ct: 'São Paulo',
      country: 'Brazil',
      db: new Date('1997-02-16'),
      ph: '(11) 91234-5678',
    };
    const once = hashUserData(input, { now: () => NOW });
    const viaNormalized = hashUserData(normalizeUserData(input, { now: () => NOW }), {
      now: () => NOW,
    });
    expect(viaNormalized).toEqual(once);
  });
});

describe('isUserDataTooBroad', () => {
  it.each([
    [['ct', 'country', 'st', 'zp', 'ge', 'client_user_agent'], true],
    [['country'], true],
    [['client_user_agent'], true],
    [['zp', 'ge'], true],
    [['db', 'client_user_agent'], true],
    [['db'], true],
    [['fn', 'ge'], true],
    [['ln'], true],
    [['fn', 'ln'], false],
    [['db', 'ge'], false],
    [['db', 'zp'], false],
    [['em'], false],
    [['client_ip_address', 'client_user_agent'], false],
    [['fbp', 'client_user_agent'], false],
    [['ct', 'country', 'st', 'zp', 'ge', 'client_user_agent', 'fn'], false],
    [[], false],
  ])('%j → %s', (keys, tooBroad) => {
    const userData = Object.fromEntries(keys.map((k) => [k, ['x']]));
    expect(isUserDataTooBroad(userData)).toBe(tooBroad);
  });
});
