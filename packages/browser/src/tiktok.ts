// The TikTok Pixel's copy of an event. TikTok deduplicates a Pixel event and an Events API event
// that share both `event` and `event_id` (48 hours; merged within 5 minutes), so the name and
// properties here must be the ones the server's TikTok destination (@capi-kit/tiktok) sends for
// the same Meta-named event. https://ads.tiktok.com/help/article/event-deduplication
// Call shape `ttq.track(event, properties, { event_id })`, with `pixel_code` in the same options to
// address one pixel: TikTok's own GTM template, https://github.com/tiktok/gtm-template-pixel
// (template.js), which also lists the base code's queue methods (`track`, `identify`, `page`…).
//
// Why a copy of @capi-kit/tiktok's mapping and not an import of it: inlined, its full name table
// and issue-reporting property mapper took this bundle from 1.3 KB to 2.2 KB min+gzip, past the
// 2 KB budget (test/size.test.ts). The rules below are the same rules in fewer bytes, and
// test/tiktok.test.ts holds them equal to the server's (every standard name, and generated
// custom_data against toTikTokProperties), so a change on one side fails the build until the other
// follows.
import type { Content, CustomData } from './events.js';

/** One item of the TikTok Pixel's `contents`. */
export interface TikTokPixelContent {
  content_id: string;
  quantity?: number;
  price?: number;
  content_name?: string;
  content_category?: string;
  brand?: string;
}

/** The properties object given to `ttq.track`, mapped from Meta's `custom_data`. */
export interface TikTokPixelProperties {
  contents?: TikTokPixelContent[];
  content_type?: 'product' | 'product_group';
  value?: number;
  currency?: string;
  order_id?: string;
  query?: string;
  description?: string;
}

/** The TikTok Pixel's global, as far as this module uses it (the base code's queue or events.js). */
export interface Ttq {
  track(event: string, properties?: object, options?: object): unknown;
}

/** How events reach the TikTok Pixel (`createPixel({ tiktok })`, `trackTikTok`). */
export interface TikTokOptions {
  /** Meta → TikTok name overrides, e.g. `{ Purchase: 'CompletePayment' }`; give the server's TikTok destination the same map. */
  eventNames?: Readonly<Record<string, string>>;
  /** Send to this TikTok pixel only (`pixel_code`), when the page loads several. */
  pixelCode?: string;
}

/**
 * The TikTok Pixel's copy of a Meta-named event: TikTok's event name (Meta's standard names are
 * TikTok's, unknown names unchanged, as custom events; `eventNames` renames) and `properties` (`contents`, `content_type`, `value`,
 * `currency`, `order_id`, `query`, `description`), mapped exactly as `@capi-kit/tiktok` maps the
 * server copy. Fields TikTok has no place for are left out.
 * @example toTikTokPixelEvent('Lead', {}, { Lead: 'SubmitForm' }) // { event: 'SubmitForm', properties: {} }
 */
export function toTikTokPixelEvent(
  eventName: string,
  custom_data?: CustomData,
  eventNames?: Readonly<Record<string, string>>,
): { event: string; properties: TikTokPixelProperties } {
  // Trimmed as the server's copy is (TikTok deduplicates on the name and the id together). Every
  // Meta standard event has TikTok's name since TikTok renamed SubmitForm to Lead in May 2025
  // (@capi-kit/tiktok's TIKTOK_EVENT_NAMES maps each to itself, test/tiktok.test.ts holds the two
  // equal; https://ads.tiktok.com/help/article/how-to-adopt-tiktoks-updated-standard-events); a
  // custom name passes unchanged.
  const name = eventName.trim();
  // An override trimmed, and white space alone read as none, as the server's tiktokEventName reads
  // it: untrimmed, `' Purchase '` went to the Pixel as a name the server copy never carries.
  const renamed = eventNames && Object.hasOwn(eventNames, name) && eventNames[name];
  return {
    event: (typeof renamed === 'string' && renamed.trim()) || name,
    properties: toProperties(custom_data ?? {}),
  };
}

