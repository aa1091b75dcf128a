import { closestName } from './spelling.js';

// The fields of a `custom_data.contents` item, as Meta names them:
// https://developers.facebook.com/documentation/ads-commerce/conversions-api/parameters/custom-data [CD]

/** Meta's fields of one `contents` item. */
export const CONTENT_KEYS = [
  'id',
  'quantity',
  'item_price',
  'delivery_category',
  'title',
  'description',
  'brand',
  'category',
] as const;

/**
 * Names a cart or a product feed uses for them (lowercased, `_`, `-` and spaces removed). Written
 * so, the quantity or price was dropped with "Not a documented contents field", and an item whose
 * id was `sku` or `product_id` was refused for having no id, without the name to write.
 */
const CART_NAMES: Readonly<Record<string, string>> = {
  qty: 'quantity',
  count: 'quantity',
  price: 'item_price',
  unitprice: 'item_price',
  sku: 'id',
  productid: 'id',
  itemid: 'id',
  contentid: 'id',
  name: 'title',
  productname: 'title',
};

/** Meta's `contents` field `key` (not one of them) most likely means, or `undefined`. */
export function meantContentField(key: string): string | undefined {
  return CART_NAMES[key.toLowerCase().replace(/[\s_-]+/g, '')] ?? closestName(key, CONTENT_KEYS);
}
