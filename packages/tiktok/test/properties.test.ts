import { toTikTokProperties } from '@capi-kit/tiktok';
import { describe, expect, it } from 'vitest';

describe('toTikTokProperties', () => {
  it('maps a purchase: contents, value, currency, content type, order id', () => {
    expect(
      toTikTokProperties({
        value: 59.5,
        currency: 'eur',
        content_type: 'product',
        order_id: 'ord-77',
        content_ids: ['ignored-when-contents-given'],
        contents: [
          {
            id: 'sku-1',
            quantity: 2,
            item_price: 20,
            title: 'Shirt',
            category: 'Tops',
            brand: 'Acme',
          },
          { id: 'sku-2', quantity: 1, item_price: 19.5 },
        ],
      }),
    ).toEqual({
      properties: {
        contents: [
          {
            content_id: 'sku-1',
            quantity: 2,
            price: 20,
            content_name: 'Shirt',
            content_category: 'Tops',
            brand: 'Acme',
          },
          { content_id: 'sku-2', quantity: 1, price: 19.5 },
        ],
        content_type: 'product',
        value: 59.5,
        currency: 'EUR',
        order_id: 'ord-77',
      },
      issues: [],
    });
  });

  it('builds contents from content_ids when there are no contents', () => {
    expect(toTikTokProperties({ content_ids: ['a', ' b ', ''] }).properties).toEqual({
      contents: [{ content_id: 'a' }, { content_id: 'b' }],
    });
  });

  it('sends numeric ids and texts as strings, as the core sends them to Meta', () => {
    expect(
      toTikTokProperties({
        content_ids: [1077218, 'sku-2'],
        order_id: 98765,
        search_string: 42,
        content_name: 7,
      } as never),
    ).toEqual({
      properties: {
        contents: [{ content_id: '1077218' }, { content_id: 'sku-2' }],
        order_id: '98765',
        query: '42',
        description: '7',
      },
      issues: [],
    });
    expect(
      toTikTokProperties({
        contents: [{ id: 5, title: 501, category: 12, brand: 3 }],
      } as never).properties,
    ).toEqual({
      contents: [{ content_id: '5', content_name: '501', content_category: '12', brand: '3' }],
    });
  });

  it('maps search_string to query and content_name to description', () => {
    expect(
      toTikTokProperties({ search_string: 'red shoes', content_name: 'Shoes' }).properties,
    ).toEqual({
      query: 'red shoes',
      description: 'Shoes',
    });
  });

  it('reports a content without id and a content_type TikTok does not know', () => {
    const { properties, issues } = toTikTokProperties({
      content_type: 'hotel',
      contents: [{ id: '', quantity: 1 }, { id: 'ok' }],
    });
    expect(properties).toEqual({ contents: [{ content_id: 'ok' }] });
    expect(issues.map((i) => `${i.path}:${i.code}:${i.severity}`)).toEqual([
      'custom_data.contents[0].id:missing_content_id:warning',
      'custom_data.content_type:tiktok_content_type:warning',
    ]);
  });

  it('leaves out what TikTok has no field for, without a word', () => {
    expect(
      toTikTokProperties({
        predicted_ltv: 100,
        net_revenue: 3,
        num_items: 2,
        status: true,
        custom_properties: { coupon: 'X' },
      }),
    ).toEqual({ properties: undefined, issues: [] });
  });

  it("reads a plain decimal written as text as Meta's copy does, and says nothing more", () => {
    const { properties, issues } = toTikTokProperties({
      value: ' 59.50 ' as never,
      currency: 'USD',
      contents: [{ id: 'sku-1', quantity: '2' as never, item_price: '9.99' as never }],
    });
    expect(properties).toEqual({
      value: 59.5,
      currency: 'USD',
      contents: [{ content_id: 'sku-1', quantity: 2, price: 9.99 }],
    });
    expect(issues).toEqual([]);
  });

  it('leaves out numbers that are not finite numbers, and says which', () => {
    const { properties, issues } = toTikTokProperties({
      value: '59,50' as never,
      currency: 'USD',
      contents: [{ id: 'sku-1', quantity: Number.NaN, item_price: '$9.99' as never }],
    });
    expect(properties).toEqual({ currency: 'USD', contents: [{ content_id: 'sku-1' }] });
    expect(issues.map((i) => `${i.path}:${i.code}:${i.severity}`)).toEqual([
      'custom_data.contents[0].quantity:invalid_number:warning',
      'custom_data.contents[0].item_price:invalid_item_price:warning',
      'custom_data.value:invalid_value:warning',
    ]);
  });

  it.each([
    ['negative', -2, -20, -40],
    ['fractional or below zero', 1.5, -0.01, -1],
    ['huge', 1e21, 1e300, Number.MAX_VALUE],
    ['past 32 bits or the safe integers', 2 ** 31, 2 ** 53, 2 ** 53],
  ])(
    'leaves out a %s quantity, price and value, naming the rule, never the value',
    (_, quantity, price, value) => {
      const { properties, issues } = toTikTokProperties({
        value,
        currency: 'USD',
        contents: [
          { id: 'sku-1', quantity, item_price: price },
          { id: 'sku-2', quantity: 0, item_price: 0 },
        ],
      });
      expect(properties).toEqual({
        currency: 'USD',
        contents: [{ content_id: 'sku-1' }, { content_id: 'sku-2', quantity: 0, price: 0 }],
      });
      expect(issues.map((i) => `${i.path}:${i.code}:${i.severity}`)).toEqual([
        'custom_data.contents[0].quantity:invalid_number:warning',
        'custom_data.contents[0].item_price:invalid_item_price:warning',
        'custom_data.value:invalid_value:warning',
      ]);
      for (const issue of issues) {
        expect(issue.message).toMatch(/^Must be .*; not sent to TikTok\.$/);
        for (const given of [quantity, price, value])
          expect(issue.message).not.toContain(String(given));
      }
    },
  );

  // JSON writes a number below 1e-6 in exponent form (`5.55e-17`, a float residue such as
  // 0.1 + 0.2 - 0.3), which a decimal field refuses, as it refuses `1e+21`.
  it('leaves out a price or value JSON would write in exponent form, keeps 0.000001 and 0', () => {
    const { properties, issues } = toTikTokProperties({
      value: 0.1 + 0.2 - 0.3,
      contents: [
        { id: 'sku-1', item_price: 1e-7 },
        { id: 'sku-2', item_price: 0.000001 },
        { id: 'sku-3', item_price: 0 },
      ],
    });
    expect(issues.map((i) => `${i.path}:${i.code}`)).toEqual([
      'custom_data.contents[0].item_price:invalid_item_price',
      'custom_data.value:invalid_value',
    ]);
    expect(issues[0]?.message).toBe(
      'Must be 0 or a number from 0.000001 to 9007199254740991 (JSON writes a smaller one in exponent form); not sent to TikTok.',
    );
    expect(properties).toEqual({
      contents: [
        { content_id: 'sku-1' },
        { content_id: 'sku-2', price: 0.000001 },
        { content_id: 'sku-3', price: 0 },
      ],
    });
    expect(JSON.stringify(properties)).not.toMatch(/\de-/);
  });

  it('keeps the largest numbers it allows: quantity 2147483647, a price or value of 2^53 - 1', () => {
    const { properties, issues } = toTikTokProperties({
      value: Number.MAX_SAFE_INTEGER,
      contents: [{ id: 'sku-1', quantity: 2 ** 31 - 1, item_price: Number.MAX_SAFE_INTEGER }],
    });
    expect(issues).toEqual([]);
    expect(properties).toEqual({
      value: Number.MAX_SAFE_INTEGER,
      contents: [{ content_id: 'sku-1', quantity: 2 ** 31 - 1, price: Number.MAX_SAFE_INTEGER }],
    });
  });

  it('takes null fields as absent, as the core does for Meta (content_type: null was reported)', () => {
    const { properties, issues } = toTikTokProperties({
      value: 5,
      currency: 'EUR',
      content_type: null,
      order_id: null,
      contents: null,
    } as never);
    expect(properties).toEqual({ value: 5, currency: 'EUR' });
    expect(issues).toEqual([]);
  });

  it('gives no properties for no custom_data', () => {
    expect(toTikTokProperties(undefined)).toEqual({ properties: undefined, issues: [] });
  });

  it('reports a custom_data that is not an object (it vanished without a word)', () => {
    for (const customData of ['value=10', ['sku-1'], 10]) {
      const { properties, issues } = toTikTokProperties(customData as never);
      expect(properties).toBeUndefined();
      expect(issues.map((i) => `${i.path}:${i.code}:${i.severity}`)).toEqual([
        'custom_data:invalid_custom_data:warning',
      ]);
    }
  });
});
