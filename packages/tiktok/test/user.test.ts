import { hashUserData } from '@capi-kit/core';
import { normalizeTikTokUser } from '@capi-kit/tiktok';
import { describe, expect, it } from 'vitest';
import { SHA256 } from './vectors.js';

const codes = (issues: readonly { code: string; path: string }[]) =>
  issues.map((i) => `${i.path}:${i.code}`);

describe('normalizeTikTokUser', () => {
  it('hashes email (trimmed, lowercased) and external_id (trimmed, case kept)', () => {
    const { user, issues } = normalizeTikTokUser({
      em: '  Jane@Example.COM ',
      external_id: ' User-42 ',
    });
    expect(user).toEqual({ email: SHA256['jane@example.com'], external_id: SHA256['User-42'] });
    expect(issues).toEqual([]);
  });

  it("hashes the phone in E.164 with '+', not Meta's digits-only form", () => {
    const { user } = normalizeTikTokUser({ ph: '+1 (650) 555-1212' });
    expect(user.phone).toBe(SHA256['+16505551212']);
    expect(user.phone).not.toBe(SHA256['16505551212']);
  });

  it.each([
    ['(650) 555-1212', 'us', '+16505551212'],
    ['(650) 555-1212', 'United States', '+16505551212'],
    ['+44 (0)7911 123456', undefined, '+447911123456'],
    ['07911 123456', 'GB', '+447911123456'],
    ['0049 151 23456789', undefined, '+4915123456789'],
  ] as const)('%s (country %s) → sha256(%s)', (ph, country, e164) => {
    const { user, issues } = normalizeTikTokUser({ ph, country });
    expect(user.phone).toBe(SHA256[e164]);
    expect(issues).toEqual([]);
  });

  it('reads a national number with the first usable country, as the core does for Meta', () => {
    // The first value alone was read: an empty or unknown first country lost the phone for TikTok.
    for (const country of [
      ['', 'us'],
      ['nowhere', 'US'],
      [SHA256.us, 'us'],
    ]) {
      const input = { ph: '(650) 555-1212', country };
      expect(hashUserData(input).ph).toEqual([SHA256['16505551212']]);
      expect(normalizeTikTokUser(input).user.phone).toBe(SHA256['+16505551212']);
    }
  });

  it('does not send a national number whose country is unknown', () => {
    const { user, issues } = normalizeTikTokUser({ ph: '6505551212' });
    expect(user.phone).toBeUndefined();
    expect(codes(issues)).toEqual(['user_data.ph:tiktok_phone_without_country_code']);
  });

  it('passes pre-hashed values, lowercased and without a Parameter Builder appendix', () => {
    const upper = SHA256['jane@example.com'].toUpperCase();
    const { user, issues } = normalizeTikTokUser({
      em: `${upper}.AQYBAQIA`,
      external_id: SHA256['User-42'],
      ph: SHA256['+16505551212'],
    });
    expect(user).toEqual({
      email: SHA256['jane@example.com'],
      external_id: SHA256['User-42'],
      phone: SHA256['+16505551212'],
    });
    // The phone's hash form cannot be checked, so it is flagged.
    expect(codes(issues)).toEqual(['user_data.ph:tiktok_prehashed_phone']);
  });

  it('sends the first usable of several values and reports the rest', () => {
    const { user, issues } = normalizeTikTokUser({
      em: ['not-an-email', 'jane@example.com', 'second@example.com'],
    });
    expect(user.email).toBe(SHA256['jane@example.com']);
    expect(codes(issues)).toEqual([
      'user_data.em[0]:invalid_email',
      'user_data.em[2]:tiktok_one_value',
    ]);
  });

  it('does not report the same value given again, raw or hashed', () => {
    const { user, issues } = normalizeTikTokUser({
      em: ['Jane@Example.com', ' jane@example.com', SHA256['jane@example.com'] as string],
    });
    expect(user.email).toBe(SHA256['jane@example.com']);
    expect(issues).toEqual([]);
  });

  it('reports unusable values by path and rule, never by value', () => {
    const { user, issues } = normalizeTikTokUser({
      em: 'secret-value',
      ph: 'call me',
      client_ip_address: '999.1.1.1',
      external_id: '   ',
    });
    expect(user).toEqual({});
    expect(codes(issues)).toEqual([
      'user_data.em:invalid_email',
      'user_data.ph:invalid_phone',
      'user_data.client_ip_address:invalid_ip',
    ]);
    expect(JSON.stringify(issues)).not.toContain('secret-value');
    expect(JSON.stringify(issues)).not.toContain('call me');
  });

  it('adds ip, user agent, ttclid and ttp raw', () => {
    const { user } = normalizeTikTokUser(
      { client_ip_address: ' 2001:db8::1 ', client_user_agent: 'Mozilla/5.0 (X11)' },
      { ttclid: 'E.C.P.x', ttp: 'abc' },
    );
    expect(user).toEqual({
      ip: '2001:db8::1',
      user_agent: 'Mozilla/5.0 (X11)',
      ttclid: 'E.C.P.x',
      ttp: 'abc',
    });
  });

  it("sends the bare IP of Meta's Parameter Builder output (`<ip>.<appendix>`)", () => {
    const ip = (client_ip_address: string) => normalizeTikTokUser({ client_ip_address }).user.ip;
    expect(ip('203.0.113.7.AQYBAQIA')).toBe('203.0.113.7');
    expect(ip('203.0.113.7.Zk')).toBe('203.0.113.7');
    expect(ip('2001:db8::1.AQYBAQIA')).toBe('2001:db8::1');
    expect(ip('::ffff:203.0.113.7.AQYBAQIA')).toBe('::ffff:203.0.113.7');
    // A bare address keeps every octet, whatever its last one looks like.
    expect(ip('10.20.30.40')).toBe('10.20.30.40');
    expect(ip('::ffff:10.20.30.40')).toBe('::ffff:10.20.30.40');
    expect(ip('1.2.3.4.5')).toBeUndefined();
  });

  it('reads numbers as the core reads them for Meta (IDs and phones from a database or JSON)', () => {
    const { user, issues } = normalizeTikTokUser({
      external_id: 12345 as never,
      ph: 6505551212 as never,
      country: 'US',
    });
    expect(user).toEqual({ external_id: SHA256['12345'], phone: SHA256['+16505551212'] });
    expect(issues).toEqual([]);
    expect(normalizeTikTokUser({ external_id: [12345n, 'second'] as never }).user).toEqual({
      external_id: SHA256['12345'],
    });
  });

  it('reports a value of another type instead of leaving it out unsaid', () => {
    const { user, issues } = normalizeTikTokUser({
      em: [{ address: 'jane@example.com' }, 'jane@example.com'] as never,
      external_id: true as never,
      ph: Number.NaN as never,
    });
    expect(user).toEqual({ email: SHA256['jane@example.com'] });
    expect(codes(issues)).toEqual([
      'user_data.em[0]:invalid_type',
      'user_data.ph:invalid_type',
      'user_data.external_id:invalid_type',
    ]);
  });

  it('leaves out Meta-only keys (names, city, fbp, fbc…)', () => {
    const { user, issues } = normalizeTikTokUser({
      fn: 'Jane',
      ln: 'Doe',
      ct: 'Paris',
      fbp: 'fb.1.1.1',
      zp: '75001',
    });
    expect(user).toEqual({});
    expect(issues).toEqual([]);
  });

  it('reports a user_data that is not an object, keeping the request context', () => {
    // An email given as the whole user_data was sent as an empty user without a word.
    for (const userData of ['jane@example.com', ['jane@example.com']]) {
      const { user, issues } = normalizeTikTokUser(userData as never, { ttclid: 'E.C.P.x' });
      expect(user).toEqual({ ttclid: 'E.C.P.x' });
      expect(codes(issues)).toEqual(['user_data:invalid_user_data']);
    }
  });

  it('takes undefined and null values', () => {
    expect(normalizeTikTokUser(undefined)).toEqual({ user: {}, issues: [] });
    expect(normalizeTikTokUser({ em: null, ph: undefined })).toEqual({ user: {}, issues: [] });
  });
});
