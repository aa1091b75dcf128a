// @ts-check
// What the contract suite cannot see from outside: the clean objects the readers return, the
// start line, and the body rules' edge cases (header spellings, depth, a body that never ends).
// The answers to bad requests are checked in every example by examples/contract.
import { describe, expect, it } from 'vitest';
import {
  BODY_LIMIT_BYTES,
  BODY_TOO_LARGE,
  bodyParserRejection,
  contentTypeRejection,
  missingEnvMessage,
  NOT_A_JSON_OBJECT,
  PROTOTYPE_KEY,
  parseJsonBody,
  purchaseEventId,
  RefusedJsonError,
  readJsonRequest,
  readLead,
  readPurchase,
  UNSUPPORTED_CHARSET,
  UNSUPPORTED_CONTENT_TYPE,
} from '../src/index.js';

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

describe('contentTypeRejection', () => {
  it('takes application/json with no charset or UTF-8, refuses other types and charsets', () => {
    for (const accepted of [
      'application/json',
      'Application/JSON',
      'application/json; charset=utf-8',
      'application/json;charset="UTF-8"',
      'application/json ; foo=bar ; charset=Utf-8',
    ]) {
      expect(contentTypeRejection(accepted)).toBe(undefined);
    }
    for (const otherType of [undefined, null, '', 'text/plain', 'application/jsonp', 'json']) {
      expect(contentTypeRejection(otherType)).toBe(UNSUPPORTED_CONTENT_TYPE);
    }
    for (const otherCharset of ['latin1', 'utf-16', 'utf8', 'UTF-16LE', '""', 'us-ascii']) {
      expect(contentTypeRejection(`application/json; charset=${otherCharset}`)).toBe(
        UNSUPPORTED_CHARSET,
      );
    }
  });
});

describe('parseJsonBody', () => {
  it('refuses an empty or broken body, and prototype-poisoning keys at any depth', () => {
    expect(parseJsonBody('{"a":[1,{"b":null}]}')).toEqual({ a: [1, { b: null }] });
    // A "constructor" that is a string or has no own "prototype" is an ordinary key.
    expect(parseJsonBody('{"constructor":"x","c":{"constructor":{"p":1}}}')).toEqual({
      constructor: 'x',
      c: { constructor: { p: 1 } },
    });
    for (const broken of ['', ' ', '{"a":', 'undefined']) {
      expect(() => parseJsonBody(broken)).toThrow(RefusedJsonError);
      expect(bodyParserRejection(catchError(() => parseJsonBody(broken)))).toBe(NOT_A_JSON_OBJECT);
    }
    for (const poisoned of [
      '{"__proto__":{"x":1}}',
      '[{"a":{"__proto__":null}}]',
      '{"contents":[{"constructor":{"prototype":{"x":1}}}]}',
    ]) {
      expect(bodyParserRejection(catchError(() => parseJsonBody(poisoned)))).toBe(PROTOTYPE_KEY);
    }
  });
});

describe('readJsonRequest', () => {
  /** @param {BodyInit} body @param {string} [contentType] */
  const request = (body, contentType = 'application/json') =>
    new Request('http://127.0.0.1/lead', {
      method: 'POST',
      headers: { 'content-type': contentType },
      body,
      // @ts-expect-error undici's RequestInit knows duplex, lib.dom's does not
      duplex: 'half',
    });
  /** @param {number} size */
  const stream = (size) => new Blob([`{"a":"${'x'.repeat(size - 8)}"}`]).stream();

  it('reads at most 100 KB, streamed or not, and nothing of another type or charset', async () => {
    expect(await readJsonRequest(request(stream(BODY_LIMIT_BYTES)))).toEqual({
      body: { a: 'x'.repeat(BODY_LIMIT_BYTES - 8) },
    });
    expect(await readJsonRequest(request(stream(BODY_LIMIT_BYTES + 1)))).toEqual({
      rejection: BODY_TOO_LARGE,
    });
    let pulled = 0;
    const endless = new ReadableStream({
      pull(controller) {
        pulled += 1;
        controller.enqueue(new Uint8Array(16 * 1024));
      },
    });
    expect(await readJsonRequest(request(endless))).toEqual({ rejection: BODY_TOO_LARGE });
    expect(pulled).toBeLessThan(10);
    expect(await readJsonRequest(request('{}', 'application/json; charset=latin1'))).toEqual({
      rejection: UNSUPPORTED_CHARSET,
    });
    expect(await readJsonRequest(request('{"__proto__":{}}'))).toEqual({
      rejection: PROTOTYPE_KEY,
    });
  });
});

/** @param {() => unknown} run */
function catchError(run) {
  try {
    run();
  } catch (error) {
    return error;
  }
  throw new Error('did not throw');
}
