/**
 * The TikTok Pixel on the page, shared by `<TikTokPixel/>` and `trackPixel`: which pixel codes are
 * loaded and which event IDs were fired. Names and properties come from `@capi-kit/browser`'s
 * `toTikTokPixelEvent`, the same mapping the server's TikTok destination applies, so each Pixel
 * event and its Events API copy deduplicate.
 */
import { type TikTokOptions, toTikTokPixelEvent, trackTikTok } from '@capi-kit/browser';
import type { PixelEvent } from '@capi-kit/core';
import { bootTikTok, type TikTokBootConfig, type TikTokWindow } from './boot-tiktok.js';

/** TikTok's hosted Pixel library, loaded unless `scriptUrl` says otherwise. */
export const DEFAULT_TIKTOK_SCRIPT_URL = 'https://analytics.tiktok.com/i18n/pixel/events.js';

/** Props of {@link TikTokPixel}. */
export interface TikTokPixelProps {
  /** The TikTok pixel code (Events Manager → Web Events). */
  pixelCode: string;
  /** Events the server already tracked, in Meta's names (the same list `<MetaPixel/>` gets), fired once each with their `event_id`. */
  events?: readonly PixelEvent[] | undefined;
  /** CSP nonce for the inline script. */
  nonce?: string | undefined;
  /** Where events.js is loaded from (a local stub in tests). Default TikTok's URL. */
  scriptUrl?: string | undefined;
  /** Meta → TikTok name overrides, e.g. `{ Purchase: 'CompletePayment' }`; give the server's TikTok destination the same map. */
  eventNames?: Readonly<Record<string, string>> | undefined;
}

export const toTikTokBootConfig = (props: TikTokPixelProps): TikTokBootConfig => ({
  code: props.pixelCode,
  src: props.scriptUrl ?? DEFAULT_TIKTOK_SCRIPT_URL,
  ...(props.eventNames && { names: props.eventNames }),
  ev: (props.events ?? []).map((e) => {
    const { event, properties } = toTikTokPixelEvent(e.event_name, e.custom_data, props.eventNames);
    return { name: event, data: properties as Record<string, unknown>, id: e.event_id };
  }),
});

/**
 * What `<TikTokPixel/>` does once mounted: sets the pixel up and fires the events not fired yet
 * (after a client-side navigation, where no inline script runs). Never throws.
 */
export function startTikTok(props: TikTokPixelProps): void {
  try {
    bootTikTok(toTikTokBootConfig(props));
  } catch {
    // The Pixel never breaks the page.
  }
}

/**
 * `trackPixel`'s TikTok copy: fired once per event ID, when the page has the TikTok Pixel
 * (`<TikTokPixel/>`, or TikTok's base code the page carries itself). Never throws.
 */
export function trackTikTokCopy(
  eventName: string,
  custom_data: Record<string, unknown> | undefined,
  eventID: string,
): void {
  try {
    const page = typeof window === 'undefined' ? undefined : (window as unknown as TikTokWindow);
    if (!page?.ttq) return;
    page.__capiKitTikTok ??= { codes: [], fired: {} };
    const registry = page.__capiKitTikTok;
    if (registry.fired[eventID]) return;
    const options: TikTokOptions & { eventID: string } = { eventID };
    if (registry.names) options.eventNames = registry.names;
    if (trackTikTok(eventName, custom_data, options)) registry.fired[eventID] = 1;
  } catch {
    // The Pixel never breaks the page.
  }
}
