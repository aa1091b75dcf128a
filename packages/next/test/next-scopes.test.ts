import { AsyncLocalStorage } from 'node:async_hooks';
import type { NextCapi } from '@capi-kit/next';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { graphOptions, mock, setUpMockGraph, UA } from './mock-graph.ts';

// trackConversion under Next's own request scopes, with the real `headers()`/`cookies()` (no mock
// of next/headers here): the request store Next makes for a route handler or a page render
// (next/dist/server/async-storage/request-store, as app-route's module and app-render call it),
// and Next's own `unstable_cache`.
// Next puts AsyncLocalStorage on globalThis before loading its modules.
(globalThis as { AsyncLocalStorage?: unknown }).AsyncLocalStorage ??= AsyncLocalStorage;
const { workAsyncStorage } = await import(
  'next/dist/server/app-render/work-async-storage.external.js'
);
const { workUnitAsyncStorage } = await import(
  'next/dist/server/app-render/work-unit-async-storage.external.js'
);
const { createRequestStoreForAPI, createRequestStoreForRender } = await import(
  'next/dist/server/async-storage/request-store.js'
);
const { unstable_cache } = await import('next/cache.js');
const { createNextCapi } = await import('@capi-kit/next');

const FBP = 'fb.1.1700000000000.42';

/** A `fetch('/api/stock')` from the page `/cart`, as Chromium sends it, behind capiProxy. */
const stockFetch = (extra: Record<string, string> = {}) => ({
  host: 'shop.example.com',
  accept: '*/*',
  'sec-fetch-dest': 'empty',
  'sec-fetch-mode': 'cors',
  'sec-fetch-site': 'same-origin',
  referer: 'http://shop.example.com/cart',
  'user-agent': UA,
  cookie: `_fbp=${FBP}`,
  'x-capi-kit-url': '/api/stock',
  ...extra,
});

/** The work store fields `headers()`/`cookies()`/`unstable_cache` read, for route `route`. */
const workStore = (route: string) =>
  ({
    route,
    forceStatic: false,
    dynamicShouldError: false,
    isDraftMode: false,
    isOnDemandRevalidate: false,
    // unstable_cache's store: a miss every time, nothing kept.
    incrementalCache: {
      generateSimpleCacheKey: async (key: string) => key,
      get: async () => null,
      set: async () => undefined,
    },
  }) as never;

type Store = ReturnType<typeof createRequestStoreForAPI>;

/** Runs `run` in the request scope Next gives a route handler (`api`) or a page render. */
const inScope = <T>(
  kind: 'api' | 'render',
  route: string,
  headers: Record<string, string>,
  run: () => Promise<T>,
): Promise<T> => {
  const req = { headers, url: route } as never;
  const url = { pathname: route, search: '' };
  const tags = { tags: [], expirationsByCacheKind: new Map() } as never;
  const store: Store =
    kind === 'api'
      ? createRequestStoreForAPI(req, url, tags, undefined, undefined as never, undefined)
      : createRequestStoreForRender(
          req,
          undefined,
          url,
          {},
          tags,
          undefined,
          undefined as never,
          false,
          undefined,
          null,
          null,
          undefined,
        );
  return workAsyncStorage.run(workStore(route), () => workUnitAsyncStorage.run(store, run));
};

let capi: NextCapi | undefined;
const bind = () => {
  // The caller's keep-alive: Next's after() needs the whole server around it.
  capi = createNextCapi({ ...graphOptions(), waitUntil: () => undefined });
  return capi;
};

setUpMockGraph();
afterEach(async () => {
  await capi?.close();
  vi.restoreAllMocks();
});