/**
 * Fires `ttq.track(event, properties, { event_id })` for a Meta-named event, when the page has the
 * TikTok Pixel (`window.ttq`); pass the `eventID` the Meta Pixel and the server got. Returns
 * whether `ttq` was called. Never throws.
 * @example trackTikTok('Purchase', { value: 42, currency: 'USD' }, { eventID: order.id })
 */
export function trackTikTok(
  eventName: string,
  custom_data: CustomData | undefined,
  options: TikTokOptions & { eventID: string },
): boolean {
  try {
    const ttq = (globalThis as { ttq?: Ttq }).ttq;
    if (!ttq) return false;
    const { event, properties } = toTikTokPixelEvent(eventName, custom_data, options.eventNames);
    const tiktokOptions: { event_id: string; pixel_code?: string } = { event_id: options.eventID };
    if (options.pixelCode) tiktokOptions.pixel_code = options.pixelCode;
    ttq.track(event, properties, tiktokOptions);
    return true;
  } catch {
    return false;
  }
}

// Number.isFinite is false for anything not a number (it does not convert, unlike isFinite).
const finite = (v: unknown): v is number => Number.isFinite(v);
const text = (v: unknown): v is string => typeof v === 'string' && !!v.trim();
// A number, or a plain decimal in text (a data layer's `'19.90'`) as its number, the way the
// server relay reads it (core's relay-event.ts) before the server's TikTok copy is made. `+v`
// skips the same whitespace trim() does.
const putNumber = (out: object, key: string, v: unknown): void => {
  if (text(v) && /^-?(\d{1,15}(\.\d{0,15})?|\.\d{1,15})$/.test(v.trim())) v = +v;
  if (finite(v)) (out as Record<string, number>)[key] = v;
};
// Numbers as their digits, as the server's copy (and Meta's) sends numeric ids; '' for no text.
const textOf = (v: unknown): string => (text(v) ? v : finite(v) ? String(v) : '');
const putText = (out: object, key: string, value: unknown): void => {
  const t = textOf(value);
  if (t) (out as Record<string, string>)[key] = t;
};

// Meta's custom_data → TikTok's properties, as @capi-kit/tiktok's toTikTokProperties: contents
// (id/quantity/item_price/title/category/brand → content_id/quantity/price/content_name/
// content_category/brand; content_ids when there are no contents), content_type (product,
// product_group), value (quantity, item_price and value also as decimal text), currency
// (uppercased), order_id, search_string → query, content_name → description. The rest has no
// TikTok counterpart and stays out.
function toProperties(data: CustomData): TikTokPixelProperties {
  const out: TikTokPixelProperties = {};
  const { contents, content_ids, content_type } = data;
  const items: TikTokPixelContent[] = [];
  // content_ids, when there are no contents, as items with an id alone.
  const list: unknown[] =
    Array.isArray(contents) && contents.length
      ? contents
      : Array.isArray(content_ids)
        ? content_ids.map((id) => ({ id }))
        : [];
  for (const item of list as Content[]) {
    const contentId = textOf(item?.id);
    if (!contentId) continue;
    const content: TikTokPixelContent = { content_id: contentId.trim() };
    putNumber(content, 'quantity', item.quantity);
    putNumber(content, 'price', item.item_price);
    putText(content, 'content_name', item.title);
    putText(content, 'content_category', item.category);
    putText(content, 'brand', item.brand);
    items.push(content);
  }
  if (items.length) out.contents = items;
  if (content_type === 'product' || content_type === 'product_group')
    out.content_type = content_type;
  putNumber(out, 'value', data.value);
  // Three letters, as ISO 4217 codes are ('dollars' and 'US$' never reach TikTok); the server
  // copy also checks the code against the ISO list, which is too large to ship to the page.
  const currency = textOf(data.currency).trim().toUpperCase();
  if (/^[A-Z]{3}$/.test(currency)) out.currency = currency;
  putText(out, 'order_id', data.order_id);
  putText(out, 'query', data.search_string);
  putText(out, 'description', data.content_name);
  return out;
}
