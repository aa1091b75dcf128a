import { vi } from 'vitest';
import type { RelayPayload } from '../src/index.js';

type Fbq = ((...args: unknown[]) => void) & {
  callMethod?: (...args: unknown[]) => void;
  queue: unknown[][];
  [key: string]: unknown;
};

/** The window globals the module touches, as plain fakes (no DOM library). */
export interface FakeBrowser {
  /** Script elements appended to `document.head`. */
  scripts: { tagName: string; async: boolean; src: string }[];
  sendBeacon: ReturnType<typeof vi.fn<(url: string, data: Blob) => boolean>>;
  fetch: ReturnType<typeof vi.fn<(url: string, init: RequestInit) => Promise<Response>>>;
  location: { href: string; origin: string };
  document: { referrer: string };
  /** The page's `window.fbq`, whoever installed it. */
  fbq(): Fbq;
  /** Every payload the relay received so far, beacon or fetch, in order. */
  relayed(): Promise<RelayPayload[]>;
  /** What fbevents.js does when it arrives: take over `fbq` and replay its queue. */
  loadFbevents(): ReturnType<typeof vi.fn<(...args: unknown[]) => void>>;
}

export function fakeBrowser(): FakeBrowser {
  const scripts: FakeBrowser['scripts'] = [];
  const location = {
    href: 'https://shop.example/products/1?utm_source=fb',
    origin: 'https://shop.example',
  };
  const document = {
    referrer: 'https://www.facebook.com/',
    createElement: (tagName: string) => ({ tagName, async: false, src: '' }),
    head: { append: (element: FakeBrowser['scripts'][number]) => scripts.push(element) },
  };
  const sendBeacon = vi.fn((_url: string, _data: Blob) => true);
  const fetch = vi.fn(
    async (_url: string, _init: RequestInit) => new Response(null, { status: 204 }),
  );
  vi.stubGlobal('document', document);
  vi.stubGlobal('location', location);
  vi.stubGlobal('navigator', { sendBeacon });
  vi.stubGlobal('fetch', fetch);
  const fbq = () => (globalThis as unknown as { fbq: Fbq }).fbq;
  return {
    scripts,
    sendBeacon,
    fetch,
    location,
    document,
    fbq,
    async relayed() {
      const bodies = [
        ...(await Promise.all(sendBeacon.mock.calls.map(([, blob]) => blob.text()))),
        ...(await Promise.all(fetch.mock.calls.map(([, init]) => new Response(init.body).text()))),
      ];
      return bodies.map((body) => JSON.parse(body) as RelayPayload);
    },
    loadFbevents() {
      const real = vi.fn<(...args: unknown[]) => void>();
      const stub = fbq();
      stub.callMethod = real;
      for (const args of stub.queue.splice(0)) real(...args);
      return real;
    },
  };
}

/** Removes what the module under test put on the global object, and the stubs. */
export function resetBrowser(): void {
  vi.unstubAllGlobals();
  const globals = globalThis as { fbq?: unknown; _fbq?: unknown };
  delete globals.fbq;
  delete globals._fbq;
}

/** Lets queued microtasks (the relay's batch) run. */
export const nextTick = () => new Promise((resolve) => setTimeout(resolve, 0));

export const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** A fresh copy of the module: its page-wide state (pixels init'ed) starts empty, like a new page. */
export async function freshModule(): Promise<typeof import('../src/index.js')> {
  vi.resetModules();
  return import('../src/index.js');
}
