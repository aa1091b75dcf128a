import { describe, expect, it } from 'vitest';
import { API_VERSIONS, checkApiVersion } from '../src/index.js';

const day = (iso: string) => Date.parse(`${iso}T12:00:00Z`);

describe('checkApiVersion', () => {
  it('knows the versions in capi.md §1, newest first', () => {
    expect(API_VERSIONS.map((v) => v.version)).toEqual([
      'v26.0',
      'v25.0',
      'v24.0',
      'v23.0',
      'v22.0',
      'v21.0',
      'v20.0',
    ]);
  });

  it('is fine without an announced end, and far from the end', () => {
    expect(checkApiVersion('v26.0', day('2026-11-28')).status).toBe('ok');
    expect(checkApiVersion('v25.0', day('2026-11-28'))).toMatchObject({
      status: 'ok',
      daysLeft: 609,
    });
  });

  it('warns under 90 days and fails past the end', () => {
    expect(checkApiVersion('v21.0', day('2026-11-28'))).toMatchObject({
      status: 'warn',
      daysLeft: 54,
    });
    expect(checkApiVersion('v21.0', day('2026-10-23'))).toMatchObject({
      status: 'ok',
      daysLeft: 90,
    });
    expect(checkApiVersion('v20.0', day('2026-11-28'))).toMatchObject({ status: 'fail' });
    expect(checkApiVersion('v20.0', day('2026-11-28')).message).toContain('use v26.0');
  });

  it('fails versions older than the table and warns about unknown ones', () => {
    expect(checkApiVersion('v17.0', day('2026-11-28')).status).toBe('fail');
    expect(checkApiVersion('v27.0', day('2026-11-28')).status).toBe('warn');
  });
});
