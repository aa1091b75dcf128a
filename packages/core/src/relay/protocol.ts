// The relay protocol v1, server side: what `@capi-kit/browser` POSTs to the first-party endpoint.
// The contract is written down in packages/browser/README.md ("The relay protocol (v1)"); the core
// cannot import the browser package, so the wire types are repeated here.

/** The relay protocol version this handler speaks; other versions are refused with `400`. */
export const RELAY_PROTOCOL_VERSION = 1;

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
