'use client';
import { eventId } from '@capi-kit/browser';
/**
 * The browser half for Next.js: `<MetaPixel/>` loads the Meta Pixel once and fires the server's
 * events with their `event_id`, `<TikTokPixel/>` does the same for the TikTok Pixel; `trackPixel`
 * fires the browser copy of an event a Server Action tracked, with the ID it returned, on both.
 * One event, counted once by each platform.
 */
import { createElement, type ReactElement, useEffect, useMemo, useSyncExternalStore } from 'react';
import { bootPixel } from './boot-pixel.js';
import { bootTikTok } from './boot-tiktok.js';
import {
  type MetaPixelProps,
  startPixel,
  type TrackPixelOptions,
  toBootConfig,
  toInlineJson,
  trackPixel,
} from './pixel-runtime.js';
import { startTikTok, type TikTokPixelProps, toTikTokBootConfig } from './tiktok-runtime.js';

export {
  DEFAULT_PIXEL_SCRIPT_URL,
  type MetaPixelProps,
  type TrackPixelOptions,
  trackPixel,
} from './pixel-runtime.js';
export {
  DEFAULT_TIKTOK_SCRIPT_URL,
  type TikTokPixelProps,
} from './tiktok-runtime.js';

const noSubscription = () => () => {};

/**
 * Loads the Meta Pixel once per page and fires `events` (the server's, with their `event_id`)
 * once each. Server-rendered as an inline script, so the Pixel fires before hydration; after a
 * client-side navigation the component fires the new page's events itself.
 * @example <MetaPixel pixelId={process.env.META_PIXEL_ID!} events={[{ event_name: 'PageView', event_id }]} />
 */
export function MetaPixel(props: MetaPixelProps): ReactElement | null {
  const config = toBootConfig(props);
  const key = JSON.stringify(config);
  const relay = props.relay || undefined;
  // True on the server and while hydrating, false for a component first mounted on the client:
  // React never runs inline scripts it creates, so those would be dead weight (and a dev warning).
  const serverRendered = useSyncExternalStore(
    noSubscription,
    () => false,
    () => true,
  );
  // biome-ignore lint/correctness/useExhaustiveDependencies: `key` stands for the props it serialises.
  useEffect(() => startPixel(props), [key, relay]);
  if (relay !== undefined || !serverRendered) return null;
  return createElement('script', {
    nonce: props.nonce,
    suppressHydrationWarning: true,
    // biome-ignore lint/security/noDangerouslySetInnerHtml: our own function and JSON escaped by toInlineJson; an inline script is how the Pixel fires before hydration.
    dangerouslySetInnerHTML: { __html: `(${bootPixel.toString()})(${toInlineJson(config)});` },
  });
}

/**
 * Loads the TikTok Pixel once per page (TikTok's base code, `ttq.load`, `ttq.page()`) and fires
 * `events` (the server's, in Meta's names, the list `<MetaPixel/>` gets) once each as
 * `ttq.track(tiktokName, properties, { event_id })`, so TikTok deduplicates them against the
 * Events API copies. Server-rendered as an inline script like `<MetaPixel/>`.
 * @example <TikTokPixel pixelCode={process.env.TIKTOK_PIXEL_CODE!} events={events} nonce={nonce} />
 */
export function TikTokPixel(props: TikTokPixelProps): ReactElement | null {
  const config = toTikTokBootConfig(props);
  const key = JSON.stringify(config);
  const serverRendered = useSyncExternalStore(
    noSubscription,
    () => false,
    () => true,
  );
  // biome-ignore lint/correctness/useExhaustiveDependencies: `key` stands for the props it serialises.
  useEffect(() => startTikTok(props), [key]);
  if (!serverRendered) return null;
  return createElement('script', {
    nonce: props.nonce,
    suppressHydrationWarning: true,
    // biome-ignore lint/security/noDangerouslySetInnerHtml: our own function and JSON escaped by toInlineJson; an inline script is how the Pixel fires before hydration.
    dangerouslySetInnerHTML: { __html: `(${bootTikTok.toString()})(${toInlineJson(config)});` },
  });
}

/** What {@link usePixel} returns. */
export interface UsePixel {
  /** {@link trackPixel}, bound to the hook's pixel when one was given. */
  track(
    eventName: string,
    custom_data?: Record<string, unknown>,
    options?: TrackPixelOptions,
  ): string;
  /** A fresh event ID, e.g. to send to a Server Action before firing the Pixel. */
  eventId(): string;
}

/**
 * The Pixel from a client component: `track` fires with the server's `event_id` as `eventID`.
 * @example const pixel = usePixel(); pixel.track('Lead', {}, { eventID: state.event_id });
 */
export function usePixel(options: { pixelId?: string } = {}): UsePixel {
  const { pixelId } = options;
  return useMemo(
    () => ({
      track: (eventName, custom_data, trackOptions = {}) =>
        trackPixel(
          eventName,
          custom_data,
          pixelId === undefined ? trackOptions : { pixelId, ...trackOptions },
        ),
      eventId,
    }),
    [pixelId],
  );
}
