import { eventId } from './event-id.js';
import {
  type CustomData,
  type EventName,
  STANDARD_EVENTS,
  type TrackArgs,
  type TrackOptions,
} from './events.js';
import { ensureFbq, type PixelGlobals } from './fbq.js';
import { createRelay, type RelayEvent } from './relay.js';
import { type TikTokOptions, trackTikTok } from './tiktok.js';

/** Where fbevents.js is loaded from unless `scriptUrl` says otherwise. */
export const DEFAULT_SCRIPT_URL = 'https://connect.facebook.net/en_US/fbevents.js';

/** Where events are relayed unless `relay` says otherwise. */
export const DEFAULT_RELAY_PATH = '/capi/events';

/** Pixel Advanced Matching keys (`fbq('init', id, data)`); the Pixel hashes them itself. */
export interface AdvancedMatching {
  em?: string;
  ph?: string;
  fn?: string;
  ln?: string;
  ge?: string;
  db?: string;
  ct?: string;
  st?: string;
  zp?: string;
  country?: string;
  external_id?: string;
}

/** Options of {@link createPixel}. */
export interface PixelOptions {
  /** The Pixel (dataset) ID. */
  pixelId: string;
  /** URL of your relay endpoint (on the page's site), or `false` (or `''`) for the Pixel alone. Default `/capi/events`. */
  relay?: string | false;
  /** Where to load fbevents.js from. Default Meta's `en_US` URL. */
  scriptUrl?: string;
  /** Inject fbevents.js when the page has no `fbq` yet. `false`: stub only, you load the script (e.g. after consent; not Meta's snippet, which stops when `fbq` exists). Default `true`. */
  autoLoad?: boolean;
  /** Advanced Matching for the Pixel only: it never goes to the relay. */
  advancedMatching?: AdvancedMatching;
  /**
   * The TikTok Pixel copy of each event (`ttq.track`, same event ID), sent whenever the page has
   * `window.ttq`. Options to rename events or address one TikTok pixel; `false` turns it off.
   */
  tiktok?: boolean | TikTokOptions;
}

/** A Pixel whose every event is also relayed to your server with the same event ID. */
export interface Pixel {
  /**
   * Fires an event on the Pixel and relays it; returns its `eventID`. Non-standard names use `trackCustom`.
   * @example pixel.track('Purchase', { value: 42, currency: 'USD' }, { eventID: order.id })
   */
  track<N extends EventName>(eventName: N, ...args: TrackArgs<N>): string;
  /** Fires a custom event (`fbq('trackCustom')`) and relays it; returns its `eventID`. */
  trackCustom(eventName: string, custom_data?: CustomData, options?: TrackOptions): string;
  /** Fires PageView for the current `location.href`; call it on load and on every SPA route change. */
  pageView(options?: TrackOptions): string;
  /** A fresh event ID, e.g. to share with your server before the event fires. */
  eventId(): string;
}

/**
 * Loads the Pixel (once per page) and returns a tracker that sends each event twice: through the
 * Pixel and through your first-party relay (`navigator.sendBeacon`), both with one `eventID` so
 * Meta counts it once; and, when the page has the TikTok Pixel, a third time through `ttq.track`
 * with the same ID. Never throws: a blocked Pixel still leaves the relay copy.
 * https://developers.facebook.com/documentation/ads-commerce/conversions-api/deduplicate-pixel-and-server-events
 * @example const pixel = createPixel({ pixelId: '1234567890' }); pixel.pageView();
 */
