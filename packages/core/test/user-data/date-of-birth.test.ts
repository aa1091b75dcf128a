import { describe, expect, it } from 'vitest';
import type { Issue } from '../../src/event/issues.js';
import {
  type DateOrder,
  normalizeDateOfBirth,
  normalizeUserData,
} from '../../src/user-data/index.js';

// Meta wants `db` as `YYYYMMDD` before hashing:
// https://developers.facebook.com/documentation/ads-commerce/conversions-api/parameters/customer-information-parameters

const NOW = Date.UTC(2026, 8, 12, 12);
const ORDERS: (DateOrder | undefined)[] = [undefined, 'dmy', 'mdy', 'ymd'];

describe('db: dates written day first (read whatever dateOrder says: only one reading exists)', () => {
  it.each([
    ['UK', '20/05/1990', '19900520'],
    ['UK, no zero padding', '20/5/1990', '19900520'],
    ['France', '31/12/1985', '19851231'],
    ['France, dashes', '31-12-1985', '19851231'],
    ['Germany', '20.05.1990', '19900520'],
    ['Germany, no padding', '1.10.1990', undefined], // both ≤ 12: ambiguous, see below
    ['Germany, leap day', '29.02.2000', '20000229'],
    ['Italy', '13/01/1970', '19700113'],
    ['Spain', '25-07-1992', '19920725'],
    ['Netherlands', '17-03-1988', '19880317'],
    ['Netherlands, dots', '17.3.1988', '19880317'],
    ['Brazil', '15/11/2001', '20011115'],
    ['India', '26-01-1995', '19950126'],
    ['India, dots', '26.01.1995', '19950126'],
  ])('%s: %j → %s', (_locale, raw, normalized) => {
    for (const order of ORDERS.filter((o) => normalized !== undefined || o === undefined)) {
      expect(normalizeDateOfBirth(raw, NOW, order)).toBe(normalized);
    }
  });
});

describe('db: US month first', () => {
  it.each([
    ["Meta's example", '2/16/1997', '19970216'],
    ['padded', '02/16/1997', '19970216'],
    ['dashes', '12-25-1980', '19801225'],
    ['dots', '7.31.1999', '19990731'],
  ])('%s: %j → %s with any dateOrder', (_what, raw, normalized) => {
    for (const order of ORDERS) expect(normalizeDateOfBirth(raw, NOW, order)).toBe(normalized);
  });
});

describe('db: year first (ISO; China, Japan, Korea)', () => {
  it.each([
    ['ISO', '1990-05-20', '19900520'],
    ['ISO with a time part', '1990-05-20T08:00:00+09:00', '19900520'],
    ['ISO, both ≤ 12', '1990-05-06', '19900506'],
    ['China', '1990/05/06', '19900506'],
    ['Japan, no padding', '1990/5/6', '19900506'],
    ['Korea', '1990.05.06', '19900506'],
    ['Korea, no padding', '1990.5.6', '19900506'],
    ['compact', '19900506', '19900506'],
  ])('%s: %j → %s with any dateOrder', (_what, raw, normalized) => {
    for (const order of ORDERS) expect(normalizeDateOfBirth(raw, NOW, order)).toBe(normalized);
  });
});

describe('db: dates that read both ways', () => {
  it.each([
    ['05/06/1990', '19900605', '19900506'],
    ['05-06-1990', '19900605', '19900506'],
    ['05.06.1990', '19900605', '19900506'],
    ['1/2/1970', '19700201', '19700102'],
    ['12/11/2000', '20001112', '20001211'],
  ])(
    '%j: dropped without dateOrder (or with ymd), day first with dmy, month first with mdy',
    (raw, dmy, mdy) => {
      expect(normalizeDateOfBirth(raw, NOW)).toBeUndefined();
      expect(normalizeDateOfBirth(raw, NOW, 'ymd')).toBeUndefined();
      expect(normalizeDateOfBirth(raw, NOW, 'dmy')).toBe(dmy);
      expect(normalizeDateOfBirth(raw, NOW, 'mdy')).toBe(mdy);
    },
  );

  it('reads the same day and month without dateOrder: both readings agree', () => {
    expect(normalizeDateOfBirth('05/05/1990', NOW)).toBe('19900505');
    expect(normalizeDateOfBirth('7.7.1977', NOW)).toBe('19770707');
  });

  it('reads the only real date when one reading is impossible, whatever dateOrder says', () => {
    // 02/29/1992 as day first is month 29; as month first it is a leap day.
    expect(normalizeDateOfBirth('02/29/1992', NOW, 'dmy')).toBe('19920229');
    expect(normalizeDateOfBirth('29/02/1992', NOW, 'mdy')).toBe('19920229');
  });
});

