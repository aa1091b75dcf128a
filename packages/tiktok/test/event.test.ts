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
    expect(toTikTokEvent({ event_name: 'Lead' }, { eventId: 'e', now }).event?.event).toBe(
      'SubmitForm',
    );
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

  it('keeps the event when only warnings are found', () => {
    const { event, issues } = toTikTokEvent(
      { event_name: 'Contact', user_data: { em: 'broken' }, action_source: 'website' },
      { eventId: 'e', now },
    );
    expect(event?.event).toBe('Contact');
    expect(issues.map((i) => i.severity)).toEqual(['warning']);
  });
});
