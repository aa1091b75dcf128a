import { createHash } from 'node:crypto';
import { toTikTokEvent } from '@capi-kit/tiktok';
import { describe, expect, it } from 'vitest';
import { SHA256 } from './vectors.js';

const NOW = Date.UTC(2026, 11, 4, 12, 0, 0);
const now = () => NOW;

describe('toTikTokEvent', () => {
  it('turns a Meta-named purchase into TikTok’s event, with the same event_id', () => {
    const { event, issues } = toTikTokEvent(
      {
        event_name: 'Purchase',
        event_time: 1_764_849_600,
        event_source_url: 'https://shop.example/thanks',
        referrer_url: 'https://shop.example/cart',
        user_data: {
          em: 'Jane@Example.com',
          ph: '+1 650 555 1212',
          external_id: 'User-42',
          client_ip_address: '203.0.113.7',
          client_user_agent: 'Mozilla/5.0',
          fbp: 'fb.1.1700000000000.123',
        },
        custom_data: {
          value: 40,
          currency: 'usd',
          content_type: 'product',
          contents: [{ id: 'sku-1', quantity: 2, item_price: 20 }],
        },
      },
      { eventId: 'evt-1', context: { ttclid: 'E.C.P.click', ttp: 'ttp-1' }, now },
    );
    expect(issues).toEqual([]);
    expect(event).toEqual({
      event: 'Purchase',
      event_time: 1_764_849_600,
      event_id: 'evt-1',
      user: {
        email: SHA256['jane@example.com'],
        phone: SHA256['+16505551212'],
        external_id: SHA256['User-42'],
        ttclid: 'E.C.P.click',
        ttp: 'ttp-1',
        ip: '203.0.113.7',
        user_agent: 'Mozilla/5.0',
      },
      properties: {
        contents: [{ content_id: 'sku-1', quantity: 2, price: 20 }],
        content_type: 'product',
        value: 40,
        currency: 'USD',
      },
      page: { url: 'https://shop.example/thanks', referrer: 'https://shop.example/cart' },
    });
  });

  it('fills event_time from the clock, and reads milliseconds and Dates as seconds', () => {
    const at = (event_time?: number | Date) =>
      toTikTokEvent({ event_name: 'Lead', event_time }, { eventId: 'e', now }).event?.event_time;
    expect(at()).toBe(NOW / 1000);
    expect(at(NOW + 999)).toBe(NOW / 1000);
    expect(at(new Date(NOW))).toBe(NOW / 1000);
    expect(at(1_764_849_600.7)).toBe(1_764_849_600);
  });

  it('maps the name and applies overrides', () => {
    expect(toTikTokEvent({ event_name: 'Lead' }, { eventId: 'e', now }).event?.event).toBe('Lead');
    expect(
      toTikTokEvent(
        { event_name: 'Purchase', custom_data: { value: 1, currency: 'USD' } },
        {
          eventId: 'e',
          now,
          eventNames: { Purchase: 'CompletePayment' },
        },
      ).event?.event,
    ).toBe('CompletePayment');
  });

  it('sets limited_data_use from LDU, and nothing without it', () => {
    const ldu = toTikTokEvent(
      { event_name: 'ViewContent', data_processing_options: ['LDU'] },
      { eventId: 'e', now },
    ).event;
    expect(ldu?.limited_data_use).toBe(true);
    const plain = toTikTokEvent(
      { event_name: 'ViewContent', data_processing_options: [] },
      { eventId: 'e', now },
    ).event;
    expect(plain).toEqual({
      event: 'ViewContent',
      event_time: NOW / 1000,
      event_id: 'e',
      user: {},
    });
  });

  it.each([
    ['a lowercase ldu', ['ldu']],
    ['a string, not a list', 'LDU'],
    ['LDU beside another value', ['LDU', 'CCPA']],
    ['an unknown value', ['GDPR']],
    ['an object', { LDU: true }],
  ])('refuses data_processing_options that are not [] or [LDU] (%s), as Meta does', (_, dpo) => {
    const { event, issues } = toTikTokEvent(
      { event_name: 'ViewContent', data_processing_options: dpo as never },
      { eventId: 'e', now },
    );
    // Sent without limited_data_use, it would be TikTok's copy with less protection than asked.
    expect(event).toBeUndefined();
    expect(issues).toEqual([
      expect.objectContaining({
        path: 'data_processing_options',
        code: 'invalid_data_processing_options',
        severity: 'error',
      }),
    ]);
  });

  it('takes null data_processing_options as none, as Meta does', () => {
    const { event, issues } = toTikTokEvent(
      { event_name: 'ViewContent', data_processing_options: null as never },
      { eventId: 'e', now },
    );
    expect(issues).toEqual([]);
    expect(event?.limited_data_use).toBeUndefined();
  });

  it.each([
    [{ event_name: '' }, 'e', 'event_name:missing_event_name'],
    [{ event_name: 'Lead', event_time: Number.NaN }, 'e', 'event_time:invalid_event_time'],
    [{ event_name: 'Lead', event_time: new Date('nope') }, 'e', 'event_time:invalid_event_time'],
    [
      { event_name: 'Lead', action_source: 'physical_store' as const },
      'e',
      'action_source:tiktok_action_source',
    ],
    [{ event_name: 'Lead' }, '', 'event_id:missing_event_id'],
  ])('gives no event for an error: %j', (input, eventId, expected) => {
    const { event, issues } = toTikTokEvent(input, { eventId, now });
    expect(event).toBeUndefined();
    expect(issues.filter((i) => i.severity === 'error').map((i) => `${i.path}:${i.code}`)).toEqual([
      expected,
    ]);
  });

  it('reads action_source: null as Meta does, as website (the TikTok copy was refused)', () => {
    const { event, issues } = toTikTokEvent(
      { event_name: 'Lead', action_source: null as never },
      { eventId: 'e', now },
    );
    expect(issues).toEqual([]);
    expect(event?.event).toBe('Lead');
  });

  it('keeps the event when only warnings are found', () => {
    const { event, issues } = toTikTokEvent(
      { event_name: 'Contact', user_data: { em: 'broken' }, action_source: 'website' },
      { eventId: 'e', now },
    );
    expect(event?.event).toBe('Contact');
    expect(issues.map((i) => i.severity)).toEqual(['warning']);
  });
});

