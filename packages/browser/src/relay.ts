// The server relay's default caps (createRelay's maxEvents, maxBodyBytes), inlined by this
// package's build like the standard events: a request over either is refused whole (413) and none
// of its events is tracked. 64 KiB is also what a browser lets keepalive requests carry in flight.
import {
  DEFAULT_RELAY_MAX_BODY_BYTES as MAX_BYTES,
  DEFAULT_RELAY_MAX_EVENTS as MAX_EVENTS,
} from '../../core/src/relay/protocol.js';
import type { CustomData } from './events.js';

/** Version of the relay protocol this module speaks (the `v` of every payload). */
export const RELAY_PROTOCOL_VERSION = 1;

/** One event in a relay payload, with Meta's wire names (see README, "The relay protocol"). */
export interface RelayEvent {
  /** Same as the Pixel event's name: Meta dedups on name + ID. */
  event_name: string;
  /** Same as the Pixel call's `eventID`. */
  event_id: string;
  /** Unix seconds, from the browser clock. */
  event_time: number;
  /** `location.href` when the event fired. */
  event_source_url: string;
  /** `document.referrer`, when there is one. */
  referrer_url?: string;
  /** The event's `custom_data`, as passed to the Pixel. */
  custom_data?: CustomData;
}

/** The JSON body the browser POSTs to the relay: relay protocol v1. */
export interface RelayPayload {
  v: typeof RELAY_PROTOCOL_VERSION;
  pixel_id: string;
  events: RelayEvent[];
}

const byteLength = (text: string): number => new Blob([text]).size;

/**
 * Returns `send(event)`, which batches the events of one tick into as few POSTs to `url` as the
 * relay's caps allow (20 events, 64 KiB each).
 */
export function createRelay(url: string, pixelId: string): (event: RelayEvent) => void {
  const head = `{"v":${RELAY_PROTOCOL_VERSION},"pixel_id":${JSON.stringify(pixelId)},"events":[`;
  const empty = byteLength(head) + 2; // `]}`
  const batch: string[] = [];
  const post = (events: string[], keepalive = true) => {
    // A beacon survives the page unloading right after a click. When sendBeacon is missing or
    // throws, a keepalive fetch survives the unload as well. When it returns false, the 64 KiB a
    // page may have in flight in keepalive requests is used up (by this tick's earlier requests, or
    // another script's beacons), and a keepalive fetch would be refused the same way: a plain fetch
    // still arrives unless the page closes first.
    // An array in a template literal is its items joined by commas: the JSON array's inside.
    let body: Blob | string = `${head}${events}]}`;
    let sameOrigin = true;
    try {
      // Offline, sendBeacon still returns true and the request then fails in the network stack:
      // the relay copies waited for nothing. They now leave when the browser is back online (the
      // server relay gives an event_time older than its clock skew the server's time).
      if (navigator.onLine === false)
        return addEventListener('online', () => post(events), { once: true });
      // Same-origin, the relay's usual place, as JSON. Another origin of the site (the relay on
      // api.shop.example for pages on www.shop.example, first-party for the server relay) as
      // text/plain, CORS-safelisted: a JSON request there needs a preflight the relay does not
      // answer, and was dropped after sendBeacon had returned true. `credentials: 'include'`
      // carries the `_fbp`/`_fbc` cookies there too (a beacon always does). A relay URL that does
      // not parse throws here, never out of this microtask into the page.
      sameOrigin = new URL(url, location.href).origin === location.origin;
      body = new Blob([body], { type: sameOrigin ? 'application/json' : 'text/plain' });
      if (keepalive && navigator.sendBeacon(url, body)) return;
      keepalive = false;
    } catch {}
    try {
      // A Blob's type is the request's Content-Type. A keepalive fetch over the 64 KiB in flight
      // (no sendBeacon: Firefox with beacon.enabled off) is rejected as a network error and was
      // lost; it goes once more as a plain fetch (no beacon tried), whose own failure is swallowed.
      // Same-origin only: another origin's relay answers without CORS headers, which fails a fetch
      // that did arrive, and sending it again relayed the event twice.
      // To another origin `no-cors`, as a beacon is: the relay's answer has no CORS headers, and a
      // CORS fetch that had arrived then rejected the same way, and was sent twice.
      fetch(url, { method: 'POST', keepalive, credentials: 'include', body }).catch(
        () => keepalive && sameOrigin && post(events, false),
      );
    } catch {}
  };
  const flush = () => {
    // One oversized event (a huge `custom_data`) goes alone and is refused alone: the events fired
    // with it still arrive.
    let events: string[] = [];
    let bytes = empty;
    for (const json of batch.splice(0)) {
      const size = byteLength(json) + 1;
      if (events.length && (events.length === MAX_EVENTS || bytes + size > MAX_BYTES)) {
        post(events);
        events = [];
        bytes = empty;
      }
      events.push(json);
      bytes += size;
    }
    post(events);
  };
  return (event) => {
    // Serialize now: the page may change `custom_data` before the batch leaves.
    // The first event of a tick schedules the flush.
    if (batch.push(JSON.stringify(event)) < 2) queueMicrotask(flush);
  };
}
