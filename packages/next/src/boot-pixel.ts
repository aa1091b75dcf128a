/** What {@link bootPixel} needs, short keys because it is inlined into every page. */
export interface BootConfig {
  /** Pixel ID. */
  id: string;
  /** fbevents.js URL. */
  src: string;
  /** Advanced Matching for `fbq('init')`. */
  am?: Record<string, string> | undefined;
  /** Events to fire once each: name, custom data and the `fbq` options holding the event ID. */
  ev: { name: string; data?: Record<string, unknown> | undefined; options: { eventID: string } }[];
}

/** Per-page state shared by the inline script and the client module. */
export interface PixelRegistry {
  /** Pixel IDs initialised on this page, in order. */
  ids: string[];
  /**
   * Events already fired, per pixel: `firedKey(pixelId, eventID)`. Keyed by the event ID alone, a
   * second pixel on the page never got an event the first had fired.
   */
  fired: Record<string, 1>;
}

/** Meta's `fbq`: the base-code queue stub until fbevents.js loads and sets `callMethod`. */
interface Fbq {
  (...args: unknown[]): void;
  callMethod?: (...args: unknown[]) => void;
  queue: unknown[];
  push: Fbq;
  loaded: boolean;
  version: string;
  disablePushState?: boolean;
  allowDuplicatePageViews?: boolean;
}

/** The key of `PixelRegistry.fired` for one event on one pixel (`bootPixel` writes it inline). */
export const firedKey = (pixelId: string, eventID: string): string => `${pixelId} ${eventID}`;

/** The page globals the Pixel uses. */
export interface PixelWindow {
  fbq?: Fbq;
  _fbq?: Fbq;
  __capiKitPixel?: PixelRegistry;
}

/**
 * Installs Meta's Pixel base code once per page (queue stub + async fbevents.js), initialises the
 * pixel once, and fires each event once per event ID with `eventID` for deduplication. Runs both
 * as the server-rendered inline script (so the Pixel fires before hydration) and from the client
 * component (after client-side navigations, where inline scripts do not run): `window.__capiKitPixel`
 * remembers what was done. It is serialised with `Function.prototype.toString`, so it must not
 * reference anything outside its own body (test/client.test.ts runs it alone in a fresh realm).
 * https://developers.facebook.com/documentation/ads-commerce/conversions-api/deduplicate-pixel-and-server-events
 */
export function bootPixel(c: BootConfig): void {
  const w = window as unknown as PixelWindow;
  w.__capiKitPixel ??= { ids: [], fired: {} };
  const registry = w.__capiKitPixel;
  let fbq = w.fbq;
  if (!fbq) {
    // Meta's base code: calls wait in `queue` until fbevents.js sets `callMethod` and replays them.
    const stub = ((...args: unknown[]) => {
      if (stub.callMethod) stub.callMethod(...args);
      else stub.queue.push(args);
    }) as Fbq;
    stub.push = stub;
    stub.loaded = true;
    stub.version = '2.0';
    stub.queue = [];
    w.fbq = stub;
    w._fbq ??= stub;
    fbq = stub;
    const script = document.createElement('script');
    script.async = true;
    script.src = c.src;
    (document.head || document.documentElement).appendChild(script);
  }
  // PageViews come with the server's event IDs; the Pixel's own history-change PageViews would not.
  // https://developers.facebook.com/documentation/meta-pixel/implementation/tag_spa
  fbq.disablePushState = true;
  fbq.allowDuplicatePageViews = true;
  if (!registry.ids.includes(c.id)) {
    registry.ids.push(c.id);
    if (c.am) fbq('init', c.id, c.am);
    else fbq('init', c.id);
  }
  // Meta's standard events go through `track`, anything else through `trackCustom`.
  const standard =
    'AddPaymentInfo AddToCart AddToWishlist CompleteRegistration Contact CustomizeProduct Donate FindLocation InitiateCheckout Lead PageView Purchase Schedule Search StartTrial SubmitApplication Subscribe ViewContent'.split(
      ' ',
    );
  for (const e of c.ev) {
    // firedKey(c.id, eventID), written out: this function runs alone as an inline script.
    const key = `${c.id} ${e.options.eventID}`;
    if (registry.fired[key]) continue;
    registry.fired[key] = 1;
    // With several pixels on the page, `track` would send to all of them: address this one.
    const single = registry.ids.length > 1;
    const method = `track${single ? 'Single' : ''}${standard.includes(e.name) ? '' : 'Custom'}`;
    if (single) fbq(method, c.id, e.name, e.data ?? {}, e.options);
    else fbq(method, e.name, e.data ?? {}, e.options);
  }
}
