/** Meta's global `fbq`: the base-code queue stub until fbevents.js loads and sets `callMethod`. */
export interface Fbq {
  (...args: unknown[]): void;
  callMethod?: (...args: unknown[]) => void;
  queue: unknown[][];
  push: Fbq;
  loaded: boolean;
  version: string;
  disablePushState?: boolean;
  allowDuplicatePageViews?: boolean;
  /** Pixel IDs createPixel init'ed, shared by every copy of this module on the page. */
  capiKit?: Set<string>;
}

/** The globals the Pixel base code defines on `window`. */
export type PixelGlobals = { fbq?: Fbq; _fbq?: Fbq };

/**
 * Returns the page's `fbq`. When there is none, installs the base-code queue stub (calls wait in
 * `fbq.queue` until fbevents.js replays them) and, if `load`, injects the script once.
 */
export function ensureFbq(scriptUrl: string, load: boolean): Fbq {
  const globals = globalThis as PixelGlobals;
  let fbq = globals.fbq;
  if (!fbq) {
    // Read first: in a server render this throws before anything is left on the server's globals.
    const head = document.head;
    const stub = ((...args: unknown[]) => {
      if (stub.callMethod) stub.callMethod(...args);
      else stub.queue.push(args);
    }) as Fbq;
    stub.push = stub;
    stub.loaded = true;
    stub.version = '2.0';
    stub.queue = [];
    globals.fbq = stub;
    globals._fbq ??= stub;
    fbq = stub;
    // Under Trusted Types (CSP `require-trusted-types-for 'script'`) setting `src` throws. Caught
    // here, so the pixel is still init'ed and its events queued for the fbevents.js the page loads.
    if (load)
      try {
        const script = document.createElement('script');
        script.async = true;
        script.src = scriptUrl;
        head.append(script);
      } catch {}
  }
  // pageView() owns PageViews. Left on, the Pixel fires its own PageView on every history change
  // with an ID the relay never sees, and drops explicit PageViews after the first as duplicates.
  // https://developers.facebook.com/documentation/meta-pixel/implementation/tag_spa
  fbq.disablePushState = true;
  fbq.allowDuplicatePageViews = true;
  return fbq;
}
