import { describe, expect, it } from 'vitest';
import { newEventId } from '../../src/event/event-id.js';
import { flatString } from '../../src/event/flat-string.js';
import { noteHttpUrl } from '../../src/event/urls.js';

describe('flatString', () => {
  it('keeps the content of views, ropes and short strings exactly', () => {
    const header = '_ga=GA1.1.1; _fbc=fb.1.1732000000000.IwAR2F4-dbP0l7Mn1IawQQ; _fbp=fb.1.1.2';
    const view = header.slice(header.indexOf('fb.1.1732'), header.indexOf('; _fbp'));
    expect(flatString(view)).toBe('fb.1.1732000000000.IwAR2F4-dbP0l7Mn1IawQQ');
    const rope = `fb.1.${Date.now()}.${'x'.repeat(40)}`;
    expect(flatString(rope)).toBe(rope);
    for (const short of ['', 'a', 'fb.1.2.3', 'é€😀', '123456789012']) {
      expect(flatString(short)).toBe(short);
    }
    expect(flatString('😀'.repeat(10))).toBe('😀'.repeat(10));
  });
});

describe('newEventId', () => {
  it('returns distinct lowercase UUID v4 strings, across refills of its random pool', () => {
    // 2,000 ids: the pool holds 256, so this crosses seven refills.
    const ids = Array.from({ length: 2000 }, newEventId);
    for (const id of ids) {
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    }
    expect(new Set(ids).size).toBe(2000);
    // Every random position takes every hex digit (a digit missing from one of them over 2,000 ids
    // has a probability of about 16 × (15/16)^2000): no byte is skipped, repeated or half-used.
    for (let at = 0; at < 36; at++) {
      if ([8, 13, 14, 18, 23].includes(at)) continue; // dashes and the version digit
      const seen = new Set(ids.map((id) => id[at]));
      expect(seen.size, `position ${at}`).toBe(at === 19 ? 4 : 16);
    }
  });
});

describe('noteHttpUrl', () => {
  it('returns the URL it was given, the first copy of one it knows, a URL with a query as it came', () => {
    const first = `https://shop.example.com/${'p'.repeat(20)}`;
    expect(noteHttpUrl(first)).toBe(first);
    const again = `https://shop.example.com/${'p'.repeat(20)}`;
    expect(noteHttpUrl(again)).toBe(first);
    const withQuery = 'https://shop.example.com/p?email=someone%40example.com';
    expect(noteHttpUrl(withQuery)).toBe(withQuery);
  });
});
