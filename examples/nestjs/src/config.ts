import type { TikTokPagePixel } from 'capi-kit-example-shared';

/** Injection token of the example's own settings (what the page needs to render the Pixel). */
export const EXAMPLE_CONFIG = Symbol('EXAMPLE_CONFIG');

/** The example's own settings, from the environment. */
export interface ExampleConfig {
  /** `META_PIXEL_ID`. */
  pixelId: string;
  /** `META_PIXEL_SCRIPT_URL`: where the page loads fbevents.js from (a stub in tests). */
  pixelScriptUrl?: string;
  /** The TikTok Pixel, when `TIKTOK_PIXEL_CODE` and `TIKTOK_ACCESS_TOKEN` are set. */
  tiktok?: TikTokPagePixel;
}

/** The process environment, or the one the contract suite passes to `start`. */
export type Env = Readonly<Record<string, string | undefined>>;
