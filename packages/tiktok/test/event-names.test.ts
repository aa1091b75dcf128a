import { STANDARD_EVENTS } from '@capi-kit/core';
import { TIKTOK_EVENT_NAMES, tiktokEventName, toTikTokEvent } from '@capi-kit/tiktok';
import { describe, expect, it } from 'vitest';

describe('tiktokEventName', () => {
  it('has an entry for every Meta standard event, and no other', () => {
    expect(Object.keys(TIKTOK_EVENT_NAMES).sort()).toEqual([...STANDARD_EVENTS].sort());
  });

  it.each([
    ['Purchase', 'Purchase'],
    ['Lead', 'Lead'],
    ['AddToCart', 'AddToCart'],
    ['ViewContent', 'ViewContent'],
    ['InitiateCheckout', 'InitiateCheckout'],
    ['CompleteRegistration', 'CompleteRegistration'],
    ['Donate', 'Donate'],
    ['PageView', 'PageView'],
  ])('maps %s to %s', (meta, tiktok) => {
    expect(tiktokEventName(meta)).toBe(tiktok);
  });

  it('passes unknown names as custom events, unchanged (case included)', () => {
    expect(tiktokEventName('NewsletterSignup')).toBe('NewsletterSignup');
    expect(tiktokEventName('purchase')).toBe('purchase');
    expect(tiktokEventName('toString')).toBe('toString');
    expect(tiktokEventName('__proto__')).toBe('__proto__');
  });

  it('lets overrides win, ignoring empty ones', () => {
    expect(tiktokEventName('Purchase', { Purchase: 'CompletePayment' })).toBe('CompletePayment');
    expect(tiktokEventName('Lead', { Lead: '' })).toBe('Lead');
    expect(tiktokEventName('MyEvent', { MyEvent: 'Contact' })).toBe('Contact');
  });

  it('never gives a blank or padded name: an override of white space keeps the table’s name', () => {
    // toTikTokEvent, a building block used without tiktok()'s configuration check, sent ' ' as the
    // event's name, which TikTok refuses with the whole batch ([BATCH]).
    expect(tiktokEventName('Purchase', { Purchase: ' ' })).toBe('Purchase');
    expect(tiktokEventName('Lead', { Lead: '\n\t' })).toBe('Lead');
    expect(tiktokEventName('Purchase', { Purchase: ' CompletePayment\n' })).toBe('CompletePayment');
    const { event } = toTikTokEvent(
      { event_name: 'Purchase', custom_data: { value: 1, currency: 'USD' } },
      { eventId: 'e', eventNames: { Purchase: ' ' } },
    );
    expect(event?.event).toBe('Purchase');
  });

  it('takes null overrides as none (it threw)', () => {
    expect(tiktokEventName('Lead', null as never)).toBe('Lead');
  });

  it('is frozen', () => {
    expect(Object.isFrozen(TIKTOK_EVENT_NAMES)).toBe(true);
  });
});
