// @ts-check
// What the contract suite cannot see from outside: the clean objects the readers return, and the
// start line. The answers to bad requests are checked in every example by examples/contract.
import { describe, expect, it } from 'vitest';
import { missingEnvMessage, purchaseEventId, readLead, readPurchase } from '../src/index.js';

const json = 'application/json; charset=utf-8';

describe('readLead / readPurchase', () => {
  it('return only the contract fields, so nothing else reaches user_data or custom_data', () => {
    expect(
      readLead({ contentType: json, body: { email: 'a@example.com', phone: null, ip: '1.2.3.4' } }),
    ).toEqual({ lead: { email: 'a@example.com' } });
    expect(
      readPurchase({
        contentType: json,
        body: {
          email: 'b@example.com',
          value: 0,
          currency: 'eur',
          order_id: 'ORD-1',
          coupon: 'X',
          contents: [{ id: 'sku-1', quantity: 2, note: 'gift' }],
        },
      }),
    ).toEqual({
      purchase: {
        email: 'b@example.com',
        value: 0,
        currency: 'eur',
        order_id: 'ORD-1',
        contents: [{ id: 'sku-1', quantity: 2 }],
      },
    });
  });

  it('check the content type before the body', () => {
    expect(readLead({ contentType: 'text/plain', body: { email: 'a@example.com' } })).toEqual({
      rejection: { status: 415, body: { error: 'Content-Type must be application/json' } },
    });
    expect(readLead({ contentType: 'Application/JSON', body: { email: 'a@example.com' } })).toEqual(
      { lead: { email: 'a@example.com' } },
    );
  });

  it('derive the purchase event ID from the order ID alone', () => {
    expect(purchaseEventId('ORD-1001')).toBe('purchase-ORD-1001');
  });
});

describe('missingEnvMessage', () => {
  it('is one line naming each missing variable and the mock, or undefined', () => {
    expect(missingEnvMessage({ META_PIXEL_ID: '1', META_ACCESS_TOKEN: 't' }, 'Express')).toBe(
      undefined,
    );
    const message = missingEnvMessage({ META_PIXEL_ID: ' ' }, 'Express') ?? '';
    expect(message).toMatch(
      /^capi-kit Express example: META_PIXEL_ID and META_ACCESS_TOKEN are not set\. /,
    );
    expect(message).toContain('npx capi-kit-mock');
    expect(message).not.toContain('\n');
  });
});
