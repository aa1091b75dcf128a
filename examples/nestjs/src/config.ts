/** Injection token of the example's own settings (what the page needs to render the Pixel). */
export const EXAMPLE_CONFIG = Symbol('EXAMPLE_CONFIG');

/** The example's own settings, from the environment. */
export interface ExampleConfig {
  /** `META_PIXEL_ID`. */
  pixelId: string;
  /** `META_PIXEL_SCRIPT_URL`: where the page loads fbevents.js from (a stub in tests). */
  pixelScriptUrl?: string;
}

/** The process environment, or the one the contract suite passes to `start`. */
export type Env = Readonly<Record<string, string | undefined>>;

/** `TRUST_PROXY` as Express spells it: `true`, `false`, a hop count, or addresses and presets. */
export function parseTrustProxy(value: string | undefined): boolean | number | string {
  if (value === undefined || value === '' || value === 'false') return false;
  if (value === 'true') return true;
  return /^\d+$/.test(value) ? Number(value) : value;
}