describe('db: rejected', () => {
  it.each([
    ['31/02/1990'], // 31 February, 2 of the 31st month
    ['30.02.1990'],
    ['29/02/1991'], // not a leap year
    ['31/04/1990'], // April has 30 days
    ['13/13/1990'],
    ['00/05/1990'],
    ['20/05/1899'], // before 1900
    ['20/05/2027'], // after the current year
    ['20/05-1990'], // mixed separators
    ['20.05/1990'],
    ['20 05 1990'],
    ['20/05/90'], // two-digit years were never read and are not now
    ['20-05-90'],
    ['1/2/97'],
    ['123/05/1990'],
    ['20/005/1990'],
    ['1990-5-6'], // ISO needs two-digit parts, as before
    ['1990/005/06'],
    ['1990.05'],
    ['20/05/1990/'],
    ['/05/1990'],
    ['20//1990'],
  ])('%j', (raw) => {
    for (const order of ORDERS) expect(normalizeDateOfBirth(raw, NOW, order)).toBeUndefined();
  });
});

describe('db issues in normalizeUserData', () => {
  const run = (db: unknown, dateOrder?: DateOrder) => {
    const issues: Issue[] = [];
    const normalized = normalizeUserData({ db } as Parameters<typeof normalizeUserData>[0], {
      issues,
      now: () => NOW,
      dateOrder,
    });
    return { normalized, issues };
  };

  it('reports an ambiguous date with its own code at user_data.db, without the value', () => {
    const { normalized, issues } = run('05/06/1990');
    expect(normalized.db).toBeUndefined();
    expect(issues).toEqual([
      {
        path: 'user_data.db',
        code: 'ambiguous_date_of_birth',
        message: expect.stringContaining('dateOrder'),
        severity: 'warning',
      },
    ]);
    expect(JSON.stringify(issues)).not.toMatch(/05|06|1990/);
  });

  it('names the list index of an ambiguous date and keeps the readable ones', () => {
    const { normalized, issues } = run(['20/05/1990', '05/06/1990']);
    expect(normalized.db).toEqual(['19900520']);
    expect(issues.map((i) => [i.path, i.code])).toEqual([
      ['user_data.db[1]', 'ambiguous_date_of_birth'],
    ]);
  });

  it('reads ambiguous dates by dateOrder and reports nothing', () => {
    expect(run('05/06/1990', 'dmy')).toEqual({ normalized: { db: ['19900605'] }, issues: [] });
    expect(run('05/06/1990', 'mdy')).toEqual({ normalized: { db: ['19900506'] }, issues: [] });
  });

  it('reports an impossible date as invalid, not ambiguous', () => {
    expect(run('31/02/1990').issues.map((i) => [i.path, i.code])).toEqual([
      ['user_data.db', 'invalid_date_of_birth'],
    ]);
  });

  it('ignores an unknown dateOrder with a warning and does not guess', () => {
    const { normalized, issues } = run('05/06/1990', 'dym' as DateOrder);
    expect(normalized.db).toBeUndefined();
    expect(issues.map((i) => [i.path, i.code])).toEqual([
      ['dateOrder', 'invalid_date_order'],
      ['user_data.db', 'ambiguous_date_of_birth'],
    ]);
  });
});