// What TikTok refuses (and the whole batch with it, the strict mock in @capi-kit/testing agrees)
// is never sent: a field it cannot take is left out with a warning, a time it refuses drops the
// TikTok copy only.
describe('toTikTokEvent: values TikTok would refuse', () => {
  const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
  const codes = (issues: { path: string; code: string }[]) =>
    issues.map((issue) => `${issue.path}:${issue.code}`);

  it('leaves out a currency that is not an ISO 4217 code, keeps a real one uppercased', () => {
    const bad = toTikTokEvent(
      { event_name: 'ViewContent', custom_data: { value: 5, currency: 'dollars' } },
      { eventId: 'e', now },
    );
    expect(bad.event?.properties).toEqual({ value: 5 });
    expect(codes(bad.issues)).toEqual(['custom_data.currency:invalid_currency']);
    const good = toTikTokEvent(
      { event_name: 'ViewContent', custom_data: { value: 5, currency: ' eur ' } },
      { eventId: 'e', now },
    );
    expect(good.event?.properties).toEqual({ value: 5, currency: 'EUR' });
  });

  it.each([
    ['/checkout', 'https://shop.example/cart'],
    ['javascript:alert(1)', undefined],
    ['shop.example/checkout', undefined],
  ])('leaves out a page URL that is not absolute http(s): %s', (url, referrer) => {
    const { event, issues } = toTikTokEvent(
      { event_name: 'ViewContent', event_source_url: url, referrer_url: referrer },
      { eventId: 'e', now },
    );
    expect(event?.page).toBeUndefined();
    expect(codes(issues)).toEqual(['event_source_url:tiktok_page_url']);
  });

  it('keeps the page URL and leaves out a bad referrer', () => {
    const { event, issues } = toTikTokEvent(
      { event_name: 'ViewContent', event_source_url: 'https://shop.example/', referrer_url: 'x' },
      { eventId: 'e', now },
    );
    expect(event?.page).toEqual({ url: 'https://shop.example/' });
    expect(codes(issues)).toEqual(['referrer_url:tiktok_page_url']);
  });

  it('sends page URLs without a query parameter holding an email address, as the Meta copy is sent', () => {
    const { event, issues } = toTikTokEvent(
      {
        event_name: 'CompletePayment',
        event_source_url: 'https://shop.example/thanks?order=7&email=ann.lee%40example.com',
        referrer_url: 'https://shop.example/cart?e=ann.lee@example.com#pay',
      },
      { eventId: 'e', now },
    );
    expect(event?.page).toEqual({
      url: 'https://shop.example/thanks?order=7',
      referrer: 'https://shop.example/cart#pay',
    });
    expect(codes(issues)).toEqual([
      'event_source_url:personal_data_in_url',
      'referrer_url:personal_data_in_url',
    ]);
    expect(JSON.stringify(issues)).not.toMatch(/ann/);
  });

  it('sends page URLs without a user name or password, and says so without the text', () => {
    const { event, issues } = toTikTokEvent(
      {
        event_name: 'ViewContent',
        event_source_url: 'https://ann:s3cret@shop.example/p?q=a@b',
        referrer_url: 'https://bob@ref.example/',
      },
      { eventId: 'e', now },
    );
    expect(event?.page).toEqual({
      url: 'https://shop.example/p?q=a@b',
      referrer: 'https://ref.example/',
    });
    expect(codes(issues)).toEqual([
      'event_source_url:url_credentials_removed',
      'referrer_url:url_credentials_removed',
    ]);
    expect(JSON.stringify(issues)).not.toMatch(/s3cret|ann|bob/);
    // An `@` in the path or query is not a credential: kept as given, nothing reported.
    const plain = toTikTokEvent(
      { event_name: 'ViewContent', event_source_url: 'https://shop.example/u/@ann?to=a@b' },
      { eventId: 'e', now },
    );
    expect(plain.event?.page).toEqual({ url: 'https://shop.example/u/@ann?to=a@b' });
    expect(plain.issues).toEqual([]);
  });

  it.each([
    ['https://shop.example/search?q=red shoes', 'https://shop.example/search?q=red%20shoes'],
    ['https://shop.example/café', 'https://shop.example/caf%C3%A9'],
    ['https://bücher.example/', 'https://xn--bcher-kva.example/'],
    [
      'https://shop.example/a|b^c?f={"x":1}#top`s',
      'https://shop.example/a%7Cb%5Ec?f=%7B%22x%22:1%7D#top%60s',
    ],
    ['https://shop.example/sale/100%?off=50%', 'https://shop.example/sale/100%25?off=50%25'],
    ['https://shop.example/p?q=%E2%82%AC', 'https://shop.example/p?q=%E2%82%AC'],
    ['http://[::1]:8080/a[1]\\b?q=[x]', 'http://[::1]:8080/a%5B1%5D/b?q=%5Bx%5D'],
  ])('sends a page URL with characters a URI may not hold percent-encoded: %s', (given, sent) => {
    // RFC 3986's characters only, each % starting an escape: what TikTok's page.url is parsed as.
    const URI =
      /^https?:\/\/(?:\[[0-9a-f:]+\]|[a-z0-9.-]+)(?::\d+)?(?:[A-Za-z0-9\-._~:/?#@!$&'()*+,;=]|%[0-9A-F]{2})*$/;
    const { event, issues } = toTikTokEvent(
      { event_name: 'ViewContent', event_source_url: given, referrer_url: given },
      { eventId: 'e', now },
    );
    expect(event?.page).toEqual({ url: sent, referrer: sent });
    expect(event?.page?.url).toMatch(URI);
    expect(issues).toEqual([]);
  });

  it('drops an event more than 5 minutes in the future, keeps one within the skew', () => {
    const ahead = (seconds: number) =>
      toTikTokEvent(
        { event_name: 'ViewContent', event_time: NOW / 1000 + seconds },
        { eventId: 'e', now },
      );
    expect(ahead(300).event?.event_time).toBe(NOW / 1000 + 300);
    const future = ahead(301);
    expect(future.event).toBeUndefined();
    expect(codes(future.issues)).toEqual(['event_time:event_time_in_future']);
  });

  it('leaves out a pre-hashed value that is the hash of an empty string', () => {
    const { event, issues } = toTikTokEvent(
      {
        event_name: 'ViewContent',
        user_data: { em: EMPTY_SHA256, ph: EMPTY_SHA256.toUpperCase(), external_id: EMPTY_SHA256 },
      },
      { eventId: 'e', now },
    );
    expect(event?.user).toEqual({});
    expect(codes(issues)).toEqual([
      'user_data.em:hash_of_empty_value',
      'user_data.ph:tiktok_prehashed_phone',
      'user_data.ph:hash_of_empty_value',
      'user_data.external_id:hash_of_empty_value',
    ]);
  });
});

describe('toTikTokEvent: the client’s defaultCountry', () => {
  it('reads a national phone number with it when user_data.country is absent', () => {
    const input = { event_name: 'Lead', user_data: { ph: '(650) 555-1212' } } as const;
    const without = toTikTokEvent(input, { eventId: 'e', now });
    expect(without.event?.user.phone).toBeUndefined();
    expect(without.issues.map((i) => i.code)).toEqual(['tiktok_phone_without_country_code']);
    const withCountry = toTikTokEvent(input, { eventId: 'e', now, defaultCountry: 'US' });
    expect(withCountry.event?.user.phone).toBe(
      createHash('sha256').update('+16505551212').digest('hex'),
    );
    expect(withCountry.issues).toEqual([]);
  });
});
