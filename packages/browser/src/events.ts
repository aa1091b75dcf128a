// The 17 standard events of the Pixel reference plus PageView from the base code. Anything else
// must go through fbq('trackCustom'), or the Pixel warns and files it as custom anyway.
// https://developers.facebook.com/docs/meta-pixel/reference
// The list is the core's, inlined by this package's build: the browser module never loads
// @capi-kit/core (packages/browser/turbo.json rebuilds it when the list changes).
import type { StandardEventName } from '../../core/src/event/standard-event-names.js';

export {
  STANDARD_EVENTS,
  type StandardEventName,
} from '../../core/src/event/standard-event-names.js';

/** A standard event name, or any custom one (sent with `fbq('trackCustom')`). */
export type EventName = StandardEventName | (string & Record<never, never>);

/** One item of `custom_data.contents`, with Meta's wire names. */
export interface Content {
  /** Product ID (SKU), as in your catalog. */
  id: string;
  /** Number of this item. */
  quantity?: number;
  /** Price of one item. */
  item_price?: number;
  /** How the item is delivered. */
  delivery_category?: 'in_store' | 'curbside' | 'home_delivery';
  /** Other keys Meta accepts (`title`, `brand`, `category`…). */
  [key: string]: unknown;
}

/**
 * Meta's `custom_data` with its wire names; other keys become custom parameters. It is sent to
 * Meta and to your relay as is, so keep customer information (email, phone…) out of it.
 * https://developers.facebook.com/docs/marketing-api/conversions-api/parameters/custom-data
 */
export interface CustomData {
  /** Monetary value of the event; required for Purchase. */
  value?: number;
  /** ISO 4217 code (`USD`); required for Purchase. */
  currency?: string;
  /** Product IDs involved in the event. */
  content_ids?: string[];
  /** Products with quantity and price. */
  contents?: Content[];
  /** `product` when `content_ids`/`contents` are products, `product_group` when groups. */
  content_type?: 'product' | 'product_group';
  /** Name of the page or product. */
  content_name?: string;
  /** Category of the page or product. */
  content_category?: string;
  /** Number of items (InitiateCheckout). */
  num_items?: number;
  /** The user's search query (Search). */
  search_string?: string;
  /** Your order or transaction ID. */
  order_id?: string;
  /** Custom parameters. */
  [key: string]: unknown;
}

/** `custom_data` of a Purchase: Meta requires `value` and `currency`. */
export interface PurchaseData extends CustomData {
  value: number;
  currency: string;
}

/** Options of one tracked event. */
export interface TrackOptions {
  /** Dedup key shared by the Pixel and the relayed CAPI copy; generated when absent. */
  eventID?: string;
  /** `false`: this event skips the TikTok Pixel (it still goes to the Meta Pixel and the relay). */
  tiktok?: boolean;
}

/** `track()`'s arguments after the event name: Purchase requires `custom_data`, others don't. */
export type TrackArgs<N extends EventName> = N extends 'Purchase'
  ? [custom_data: PurchaseData, options?: TrackOptions]
  : [custom_data?: CustomData, options?: TrackOptions];