export function createPixel(options: PixelOptions): Pixel {
  const pixelOptions = options;
  // A string whatever the page passed: the relay refuses a `pixel_id` that is not one (a number
  // from a JSON config), and an unset one (`process.env.…` missing at build) left the body no JSON
  // at all. As "undefined" it is refused as an unknown pixel, which the server's log explains.
  const pixelId = `${options.pixelId}`;
  let send: ((event: RelayEvent) => void) | undefined;
  // Pixel IDs init'ed on this page. Once there are two, `fbq('track')` would fire every event on
  // both pixels while the relay sends it for one, so events go through `trackSingle` instead.
  let initialized: Set<string> | undefined;
  try {
    const { relay = DEFAULT_RELAY_PATH, advancedMatching } = options;
    // `''` (an empty environment variable) relays nothing, like `false`: as a URL it is the page
    // itself, and every beacon was a POST to the page (to /checkout, say). `true`, from JavaScript
    // (the server adapters' `relay: true`), is the default path: as a URL it was `true` next to
    // the page (/products/true), a 404 for every relay copy.
    if (relay)
      send = createRelay(relay === (true as unknown) ? DEFAULT_RELAY_PATH : relay, pixelId);
    const fbq = ensureFbq(options.scriptUrl ?? DEFAULT_SCRIPT_URL, options.autoLoad !== false);
    // Kept on the page's `fbq`, not in this module: a second copy of the module on the page (two
    // bundles, or one loaded under two URLs) saw only its own pixel, init'ed it again and fired
    // `fbq('track')`, which the Pixel sends to every pixel on the page.
    initialized = fbq.capiKit ??= new Set();
    if (!initialized.has(pixelId)) {
      initialized.add(pixelId);
      if (advancedMatching) fbq('init', pixelId, advancedMatching);
      else fbq('init', pixelId);
    }
  } catch {}

  const fire = (
    custom: boolean,
    eventName: string,
    custom_data?: CustomData,
    options?: TrackOptions,
  ): string => {
    // An eventID with no string form (a Symbol, an object without a prototype) threw from here
    // into the page; it now gets a fresh ID, as an empty one does, for all three copies.
    let eventID = eventId();
    // The tracker's `tiktok` is read per event under this guard: a getter that throws (a config
    // proxy, a lazy settings object) threw out of createPixel, and one inside it (`eventNames`)
    // out of every track(), spread per event outside any guard. Unreadable, the TikTok Pixel copy
    // is off rather than sent under names the server's copy may not carry (that copy still goes).
    let tiktok: PixelOptions['tiktok'] = false;
    try {
      eventID = `${options?.eventID ?? ''}` || eventID;
      tiktok = options?.tiktok !== false && pixelOptions.tiktok;
    } catch {}
    try {
      custom ||= !(STANDARD_EVENTS as readonly string[]).includes(eventName);
      const single = initialized!.size > 1;
      const method = `track${single ? 'Single' : ''}${custom ? 'Custom' : ''}`;
      const args = [eventName, custom_data ?? {}, { eventID }];
      (globalThis as PixelGlobals).fbq!(method, ...(single ? [pixelId, ...args] : args));
    } catch {}
    // Looked up per event (trackTikTok reads `window.ttq` then): the TikTok base code may be
    // added after this tracker, by a tag manager or once consent is given.
    if (tiktok !== false) {
      // Its options as the prototype, not spread: they are read inside trackTikTok's guard.
      trackTikTok(eventName, custom_data, { eventID, __proto__: tiktok } as TikTokOptions & {
        eventID: string;
      });
    }
    try {
      if (send) {
        const event: RelayEvent = {
          event_name: eventName,
          event_id: eventID,
          event_time: Math.floor(Date.now() / 1000),
          event_source_url: location.href,
        };
        if (document.referrer) event.referrer_url = document.referrer;
        if (custom_data) event.custom_data = custom_data;
        send(event);
      }
    } catch {}
    return eventID;
  };

  return {
    track: ((eventName: string, custom_data?: CustomData, options?: TrackOptions) =>
      fire(false, eventName, custom_data, options)) as Pixel['track'],
    trackCustom: (eventName, custom_data, options) => fire(true, eventName, custom_data, options),
    pageView: (options) => fire(false, 'PageView', undefined, options),
    eventId,
  };
}
