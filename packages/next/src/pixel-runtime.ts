/**
 * The Pixel on the page, shared by `<MetaPixel/>` and `trackPixel`: which pixels are set up, which
 * event IDs were fired, and the `@capi-kit/browser` trackers of relay mode.
 */
import { createPixel, eventId, type Pixel } from '@capi-kit/browser';
import type { PixelEvent } from '@capi-kit/core';
import { type BootConfig, bootPixel, firedKey, type PixelWindow } from './boot-pixel.js';
import { trackTikTokCopy } from './tiktok-runtime.js';

/** Meta's hosted Pixel library, loaded unless `scriptUrl` says otherwise. */
export const DEFAULT_PIXEL_SCRIPT_URL = 'https://connect.facebook.net/en_US/fbevents.js';

/** Props of {@link MetaPixel}. */
export interface MetaPixelProps {
  /** The Pixel (dataset) ID. */
  pixelId: string;
  /** Where fbevents.js is loaded from (a local stub in tests). Default Meta's `en_US` URL. */
  scriptUrl?: string | undefined;
  /** Events the server already tracked, fired once each with their `event_id` (e.g. the page's `PageView`). */
  events?: readonly PixelEvent[] | undefined;
  /** CSP nonce for the inline script. */
  nonce?: string | undefined;
  /**
   * Your first-party relay endpoint (`@capi-kit/browser`'s protocol): browser-only events (those
   * fired without an `eventID`) are also sent there for your server to forward. With a relay the
   * Pixel is loaded by `@capi-kit/browser` after hydration instead of by an inline script. Next.js
   * does not add `basePath` to it: under `basePath: '/shop'` write `'/shop/capi/events'`.
   */
  relay?: string | false | undefined;
  /** Advanced Matching for `fbq('init')` (the Pixel hashes it; it never goes to the relay). */
  advancedMatching?: Record<string, string> | undefined;
}

/** Options of {@link trackPixel}. */
export interface TrackPixelOptions {
  /** The server event's `event_id` (from `trackConversion`/`withConversion`): the pair is counted once. */
  eventID?: string | undefined;
  /** Send to this pixel only (`trackSingle`) when several are on the page. */
  pixelId?: string | undefined;
  /** `false`: no TikTok Pixel copy of this event (by default it gets one, same ID, when the page has `window.ttq`). */
  tiktok?: boolean | undefined;
}

const pageWindow = (): PixelWindow | undefined =>
  typeof window === 'undefined' ? undefined : (window as unknown as PixelWindow);

/** Relay-mode pixels per Pixel ID: one that only fires, one that also relays. */
const relayed = new Map<string, { direct: Pixel; relayed: Pixel }>();

export const toBootConfig = (props: MetaPixelProps): BootConfig => ({
  id: props.pixelId,
  src: props.scriptUrl ?? DEFAULT_PIXEL_SCRIPT_URL,
  ...(props.advancedMatching && { am: props.advancedMatching }),
  ev: (props.events ?? []).map((e) => ({
    name: e.event_name,
    ...(e.custom_data && { data: e.custom_data }),
    options: { eventID: e.event_id },
  })),
});

/** JSON safe inside an inline `<script>` (no `</script>`, no HTML comment, no U+2028/2029). */
export const toInlineJson = (value: unknown): string =>
  JSON.stringify(value).replace(
    /[<>&\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );

function bootRelayed(relay: string, config: BootConfig): void {
  let pair = relayed.get(config.id);
  if (pair === undefined) {
    // TikTok copies are trackPixel's and <TikTokPixel/>'s, once per ID: not these trackers'.
    const base = {
      pixelId: config.id,
      scriptUrl: config.src,
      tiktok: false,
      ...(config.am && { advancedMatching: config.am }),
    };
    pair = {
      direct: createPixel({ ...base, relay: false }),
      relayed: createPixel({ ...base, relay }),
    };
    relayed.set(config.id, pair);
  }
  const page = pageWindow();
  if (page === undefined) return;
  page.__capiKitPixel ??= { ids: [], fired: {} };
  const registry = page.__capiKitPixel;
  if (!registry.ids.includes(config.id)) registry.ids.push(config.id);
  for (const e of config.ev) {
    const key = firedKey(config.id, e.options.eventID);
    if (registry.fired[key]) continue;
    registry.fired[key] = 1;
    // Server events are already on their way to Meta: the Pixel copy only, no relay copy.
    pair.direct.track(e.name, e.data, e.options);
  }
}

/**
 * What `<MetaPixel/>` does once mounted: sets the Pixel up and fires the events not fired yet
 * (after a client-side navigation, or in relay mode, where no inline script ran). Never throws.
 */
export function startPixel(props: MetaPixelProps): void {
  try {
    const config = toBootConfig(props);
    if (props.relay) bootRelayed(props.relay, config);
    else bootPixel(config);
  } catch {
    // The Pixel never breaks the page.
  }
}

/**
 * Fires a browser Pixel event; returns its `eventID`. Pass the `event_id` the server returned
 * (`trackConversion`, `withConversion`) as `eventID` so Meta counts the pair once. Without an
 * `eventID` a new one is generated and, when `<MetaPixel relay>` is set, the event is also relayed
 * to your server. When the page has the TikTok Pixel (`<TikTokPixel/>`), it gets the event too,
 * with the same ID, in TikTok's names. Never throws; does nothing during a server render.
 * @example trackPixel('CompleteRegistration', {}, { eventID: result.event_id })
 */
export function trackPixel(
  eventName: string,
  custom_data?: Record<string, unknown>,
  options: TrackPixelOptions = {},
): string {
  const id = options.eventID || eventId();
  if (options.tiktok !== false) trackTikTokCopy(eventName, custom_data, id);
  const registry = pageWindow()?.__capiKitPixel;
  // Before <MetaPixel/> ran (or during a server render) there is no Pixel to fire on.
  if (registry === undefined) return id;
  // Every pixel on the page, as `fbq('track')` would send it, unless the caller named one.
  const pixelIds = options.pixelId === undefined ? [...registry.ids] : [options.pixelId];
  for (const pixelId of pixelIds) {
    const key = firedKey(pixelId, id);
    if (registry.fired[key]) continue;
    try {
      const pair = relayed.get(pixelId);
      if (pair !== undefined) {
        registry.fired[key] = 1;
        const tracker = options.eventID ? pair.direct : pair.relayed;
        tracker.track(eventName, custom_data, { eventID: id });
        continue;
      }
      bootPixel({
        id: pixelId,
        src: DEFAULT_PIXEL_SCRIPT_URL,
        ev: [
          { name: eventName, ...(custom_data && { data: custom_data }), options: { eventID: id } },
        ],
      });
    } catch {
      // The Pixel never breaks the page.
    }
  }
  return id;
}
