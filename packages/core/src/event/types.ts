import type { UserData, UserDataInput } from '../user-data/types.js';
import type { ActionSource } from './action-source.js';
import type { EventName } from './standard-events.js';

// Field names are Meta's wire names, so code can be copied to and from Meta's docs and Pixel calls.
// Server event: https://developers.facebook.com/documentation/ads-commerce/conversions-api/parameters/server-event [SE]
// Custom data:  https://developers.facebook.com/documentation/ads-commerce/conversions-api/parameters/custom-data [CD]
// Optional fields of input types also accept `undefined` so values read from optional sources can be
// passed straight through under `exactOptionalPropertyTypes`; wire types omit such keys instead.

/** How an order is delivered. */
export type DeliveryCategory = 'in_store' | 'curbside' | 'home_delivery';

/** Meta's customer segmentation values, relative to the business, a business line, a product area or a medium. */
export type CustomerSegmentation =
  | 'new_customer_to_business'
  | 'new_customer_to_business_line'
  | 'new_customer_to_product_area'
  | 'new_customer_to_medium'
  | 'existing_customer_to_business'
  | 'existing_customer_to_business_line'
  | 'existing_customer_to_product_area'
  | 'existing_customer_to_medium'
  | 'customer_in_loyalty_program';

/** `product` or `product_group` for product catalogs; other catalog verticals use their own (`hotel`, `flight`…). */
export type ContentType = 'product' | 'product_group' | (string & {});

/** One item of `custom_data.contents`. */
export interface Content {
  /** Product ID as in your catalog (required). */
  id: string;
  /** Number of units. */
  quantity?: number | undefined;
  /** Price of one unit. */
  item_price?: number | undefined;
  /** How this item is delivered. */
  delivery_category?: DeliveryCategory | undefined;
  /** Product title. */
  title?: string | undefined;
  /** Product description. */
  description?: string | undefined;
  /** Product brand. */
  brand?: string | undefined;
  /** Product category. */
  category?: string | undefined;
}

/** The documented `custom_data` fields, shared by the input ({@link CustomDataInput}) and the wire ({@link CustomData}) types. */
export interface CustomDataFields {
  /** Monetary value of the event; required for `Purchase`. */
  value?: number | undefined;
  /** ISO 4217 currency code of `value` (`USD`); required for `Purchase`, sent uppercase. */
  currency?: string | undefined;
  /** Name of the page or product. */
  content_name?: string | undefined;
  /** Category of the page or product. */
  content_category?: string | undefined;
  /** Product IDs, e.g. SKUs. */
  content_ids?: readonly string[] | undefined;
  /** Products with quantity and price; each needs an `id`. */
  contents?: readonly Content[] | undefined;
  /** Whether `content_ids`/`contents` name products or product groups. */
  content_type?: ContentType | undefined;
  /** Your order or transaction ID. */
  order_id?: string | undefined;
  /** Predicted lifetime value of the customer. */
  predicted_ltv?: number | undefined;
  /** Revenue net of costs. */
  net_revenue?: number | undefined;
  /** Number of items (used with `InitiateCheckout`). */
  num_items?: number | undefined;
  /** The search query (used with `Search`). */
  search_string?: string | undefined;
  /** Registration or subscription status (used with `CompleteRegistration`). */
  status?: string | boolean | undefined;
  /** How the order is delivered. */
  delivery_category?: DeliveryCategory | undefined;
  /** Item number, for offline events. */
  item_number?: string | undefined;
  /** Whether the customer is new or existing, relative to the business or a part of it. */
  customer_segmentation?: CustomerSegmentation | undefined;
}

/**
 * `custom_data` as sent to Meta: the documented fields, then custom parameters as further keys
 * (Meta takes custom parameters inside `custom_data`). What `buildEvent` returns; write events
 * with {@link CustomDataInput}, whose custom parameters go in `custom_properties`.
 */
export interface CustomData extends CustomDataFields {
  /** Custom parameters. */
  [key: string]: unknown;
}

/**
 * `custom_data` as callers write it: only the documented fields, so a misspelled one (`curency`)
 * is a compile error; custom parameters go in `custom_properties` and are sent as `custom_data`
 * keys. Keep customer information out of both (it belongs in `user_data`, hashed).
 * @example custom_data: { value: 12.5, currency: 'EUR', custom_properties: { coupon: 'SPRING' } }
 */
export interface CustomDataInput extends CustomDataFields {
  /**
   * Custom parameters, sent as keys of `custom_data` next to the documented fields (the typed
   * field wins over a custom property of the same name, which is reported).
   */
  custom_properties?: Readonly<Record<string, unknown>> | undefined;
}

/** `custom_data` of a `Purchase`: Meta requires `value` and `currency`. */
export interface PurchaseCustomData extends CustomDataInput {
  /** Monetary value of the purchase. */
  value: number;
  /** ISO 4217 currency code (`USD`). */
  currency: string;
}

/**
 * `app_data` for `action_source: 'app'` events. `extinfo` holds 16 positional device values,
 * starting with `a2` (Android) or `i2` (iOS); missing trailing values are padded with `''`.
 */
