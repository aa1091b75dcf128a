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

/** Returns `send(event)`, which batches the events of one tick into one POST to `url`. */
export function createRelay(url: string, pixelId: string): (event: RelayEvent) => void {
  let batch: string[] = [];
  const flush = () => {
    const body = `{"v":${RELAY_PROTOCOL_VERSION},"pixel_id":${JSON.stringify(pixelId)},"events":[${batch.join(',')}]}`;
    batch = [];
    // A beacon survives the page unloading right after a click. Its `application/json` type is not
    // CORS-safelisted: fine same-origin (the relay's place), refused by some browsers cross-origin.
    // When sendBeacon is missing, throws, or returns false (queue full), fetch keepalive instead.
    try {
      if (navigator.sendBeacon(url, new Blob([body], { type: 'application/json' }))) return;
    } catch {}
    try {
      fetch(url, {
        method: 'POST',
        keepalive: true,
        credentials: 'same-origin',
        headers: { 'content-type': 'application/json' },
        body,
      }).catch(() => {});
    } catch {}
  };
  return (event) => {
    // Serialize now: the page may change `custom_data` before the batch leaves.
    const json = JSON.stringify(event);
    if (!batch.length) queueMicrotask(flush);
    batch.push(json);
  };
}