describe('trackConversion in a route handler not wrapped in withCapi', () => {
  it("reads a page's fetch() of the route as a request from that page (its Referer), not a page view of the route", async () => {
    const { trackConversion } = bind();
    const result = await inScope('api', '/api/stock', stockFetch(), () =>
      trackConversion('AddToCart'),
    );
    expect(result).toMatchObject({ accepted: true, issues: [] });
    const [event] = await mock.waitForEvents(1);
    expect(event?.event).toMatchObject({
      event_name: 'AddToCart',
      event_source_url: 'http://shop.example.com/cart',
      user_data: { fbp: FBP },
    });
    expect(event?.event).not.toHaveProperty('referrer_url');
  });

  it('without capiProxy, points to withCapi rather than to a proxy that would not help', async () => {
    const error = vi.spyOn(console, 'error').mockImplementation(() => {});
    const { trackConversion } = bind();
    const { 'x-capi-kit-url': _, ...headers } = stockFetch();
    const fetched = await inScope('api', '/api/stock', headers, () => trackConversion('AddToCart'));
    // A fetch from a page: its URL is the Referer, which the route handler has without a proxy.
    expect(fetched).toMatchObject({ accepted: true });
    // A browser's own load of the route (a link to it): the route's URL is all it lacks.
    const opened = await inScope(
      'api',
      '/api/stock',
      {
        ...headers,
        accept: 'text/html',
        'sec-fetch-dest': 'document',
        'sec-fetch-mode': 'navigate',
      },
      () => trackConversion('ViewContent'),
    );
    expect(opened.accepted).toBe(false);
    const told = error.mock.calls.map((call) => String(call[0]));
    expect(told).toEqual([expect.stringContaining('withCapi(')]);
    expect(told[0]).not.toContain('capiProxy did not run');
  });

  it("still reads a page render's fetch (a client-side navigation) as the page view of its URL", async () => {
    const { trackConversion } = bind();
    await inScope('render', '/pricing', { ...stockFetch(), 'x-capi-kit-url': '/pricing' }, () =>
      trackConversion('PageView'),
    );
    const [view] = await mock.waitForEvents(1);
    expect(view?.event).toMatchObject({
      event_source_url: 'http://shop.example.com/pricing',
      referrer_url: 'http://shop.example.com/cart',
    });
  });
});

describe('trackConversion inside a cached function', () => {
  it('tracks nothing inside unstable_cache, returns an empty event_id and says why once', async () => {
    // Next's headers() throws there ("can't be read inside `unstable_cache()`", Next 16.4), and the
    // event went out without request data, under one event_id the cache then gave every visitor.
    const error = vi.spyOn(console, 'error').mockImplementation(() => {});
    const { trackConversion } = bind();
    const cached = unstable_cache(async (sku: string) => ({
      sku,
      ...(await trackConversion('ViewContent', { custom_data: { content_ids: [sku] } })),
    }));
    const first = await inScope('render', '/product', stockFetch(), () => cached('sku-1'));
    const second = await inScope('render', '/product', stockFetch(), () => cached('sku-2'));
    expect(first).toMatchObject({ sku: 'sku-1', event_id: '', accepted: false });
    expect(second).toMatchObject({ event_id: '' });
    const told = error.mock.calls.map((call) => String(call[0]));
    expect(told).toEqual([expect.stringContaining('unstable_cache')]);
    expect(told[0]).toContain("'use cache'");
    await capi?.flush();
    expect(mock.events()).toEqual([]);
  });

  it('tracks nothing inside unstable_cache in a withCapi handler, where track() is bound to the request', async () => {
    // The handler's binding reaches into the cached function (AsyncLocalStorage), so track() went
    // out with the first visitor's data, under an event_id the cache gave every later one.
    const error = vi.spyOn(console, 'error').mockImplementation(() => {});
    const { withCapi, track, trackConversion } = bind();
    const cached = unstable_cache(async () => ({
      tracked: track('ViewContent'),
      converted: await trackConversion('ViewContent'),
    }));
    const GET = withCapi(async () => Response.json(await cached()));
    const request = () => new Request('http://localhost:3000/api/stock', { headers: stockFetch() });
    const body = await inScope('api', '/api/stock', stockFetch(), async () =>
      (await GET(request(), {})).json(),
    );
    expect(body).toMatchObject({ tracked: { event_id: '' }, converted: { event_id: '' } });
    expect(error.mock.calls.map((call) => String(call[0]))).toEqual([
      expect.stringContaining('unstable_cache'),
    ]);
    // Outside the cached function the handler's track() still tracks.
    const POST = withCapi(async () => Response.json(track('Lead')));
    await inScope('api', '/api/stock', stockFetch(), () => POST(request(), {}));
    const events = await mock.waitForEvents(1);
    expect(events.map((e) => e.event.event_name)).toEqual(['Lead']);
  });

  it("tracks nothing in a 'use cache' function, whose store Next's headers() refuses alike", async () => {
    // What the 'use cache' wrapper runs the function in (next/dist/server/use-cache, Next 16.4):
    // a work-unit store of type 'cache'; the real headers() throws its own error there.
    const error = vi.spyOn(console, 'error').mockImplementation(() => {});
    const { trackConversion } = bind();
    const result = await workAsyncStorage.run(workStore('/product'), () =>
      workUnitAsyncStorage.run(
        { type: 'cache', phase: 'render', implicitTags: undefined } as never,
        () => trackConversion('ViewContent'),
      ),
    );
    expect(result).toMatchObject({ event_id: '', accepted: false });
    expect(error.mock.calls.map((call) => String(call[0]))).toEqual([
      expect.stringContaining("'use cache'"),
    ]);
    await capi?.flush();
    expect(mock.events()).toEqual([]);
  });
});