export interface AppData {
  /** Whether the user allowed ad tracking (iOS ATT / limit ad tracking). */
  advertiser_tracking_enabled?: boolean | undefined;
  /** Whether the app allows tracking (app-level opt-out). */
  application_tracking_enabled?: boolean | undefined;
  /** Extended device information: 16 positional strings, the first `a2` or `i2`. */
  extinfo?: readonly string[] | undefined;
  /** Campaign IDs from the install referrer or deep link. */
  campaign_ids?: string | undefined;
  /** Android install referrer. */
  install_referrer?: string | undefined;
  /** Android installer package name. */
  installer_package?: string | undefined;
  /** URL schemes the app registered. */
  url_schemes?: readonly string[] | undefined;
  /** Windows attribution ID. */
  windows_attribution_id?: string | undefined;
}

/** The event a delayed event refers back to, sent as it was then. */
export interface OriginalEventData {
  /** Name of the original event. */
  event_name?: EventName;
  /** Unix time in seconds of the original event. */
  event_time?: number;
  /** Order ID of the original event. */
  order_id?: string;
  /** Event ID of the original event. */
  event_id?: string;
}

/** {@link OriginalEventData} as callers pass it: `event_time` may also be a `Date` or milliseconds. */
export interface OriginalEventDataInput {
  /** Name of the original event. */
  event_name?: EventName | undefined;
  /** Time of the original event: Unix seconds, milliseconds or a `Date`. */
  event_time?: number | Date | undefined;
  /** Order ID of the original event. */
  order_id?: string | undefined;
  /** Event ID of the original event. */
  event_id?: string | undefined;
}

/** Limited Data Use flag for `data_processing_options`. */
export type DataProcessingOption = 'LDU';

/** Messaging channel of `business_messaging` events. */
export type MessagingChannel = 'whatsapp' | (string & {});

/** A server event exactly as sent to Meta: defaults filled, `user_data` normalized and hashed. */
export interface ServerEvent {
  /** Standard or custom event name; must match the Pixel's name for deduplication. */
  event_name: EventName;
  /** Unix time in seconds when the event happened. */
  event_time: number;
  /** Deduplication ID shared with the Pixel event (`eventID`). */
  event_id: string;
  /** Where the conversion happened. */
  action_source: ActionSource;
  /** Browser URL where the event happened (required for `website`). */
  event_source_url?: string;
  /** HTTP referrer of the page. */
  referrer_url?: string;
  /** True to use the event for attribution only, not ad delivery optimization. */
  opt_out?: boolean;
  /** Customer information: hashed match keys and unhashed browser identifiers. */
  user_data: UserData;
  /** What the event is about: value, currency, products, custom parameters. */
  custom_data?: CustomData;
  /** App and device information (app events). */
  app_data?: AppData;
  /** The original event, for events sent later about an earlier one. */
  original_event_data?: OriginalEventData;
  /** Messaging channel of `business_messaging` events. */
  messaging_channel?: MessagingChannel;
  /** `[]` or `['LDU']` (Limited Data Use). */
  data_processing_options?: DataProcessingOption[];
  /** LDU country: `1` = United States, `0` = geolocate. */
  data_processing_options_country?: 0 | 1;
  /** LDU state: `1000` = California, `0` = geolocate. */
  data_processing_options_state?: 0 | 1000;
}

/** Every field of {@link ServerEventInput} except `event_name` and `custom_data`. */
export interface ServerEventInputFields {
  /** When it happened: Unix seconds (milliseconds are converted), a `Date`; default now. */
  event_time?: number | Date | undefined;
  /** Deduplication ID shared with the Pixel's `eventID`; default a random UUID. */
  event_id?: string | undefined;
  /** Where the conversion happened; default `website`. */
  action_source?: ActionSource | undefined;
  /** Browser URL where the event happened (required for `website`). */
  event_source_url?: string | undefined;
  /** HTTP referrer of the page. */
  referrer_url?: string | undefined;
  /** True to use the event for attribution only. */
  opt_out?: boolean | undefined;
  /** Customer information, raw: normalized and hashed by `buildEvent`. */
  user_data?: UserDataInput | undefined;
  /** App and device information (required for `app` events). */
  app_data?: AppData | undefined;
  /** The original event, for events sent later about an earlier one. */
  original_event_data?: OriginalEventDataInput | undefined;
  /** Messaging channel of `business_messaging` events. */
  messaging_channel?: MessagingChannel | undefined;
  /** `[]` or `['LDU']` (Limited Data Use). */
  data_processing_options?: readonly DataProcessingOption[] | undefined;
  /** LDU country: `1` = United States, `0` = geolocate. */
  data_processing_options_country?: 0 | 1 | undefined;
  /** LDU state: `1000` = California, `0` = geolocate. */
  data_processing_options_state?: 0 | 1000 | undefined;
}

/** `custom_data` typed by event name: required with `value` and `currency` for `Purchase`. */
export type CustomDataFor<Name extends string> = string extends Name
  ? { custom_data?: CustomDataInput | undefined }
  : Name extends 'Purchase'
    ? { custom_data: PurchaseCustomData }
    : { custom_data?: CustomDataInput | undefined };

/**
 * A server event as callers write it. `event_time`, `event_id` and `action_source` have defaults;
 * `user_data` is raw. With a literal `event_name` the type checks more: a `Purchase` needs
 * `custom_data.value` and `custom_data.currency`.
 * @example buildEvent({ event_name: 'Purchase', event_source_url: url, user_data: { em, client_user_agent }, custom_data: { value: 12.5, currency: 'EUR' } })
 */
export type ServerEventInput<Name extends EventName = EventName> = ServerEventInputFields & {
  /** Standard event (autocompleted) or custom event name. */
  event_name: Name;
} & CustomDataFor<Name>;
