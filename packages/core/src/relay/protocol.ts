// The relay protocol v1, server side: what `@capi-kit/browser` POSTs to the first-party endpoint.
// The contract is written down in packages/browser/README.md ("The relay protocol (v1)"); the core
// cannot import the browser package, so the wire types are repeated here. No imports, on purpose:
// @capi-kit/browser bundles the caps below at build time, so it splits its requests to fit them.

/** The relay protocol version this handler speaks; other versions are refused with `400`. */
export const RELAY_PROTOCOL_VERSION = 1;

/** Default body cap: 64 KiB, the browsers' budget for all keepalive/beacon bodies in flight. */
export const DEFAULT_RELAY_MAX_BODY_BYTES = 64 * 1024;
/** Default cap on events per request; a page sends 1–3 per tick, and splits more to fit. */
export const DEFAULT_RELAY_MAX_EVENTS = 20;

/**
 * The longest `event_id` a relayed event may carry. Meta documents no length for `event_id`; a UUID
 * is 36 characters and order IDs are short. The cap keeps a hostile page from filling the queue
 * with megabyte-sized IDs, and tells diagnostics that a longer server id can never be paired.
 */
export const RELAY_MAX_EVENT_ID_LENGTH = 256;

/** Where `@capi-kit/browser` relays to unless told otherwise, and where the adapters listen. */
export const DEFAULT_RELAY_PATH = '/capi/events';

/** One event of a relay payload as the browser sends it (Meta's wire names). Untrusted input. */
export interface RelayEventInput {
  /** The Pixel event's name; Meta dedups on name + ID. */
  event_name: string;
  /** The Pixel call's `eventID`, forwarded unchanged as `event_id`. */
  event_id: string;
  /** Unix seconds from the browser clock (replaced by server time when off). */
  event_time: number;
  /** `location.href` when the event fired (kept only when same-site with the request). */
  event_source_url: string;
  /** `document.referrer`, when there is one. */
  referrer_url?: string;
  /** The page's `custom_data` (filtered through the relay's allowlist). */
  custom_data?: Record<string, unknown>;
}

/** The body of a relay request, protocol v1. */
export interface RelayPayloadInput {
  /** Protocol version: `1`. */
  v: typeof RELAY_PROTOCOL_VERSION;
  /** The Pixel the browser fired; must be one the relay is configured for. */
  pixel_id: string;
  /** Events in firing order. */
  events: RelayEventInput[];
}
