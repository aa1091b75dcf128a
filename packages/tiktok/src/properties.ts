import { type CustomDataInput, type Issue, normalizeCurrency } from '@capi-kit/core';

// TikTok's `properties` ([EAPI] in sources.ts; recommended parameters per event in [SE]):
// `contents[]` (`content_id`, `quantity`, `price`, `content_name`, `content_category`, `brand`),
// `content_type` (`product` or `product_group`), `value`, `currency` (ISO 4217), `order_id`,
// `query`, `description`. Mapped from Meta's `custom_data`:
//
// | Meta `custom_data`                    | TikTok `properties`                                     |
// | ------------------------------------- | ------------------------------------------------------- |
// | `contents[].id/quantity/item_price`   | `contents[].content_id/quantity/price`                  |
// | `contents[].title/category/brand`     | `contents[].content_name/content_category/brand`        |
// | `content_ids` (without `contents`)    | `contents[].content_id`                                 |
// | `content_type`                        | `content_type` (only `product`, `product_group`)        |
// | `value`, `currency`                   | `value`, `currency` (an ISO 4217 code, uppercased)      |
// | `order_id`                            | `order_id`                                              |
// | `search_string`                       | `query`                                                 |
// | `content_name`                        | `description`                                           |
//
// Not sent (no TikTok counterpart): `content_category` at the top level, `num_items`,
// `predicted_ltv`, `net_revenue`, `status`, `delivery_category`, `item_number`,
// `customer_segmentation`, and `custom_properties` (kept to Meta until a user asks for them:
// custom keys are where customer data leaks most often).

/** One item of TikTok's `properties.contents`. */
export interface TikTokContent {
  content_id: string;
  quantity?: number;
  price?: number;
  content_name?: string;
  content_category?: string;
  brand?: string;
}

/** TikTok's `data[].properties` object, as sent. */
export interface TikTokProperties {
  contents?: TikTokContent[];
  content_type?: 'product' | 'product_group';
  value?: number;
  currency?: string;
  order_id?: string;
  query?: string;
  description?: string;
}

const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const text = (v: unknown): v is string => typeof v === 'string' && v.trim() !== '';

function toContent(item: unknown, path: string, issues: Issue[]): TikTokContent | undefined {
  const source = (item ?? {}) as Record<string, unknown>;
  const id = source.id;
  if (!text(id) && !finite(id)) {
    issues.push({
      path: `${path}.id`,
      code: 'missing_content_id',
      message: 'A content without an id is not sent to TikTok.',
      severity: 'warning',
    });
    return undefined;
  }
  const content: TikTokContent = { content_id: String(id).trim() };
  if (finite(source.quantity)) content.quantity = source.quantity;
  if (finite(source.item_price)) content.price = source.item_price;
  if (text(source.title)) content.content_name = source.title;
  if (text(source.category)) content.content_category = source.category;
  if (text(source.brand)) content.brand = source.brand;
  return content;
}

/**
 * Meta's `custom_data` → TikTok's `properties` (table above). Fields without a TikTok counterpart
 * are left out; a content without an id and a `content_type` TikTok does not know are reported as
 * warnings. Returns `undefined` properties when nothing maps.
 * @example toTikTokProperties({ value: 9.5, currency: 'eur', contents: [{ id: 'sku-1', quantity: 2, item_price: 4.75 }] })
 */
export function toTikTokProperties(customData: CustomDataInput | undefined): {
  properties: TikTokProperties | undefined;
  issues: Issue[];
} {
  const issues: Issue[] = [];
  if (customData === undefined || customData === null) return { properties: undefined, issues };
  const out: TikTokProperties = {};
  if (Array.isArray(customData.contents) && customData.contents.length > 0) {
    const contents: TikTokContent[] = [];
    customData.contents.forEach((item, i) => {
      const content = toContent(item, `custom_data.contents[${i}]`, issues);
      if (content) contents.push(content);
    });
    if (contents.length > 0) out.contents = contents;
  } else if (Array.isArray(customData.content_ids) && customData.content_ids.length > 0) {
    const contents = customData.content_ids
      .filter((id): id is string => text(id))
      .map((id) => ({ content_id: id.trim() }));
    if (contents.length > 0) out.contents = contents;
  }
  const type = customData.content_type;
  if (type === 'product' || type === 'product_group')
    out.content_type = type as 'product' | 'product_group';
  else if (type !== undefined) {
    issues.push({
      path: 'custom_data.content_type',
      code: 'tiktok_content_type',
      message: "TikTok knows only 'product' and 'product_group'; content_type not sent to TikTok.",
      severity: 'warning',
    });
  }
  if (finite(customData.value)) out.value = customData.value;
  if (text(customData.currency)) {
    // TikTok fails the whole batch on one bad event, so a currency that is not an ISO 4217 code
    // ('dollars') is left out rather than sent uppercased.
    const currency = normalizeCurrency(customData.currency);
    if (currency !== undefined) out.currency = currency;
    else {
      issues.push({
        path: 'custom_data.currency',
        code: 'invalid_currency',
        message: 'Not an ISO 4217 currency code; currency not sent to TikTok.',
        severity: 'warning',
      });
    }
  }
  if (text(customData.order_id)) out.order_id = customData.order_id;
  if (text(customData.search_string)) out.query = customData.search_string;
  if (text(customData.content_name)) out.description = customData.content_name;
  return { properties: Object.keys(out).length > 0 ? out : undefined, issues };
}
