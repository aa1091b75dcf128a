import {
  type CustomDataInput,
  type Issue,
  normalizeCurrency,
  readDecimalText,
} from '@capi-kit/core';

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
/**
 * A field TikTok takes as a string ([EAPI]: `content_id`, `order_id`…): a non-blank string as
 * given, a finite number as its digits. The core sends numbers to Meta the same way ("IDs and order
 * numbers are often numeric in databases"), so the two copies of an event carry the same ids.
 */
const textOf = (v: unknown): string | undefined =>
  text(v) ? v : finite(v) ? String(v) : undefined;

// Which numbers TikTok takes in `value`, `price` and `quantity` is not written down where this
// package looked (/work/shared/reference/destinations.md names `properties` only; [EAPI] shows them
// as JSON numbers), and TikTok fails the whole batch for one bad event ([BATCH]). So TikTok's copy
// carries only numbers no reading of those fields can refuse, and leaves any other out with a
// warning naming the rule (never the value), the event still sent:
// - `quantity`: a whole number from 0 (the core's rule for Meta's `quantity`) to 2^31 - 1, the
//   narrowest integer a server may hold it in; 1.5 or -2 items is no basket.
// - `price`, `value`: from 0 (a negative price or order value is no sale, and TikTok has no refund
//   event) to 2^53 - 1, past which a number is not held exactly, and from 1e21 JSON writes it in
//   exponent form (`1e+21`), which a decimal or integer field refuses. Nor, for the same reason,
//   a number between 0 and 0.000001, which JSON writes as `5.55e-17`: such an amount is a float
//   residue (0.1 + 0.2 - 0.3), not a price. The sources above do not say whether TikTok reads
//   an exponent; a batch is at risk if it does not, so none is sent, and the caller's number is
//   left out with the warning rather than rounded to another one.
const MAX_QUANTITY = 2 ** 31 - 1;
const MAX_AMOUNT = Number.MAX_SAFE_INTEGER;
/** The smallest positive number `JSON.stringify` writes as a plain decimal (`0.000001`). */
const MIN_AMOUNT = 1e-6;

/** A number TikTok takes: see the rules above. Anything else given is left out, with a warning. */
function number(
  v: unknown,
  rule: 'quantity' | 'amount',
  path: string,
  code: string,
  issues: Issue[],
): number | undefined {
  if (v === undefined || v === null) return undefined;
  // A plain decimal written as text ('19.90', from a form field) is read as Meta's copy reads it;
  // Meta's build reports it (number_as_text), so it is not said twice here.
  const read = typeof v === 'string' ? (readDecimalText(v) ?? v) : v;
  return checkedNumber(read, rule, path, code, issues);
}

function checkedNumber(
  v: unknown,
  rule: 'quantity' | 'amount',
  path: string,
  code: string,
  issues: Issue[],
): number | undefined {
  const max = rule === 'quantity' ? MAX_QUANTITY : MAX_AMOUNT;
  if (
    finite(v) &&
    v >= 0 &&
    v <= max &&
    (rule === 'amount' ? v === 0 || v >= MIN_AMOUNT : Number.isInteger(v))
  )
    return v;
  issues.push({
    path,
    code,
    message:
      rule === 'quantity'
        ? `Must be a whole number from 0 to ${MAX_QUANTITY}; not sent to TikTok.`
        : `Must be 0 or a number from 0.000001 to ${MAX_AMOUNT} (JSON writes a smaller one in exponent form); not sent to TikTok.`,
    severity: 'warning',
  });
  return undefined;
}

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
  const quantity = number(
    source.quantity,
    'quantity',
    `${path}.quantity`,
    'invalid_number',
    issues,
  );
  if (quantity !== undefined) content.quantity = quantity;
  const price = number(
    source.item_price,
    'amount',
    `${path}.item_price`,
    'invalid_item_price',
    issues,
  );
  if (price !== undefined) content.price = price;
  const name = textOf(source.title);
  if (name !== undefined) content.content_name = name;
  const category = textOf(source.category);
  if (category !== undefined) content.content_category = category;
  const brand = textOf(source.brand);
  if (brand !== undefined) content.brand = brand;
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
  if (typeof customData !== 'object' || Array.isArray(customData)) {
    // Meta's build refuses it (`invalid_custom_data`); TikTok's copy left it out without a word.
    issues.push({
      path: 'custom_data',
      code: 'invalid_custom_data',
      message: 'Not an object; none of it sent to TikTok.',
      severity: 'warning',
    });
    return { properties: undefined, issues };
  }
  const out: TikTokProperties = {};
  if (Array.isArray(customData.contents) && customData.contents.length > 0) {
    const contents: TikTokContent[] = [];
    customData.contents.forEach((item, i) => {
      const content = toContent(item, `custom_data.contents[${i}]`, issues);
      if (content) contents.push(content);
    });
    if (contents.length > 0) out.contents = contents;
  } else if (Array.isArray(customData.content_ids) && customData.content_ids.length > 0) {
    const contents: TikTokContent[] = [];
    for (const id of customData.content_ids as readonly unknown[]) {
      const contentId = textOf(id);
      if (contentId !== undefined) contents.push({ content_id: contentId.trim() });
    }
    if (contents.length > 0) out.contents = contents;
  }
  const type = customData.content_type;
  if (type === 'product' || type === 'product_group')
    out.content_type = type as 'product' | 'product_group';
  // `null` is no value, as the core reads every custom_data field for Meta (a nullable column).
  else if (type !== undefined && type !== null) {
    issues.push({
      path: 'custom_data.content_type',
      code: 'tiktok_content_type',
      message: "TikTok knows only 'product' and 'product_group'; content_type not sent to TikTok.",
      severity: 'warning',
    });
  }
  const value = number(customData.value, 'amount', 'custom_data.value', 'invalid_value', issues);
  if (value !== undefined) out.value = value;
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
  const orderId = textOf(customData.order_id);
  if (orderId !== undefined) out.order_id = orderId;
  const query = textOf(customData.search_string);
  if (query !== undefined) out.query = query;
  const description = textOf(customData.content_name);
  if (description !== undefined) out.description = description;
  return { properties: Object.keys(out).length > 0 ? out : undefined, issues };
}
