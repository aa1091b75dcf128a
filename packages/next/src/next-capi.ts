import {
  type CapiAdapter,
  type CapiAdapterOptions,
  type CapiClient,
  type CookieToSet,
  conversionCounts,
  type EventName,
  newEventId,
  optionsRedactor,
  type RequestContext,
  type RequestContextOptions,
  type ServerEventInput,
  type TrackParams,
  type TrackParamsOrNone,
  type TrackResult,
} from '@capi-kit/core';
import { requestWaitUntil, type WaitUntil } from './keep-alive.js';
import {
  inActionPhase,
  inCacheScope,
  inCacheScopeNow,
  isRedirectError,
  loadNextHeaders,
  loadWorkUnit,
  rethrowNextErrors,
} from './next-runtime.js';
import {
  duringBuild,
  IN_BROWSER,
  inBrowser,
  isPrefetchRequest,
  isStaticRender,
  isStaticRequest,
  routerReloads,
} from './request-kind.js';
import {
  cookieValue,
  redirectResponseOf,
  releaseBody,
  requestFromScope,
  requestInput,
  URL_HEADER,
  withSetCookies,
  writeCookies,
} from './request-scope.js';
import { createRequestStore } from './request-store.js';
import { type MadeAdapter, ownedClients, refusedAdapter, sharedAdapter } from './shared-clients.js';

/**
 * Options of {@link createNextCapi}: `createCapi`'s (credentials fall back to `META_*` env vars)
 * and the request-context options (`trustProxy`, `platform`, `consent`…), or a shared `client`.
 * `waitUntil` is the caller's keep-alive (e.g. `@vercel/functions`' or OpenNext's); when unset,
 * delivery is kept alive with Next's `after()`, then Vercel's request context.
 */
export type NextCapiOptions = CapiAdapterOptions;

/** Tracks one event from a Server Action, a Server Component or a `withCapi` route handler. */
export interface TrackConversion {
  /**
   * Tracks `eventName` with the current request's context; resolves with the `event_id` to give
   * the browser Pixel. Never rejects because of capi-kit (Next's own control-flow errors pass through).
   * @example const { event_id } = await trackConversion('Lead', { user_data: { em: email } });
   */
  <Name extends EventName>(eventName: Name, params?: TrackParams<Name>): Promise<TrackResult>;
  /** Tracks a complete event input with the current request's context. */
  <Name extends EventName>(event: ServerEventInput<Name>): Promise<TrackResult>;
}

/**
 * What a `withConversion` action resolves with: its own result (a plain object, or `{}` for none)
 * plus the server event's `event_id` for the browser Pixel's `eventID`; absent when `map` returned
 * `null` (nothing tracked).
 */
export type WithEventId<R> =
  | (Extract<R, object> & { event_id?: string })
  | ([Exclude<R, object>] extends [never] ? never : { event_id?: string });

/**
 * The event's data from an action's result and arguments (`result` is `undefined` after a
 * `redirect()`). Return `null` to track nothing, e.g. when the action returned a validation error.
 * Write it `async` in a `'use server'` file: Next 15 rejects any function there that is not.
 */
export type ConversionMap<Args extends unknown[], R, Name extends EventName = EventName> = (
  result: R | undefined,
  ...args: Args
) => TrackParamsOrNone<Name> | null | Promise<TrackParamsOrNone<Name> | null>;

/**
 * Options of `withCapi`: an event to track once the handler answered with a status below 400.
 * Typed by `event` (inferred at the `withCapi` call): a `Purchase` map returns `value` and `currency`.
 */
export interface WithCapiOptions<Name extends EventName = EventName> {
  /** Tracked after a response with status < 400, once it is handed back (a `redirect()` too; skipped when the handler throws). */
  event?: Name | undefined;
  /**
   * The event's data, from copies of the request and the response (so either body can be read
   * again). Returning `undefined` tracks the bare event.
   * @example map: async (request) => ({ user_data: { em: (await request.json()).email } })
   */
  map?:
    | ((
        request: Request,
        response: Response,
      ) => TrackParamsOrNone<Name> | Promise<TrackParamsOrNone<Name>>)
    | undefined;
}

/** The Next.js binding: one lazily created client and the helpers bound to it. */
export interface NextCapi {
  /** The delivery client, created on first use (so `next build` runs without credentials). Throws when misconfigured. */
  readonly client: CapiClient;
  /** Tracks from a Server Action or Server Component (reads `headers()`/`cookies()`), or inside `withCapi`. */
  readonly trackConversion: TrackConversion;
  /**
   * Wraps a Server Action: runs it, then tracks `eventName` (also after a `redirect()`, which is a
   * success; never after a throw, nor when `map` returns `null`) and adds the tracked `event_id`
   * to the action's result for the Pixel.
   * @example export const signup = withConversion('CompleteRegistration', saveUser, async (_r, form) => ({ user_data: { em: String(form.get('email')) } }));
   */
  withConversion<
    Args extends unknown[],
    // biome-ignore lint/suspicious/noConfusingVoidType: `void` lets actions that return nothing be wrapped.
    R extends object | undefined | void,
    Name extends EventName = EventName,
  >(
    eventName: Name,
    action: (...args: Args) => Promise<R>,
    // A `Purchase` requires `map` (its value and currency come from somewhere), as Express's
    // `trackConversion`, Fastify's `routeConversion` and Nest's `@TrackConversion` do.
    ...map: [Name] extends ['Purchase']
      ? [map: ConversionMap<Args, R, Name>]
      : [map?: ConversionMap<Args, R, Name> | undefined]
  ): (...args: Args) => Promise<WithEventId<R>>;
  /**
   * Wraps an App Router route handler: computes the request context, makes `track` request-bound
   * for the handler's duration, appends the `_fbp`/`_fbc` `Set-Cookie` headers to its response and
   * tracks `options.event` after a response below 400.
   * @example export const POST = withCapi(async (request) => Response.json(track('Lead', { user_data: { em } })));
   */
  withCapi<Req extends Request, Ctx, Name extends EventName = EventName>(
    handler: (request: Req, context: Ctx) => Response | Promise<Response>,
    options?: WithCapiOptions<Name>,
  ): (request: Req, context: Ctx) => Promise<Response>;
  /**
   * Tracks synchronously with the request of the enclosing `withCapi` handler (bound through
   * `AsyncLocalStorage`, so no `request` argument). Outside one it tracks without request data.
   * @example const { event_id } = track('Lead', { user_data: { em: email } });
   */
  track<Name extends EventName>(eventName: Name, params?: TrackParams<Name>): TrackResult;
  /** Tracks a complete event input with the enclosing `withCapi` handler's request. */
  track<Name extends EventName>(event: ServerEventInput<Name>): TrackResult;
  /** A fresh event ID, to share between the Pixel and a server event tracked later. */
  eventId(): string;
  /** The request context of the enclosing `withCapi` handler, if any. */
  requestContext(): RequestContext | undefined;
  /**
   * How this binding reads a request (`trustProxy`, `consent`, `destinations`…, never credentials),
   * so a relay route or proxy given this binding reads requests the same way.
   */
  readonly requestContextOptions: Readonly<RequestContextOptions>;
  /** The `waitUntil` this binding was given, so a relay route given it keeps deliveries alive alike. */
  readonly waitUntil: WaitUntil | undefined;
  /**
   * Sends what is queued now (see `CapiClient.flush`), in every client `createNextCapi` created in
   * this process: Next.js may load your `lib/capi.ts` once per bundle layer, each with a client.
   */
  flush(): Promise<void>;
  /**
   * Flushes and closes every client `createNextCapi` created in this process (a shared `client`
   * stays open). Called again while a close runs, it waits for that close too, and brings its
   * deadline forward when its own `timeoutMs` ends sooner (core `client.close()`).
   */
  close(options?: { timeoutMs?: number }): Promise<void>;
}

interface Binding {
  context: RequestContext | undefined;
  waitUntil: WaitUntil | undefined;
  /** A page load whose URL capiProxy did not pass on (no proxy, or a matcher that skips it). */
  noPageUrl?: boolean;
  /** A route handler's request read through `headers()` (not wrapped in `withCapi`). */
  routeHandler?: boolean;
  /** A route handler that serves no visit (`force-static`, a prefetch): nothing to track. */
  noRequest?: boolean;
}

/** What tracking returns where there is no visit (`force-static`): no event, an empty ID. */
const noVisit = (): TrackResult => ({ event_id: '', accepted: false, issues: [], reason: 'error' });

/** What `trackConversion` finds in a render made without a request (`force-static`). */
const NO_REQUEST = Symbol('no request');

/** The `event_id` the caller gave, when it is a non-empty string that reads without throwing. */
const givenEventId = (
  nameOrEvent: EventName | ServerEventInput,
  params: TrackParams | undefined,
): string | undefined => {
  try {
    const id = (typeof nameOrEvent === 'string' ? params : nameOrEvent)?.event_id;
    return typeof id === 'string' && id !== '' ? id : undefined;
  } catch {
    // A throwing getter: a fresh ID is as good for a Pixel copy.
    return undefined;
  }
};

const isPlainObject = (value: unknown): value is Record<string, unknown> => {
  if (value === null || typeof value !== 'object') return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
};

// The request-context options of a binding's options: what `getRequestContext` reads, no
// credentials (a relay route given the binding reads its requests the same way).
const CONTEXT_KEYS = [
  'trustProxy',
  'forwardedHeader',
  'platform',
  'cookieDomain',
  'cookies',
  'generateFbp',
  'now',
  'consent',
  'respectGpc',
  'ldu',
  'destinations',
] as const satisfies readonly (keyof RequestContextOptions)[];

const contextOptionsOf = (options: NextCapiOptions): Readonly<RequestContextOptions> => {
  const picked: Record<string, unknown> = {};
  for (const key of CONTEXT_KEYS) if (options[key] !== undefined) picked[key] = options[key];
  return Object.freeze(picked as RequestContextOptions);
};

/**
 * Creates the Next.js binding: call it once in a module of your app (`lib/capi.ts`) and import the
 * helpers where needed. The client is created on first use, so importing it during `next build`
 * needs no credentials. Each request's events are flushed at the end of the request, kept alive by
 * the caller's `waitUntil`, Next's `after()` or Vercel's request context: never blocking the
 * response, never lost when a serverless function freezes.
 * @example export const { trackConversion, withConversion, withCapi, track } = createNextCapi({ trustProxy: 1 });
 */
export function createNextCapi(options: NextCapiOptions = {}): NextCapi {
  const { waitUntil: callerWaitUntil, ...adapterOptions } = options;
  const store = createRequestStore<Binding>();
  let made: MadeAdapter | undefined;
  let warnedNoRequest = false;
  let warnedStaticRoute = false;
  let warnedBuild = false;
  let warnedCache = false;

  // Errors can echo configuration (a fetch error quoting the request): never print the secrets.
  const redact = optionsRedactor(options);
  const report = (message: string, error?: unknown): void => {
    const detail = redact(
      error instanceof Error ? error.message : error === undefined ? '' : String(error),
    );
    try {
      if (options.logger) options.logger.error({ error: detail }, `capi-kit/next: ${message}`);
      else console.error(`capi-kit/next: ${message}${detail ? `: ${detail}` : ''}`);
    } catch {
      // A throwing logger must not break the caller.
    }
  };

  /** This binding's client, or the error creating it: made on first use, or shared (see shared-clients.ts). */
  const resolve = (): MadeAdapter => {
    made ??= inBrowser()
      ? refusedAdapter(new Error(IN_BROWSER))
      : sharedAdapter(adapterOptions, report);
    return made;
  };

  /** The client's adapter; when it could not be made, the error is told (once per process). */
  const getAdapter = (): CapiAdapter | undefined => {
    const current = resolve();
    if (current.adapter === undefined && !current.told) {
      current.told = true;
      report('could not create the Conversions API client, events are not sent', current.error);
    }
    return current.adapter;
  };

  /** Says, once per binding, that `helper` ran while `next build` runs, outside any request. */
  const warnBuildOnce = (helper: string, error?: unknown): void => {
    if (warnedBuild) return;
    warnedBuild = true;
    report(
      `${helper} ran during next build, outside a request: nothing is tracked. Track from a Server Action, a page rendered per request or a withCapi route`,
      error,
    );
  };

  /**
   * Says, once per binding, that `helper` ran inside a cached function. Per binding, not per
   * client: `next build` runs cached functions, and makes no client.
   */
  const warnCacheOnce = (helper: string): void => {
    if (warnedCache) return;
    warnedCache = true;
    report(
      `${helper} ran inside a cached function ('use cache' or unstable_cache), where Next gives no request data and every visitor gets the cached result: nothing is tracked and its event_id is empty. Track outside the cached function, in the page, action or route that calls it`,
    );
  };

  /** True the first time `warning` is asked for in this process (per client; see shared-clients.ts). */
  const firstTime = (warning: string): boolean => {
    const { warned } = resolve();
    if (warned.has(warning)) return false;
    warned.add(warning);
    return true;
  };

  const trackWith = (
    binding: Binding | undefined,
    nameOrEvent: EventName | ServerEventInput,
    params?: TrackParams,
  ): TrackResult => {
    if (binding?.noRequest === true) return noVisit();
    const current = getAdapter();
    // Without a client the browser Pixel still fires its copy, and needs an ID to do so: an empty
    // one made `if (state.event_id) trackPixel(...)` skip the browser conversion, and `<MetaPixel/>`
    // fire only the first '' of the page (later ones look already fired). The caller's own ID if
    // readable (an order ID the Pixel also uses), else a fresh one.
    if (current === undefined)
      return {
        event_id: givenEventId(nameOrEvent, params) ?? newEventId(),
        accepted: false,
        issues: [],
        reason: 'error',
      };
    const trackOptions: Parameters<CapiClient['track']>[1] = {};
    if (binding?.context !== undefined) trackOptions.context = binding.context;
    if (binding?.waitUntil !== undefined) trackOptions.waitUntil = binding.waitUntil;
    if (typeof nameOrEvent !== 'string') return current.client.track(nameOrEvent, trackOptions);
    // The params go over unread, named by `eventName`: a throwing getter is track()'s to handle.
    trackOptions.eventName = nameOrEvent;
    return current.client.track(params as ServerEventInput, trackOptions);
  };

  /**
   * The binding of a Server Action or Server Component, from `headers()` and `cookies()`;
   * `NO_REQUEST` for a page Next renders ahead of time without one (`dynamic = 'force-static'`).
   */
  const bindScope = async (): Promise<Binding | typeof NO_REQUEST | undefined> => {
    // Request data first: reading it is what makes Next render the page per request (during a
    // prerender it throws Next's bailout error, which trackConversion hands back untouched).
    const nextHeaders = await loadNextHeaders();
    const [headerBag, cookieStore] = await Promise.all([
      nextHeaders.headers(),
      nextHeaders.cookies(),
    ]);
    if (isStaticRender(headerBag)) return NO_REQUEST;
    // A browser's speculative load (an address-bar prediction, speculation rules): no visit yet.
    // Next's own prefetch header is hidden from headers(); a page renders for it only in a layout
    // above a loading.tsx, or `<Link prefetch={true}>`, which sends none (README).
    if (isPrefetchRequest(headerBag))
      return { context: undefined, waitUntil: undefined, noRequest: true };
    const current = getAdapter();
    if (current === undefined) return undefined;
    // Next runs route handlers and Server Actions in its `action` phase; actions say `Next-Action`.
    const routeHandler = !headerBag.has('next-action') && (await inActionPhase()) === true;
    const { request, hasPageUrl } = requestFromScope(headerBag, cookieStore, routeHandler);
    const context = current.contextOf(request);
    // Without capiProxy a Server Component does not know its URL; `/` would be a wrong page.
    const noPageUrl = !hasPageUrl && context.isNavigation;
    if (noPageUrl) delete context.event_source_url;
    if (!writeCookies(cookieStore, context.cookiesToSet)) {
      // Server Components cannot set cookies: an `_fbp` that is never stored would differ on every
      // event and break matching, so none is sent (capiProxy sets it on landing instead).
      if (cookieValue(request.headers, '_fbp') !== context.user_data.fbp)
        delete context.user_data.fbp;
    }
    return {
      context,
      waitUntil: await requestWaitUntil(callerWaitUntil),
      noPageUrl,
      routeHandler,
    };
  };

  const trackConversion = (async (
    nameOrEvent: EventName | ServerEventInput,
    params?: TrackParams,
  ): Promise<TrackResult> => {
    const bound = store?.getStore();
    if (bound !== undefined) {
      // withCapi's binding reaches into a cached function its handler calls (AsyncLocalStorage).
      await loadWorkUnit();
      if (inCacheScopeNow()) {
        warnCacheOnce('trackConversion()');
        return noVisit();
      }
      return trackWith(bound, nameOrEvent, params);
    }
    // No request to read in a page: trackWith says why nothing is tracked.
    if (inBrowser()) return trackWith(undefined, nameOrEvent, params);
    let binding: Binding | typeof NO_REQUEST | undefined;
    try {
      binding = await bindScope();
    } catch (error) {
      await rethrowNextErrors(error);
      if (await inCacheScope(error)) {
        // Next keeps request data out of a cached function, and caches what it returns: tracked,
        // the event went out without request data, and its event_id was given to every visitor
        // the cache served, whose Pixel copies Meta then counted as one.
        warnCacheOnce('trackConversion()');
        return noVisit();
      }
      if (duringBuild()) {
        // `generateStaticParams`, or the like, while `next build` runs: no visit. Tracked anyway,
        // the build made a client (with no secrets there: "needs a pixelId and an accessToken",
        // which asked for secrets at build) for an event refused for want of request data.
        warnBuildOnce('trackConversion()', error);
        return noVisit();
      }
      // Once: outside a request (an `after()` callback in a page, a timer) every call fails alike.
      if (firstTime('noScope'))
        report(
          'trackConversion() could not read the request, so no request data is added (it reads headers() in a Server Action, a Server Component or a withCapi route; said once)',
          error,
        );
    }
    if (binding === NO_REQUEST) {
      // Not a visit: the render every visitor will get. No event, and an empty ID, so each
      // visitor's Pixel copy stays its own event rather than all sharing one Meta counts once.
      if (!warnedNoRequest) {
        warnedNoRequest = true;
        report(
          "trackConversion() ran without a request, in a page Next renders ahead of time (export const dynamic = 'force-static'): nothing is tracked, and every visitor gets that render. Track from a page rendered per request (remove 'force-static').",
        );
      }
      return noVisit();
    }
    const result = trackWith(binding, nameOrEvent, params);
    // Refused for want of the URL capiProxy passes on (an event_source_url of the caller's own is
    // kept): the core's refusal names a fix for other frameworks (req.capi), so say the one here.
    const refusedForUrl =
      binding?.noPageUrl === true &&
      result.issues.some((issue) => issue.path === 'event_source_url');
    // In a route handler the fix is withCapi, which reads the URL from the Request: a proxy added
    // for this would pass on the URL all the same, but it was named as the only way.
    if (refusedForUrl && binding?.routeHandler === true) {
      if (firstTime('noRouteUrl'))
        report(
          "trackConversion() ran in a route handler that withCapi() does not wrap, for a browser's load of the route, and has no page URL there, so its events are refused (missing_event_source_url). Wrap the handler: export const GET = withCapi(handler), and track with track() or withCapi's event option (withCapi reads the URL from the Request)",
        );
    } else if (refusedForUrl && firstTime('noProxy')) {
      report(
        "a page's trackConversion() has no page URL, so its events are refused (missing_event_source_url): capiProxy did not run for this request. Export it from proxy.ts (middleware.ts on Next 15) beside the app/ folder (src/proxy.ts with a src/ folder), with a matcher that covers this page: export const config = { matcher: ['/((?!_next/|favicon.ico).*)'] }",
      );
    }
    return result;
  }) as TrackConversion;

  const withConversion: NextCapi['withConversion'] = (eventName, action, ...rest) => {
    const [map] = rest as [ConversionMap<unknown[], unknown> | undefined];
    /** Tracks the conversion; `undefined` when `map` said no or failed. */
    const convert = async (result: unknown, args: unknown[]): Promise<TrackResult | undefined> => {
      let params: TrackParams | undefined | null;
      try {
        params = await map?.(result, ...args);
      } catch (error) {
        await rethrowNextErrors(error);
        report(`withConversion('${eventName}'): map threw, the event is not tracked`, error);
        return undefined;
      }
      return params === null ? undefined : trackConversion(eventName, params);
    };
    return async (...args) => {
      let result: Awaited<ReturnType<typeof action>>;
      try {
        result = await action(...args);
      } catch (error) {
        // A redirect() ends a successful action (signed up, now off to the dashboard): track it,
        // then hand Next its error untouched. notFound() and real errors are not conversions.
        // Whatever tracking does, Next must get its redirect back.
        if (isRedirectError(error)) await convert(undefined, args).catch(() => undefined);
        throw error;
      }
      const tracked = await convert(result, args);
      if (tracked === undefined) return (result ?? {}) as never;
      const { event_id } = tracked;
      return (
        isPlainObject(result)
          ? { ...result, event_id }
          : result === undefined
            ? { event_id }
            : result
      ) as never;
    };
  };

  /** Writes cookies through `cookies().set` of the current request; never throws. */
  const writeScopeCookies = async (cookies: readonly CookieToSet[]): Promise<void> => {
    if (cookies.length === 0) return;
    try {
      if (!writeCookies(await (await loadNextHeaders()).cookies(), cookies))
        report('could not set the _fbp/_fbc cookies on the redirect');
    } catch (error) {
      report('could not set the _fbp/_fbc cookies on the redirect', error);
    }
  };

  /** `withCapi`'s event once the response is out: map's data, then track; never rejects. */
  const trackAfterResponse = async (
    current: CapiAdapter,
    binding: Binding,
    event: EventName,
    mapParams: () => TrackParamsOrNone | Promise<TrackParamsOrNone> | undefined,
  ): Promise<void> => {
    let params: TrackParams | undefined;
    try {
      params = await mapParams();
    } catch (error) {
      // Through the client (its logger and `error` hook, kind `callback`), as every adapter's map.
      current.client.reportError(error, `withCapi event '${event}' map`);
      return;
    }
    try {
      trackWith(binding, event, params);
    } catch (error) {
      // Only `strict` mode throws; the handler already answered, so its response must stand.
      current.client.reportError(error, `withCapi event '${event}' track`);
    }
  };

  /** Runs a handler that serves no visit: its `track()` calls track nothing. */
  const withoutVisit = <R>(run: () => R): R => {
    const unbound: Binding = { context: undefined, waitUntil: undefined, noRequest: true };
    return store ? store.run(unbound, run) : run();
  };

  const withCapi: NextCapi['withCapi'] = (handler, handlerOptions = {}) => {
    return async (request, context) => {
      if (isStaticRequest(request)) {
        // `next build` runs it once and every visitor gets that response: not a visit. Reading the
        // request failed there ('could not read the request: Illegal invocation', a line that named
        // neither the cause nor the fix) and a track() in the handler was tracked at build.
        if (!warnedStaticRoute) {
          warnedStaticRoute = true;
          report(
            "withCapi() ran without a request, in a route Next renders ahead of time (export const dynamic = 'force-static'): nothing is tracked, and every visitor gets that response. Track from a route run per request (remove 'force-static').",
          );
        }
        return withoutVisit(() => handler(request, context));
      }
      let input: ReturnType<typeof requestInput> | undefined;
      try {
        // Request data first, as in bindScope: while `next build` prerenders a GET, reading it
        // throws Next's bailout, which makes the route run per request; swallowed (or never
        // triggered, without a client at build), the route was built static and never tracked.
        // A prefetch (a `<Link>` to this route on screen, fetched before anyone clicked, and for
        // every such link) is not a visit: no event, `track()` returns an empty `event_id`, and no
        // cookie is minted for a response the router throws away.
        if (!isPrefetchRequest(request.headers)) input = requestInput(request);
      } catch (error) {
        await rethrowNextErrors(error);
        report('could not read the request', error);
        return handler(request, context);
      }
      if (input === undefined) return withoutVisit(() => handler(request, context));
      // For track()'s synchronous look at Next's work unit (a cached function); never rejects.
      await loadWorkUnit();
      const current = getAdapter();
      if (current === undefined) return handler(request, context);
      let binding: Binding;
      try {
        binding = {
          context: current.contextOf(input),
          waitUntil: await requestWaitUntil(callerWaitUntil),
        };
      } catch (error) {
        report('could not compute the request context', error);
        return handler(request, context);
      }
      const { event, map } = handlerOptions;
      const copy = event !== undefined && map !== undefined ? request.clone() : undefined;
      const run = () => handler(request, context);
      /** Tracks `event` for the answer the visitor gets, once it is handed back. */
      const convert = (response: Response): void => {
        // Next answers HEAD with the GET handler when a route exports no HEAD: not a conversion.
        if (event === undefined || !conversionCounts(request.method, response.status)) return;
        // The router's fetch of a `<Link>` clicked to this route: the page load that follows is the visit.
        if (routerReloads(request, response)) return;
        // `map` runs after the response is handed back, as Express's trackConversion runs on
        // 'finish': awaiting it here held the response for as long as map took, and a map reading
        // a streamed response (SSE, an AI answer) held it until the stream ended, or for ever.
        // The request's keep-alive (after(), waitUntil) carries it to the end.
        let responseCopy: Response | undefined;
        try {
          if (map !== undefined) responseCopy = response.clone();
        } catch (error) {
          // A body already read cannot be copied: map could not read it either.
          current.client.reportError(error, `withCapi event '${event}' map`);
        }
        if (map === undefined || responseCopy !== undefined) {
          const later = trackAfterResponse(current, binding, event, async () => {
            try {
              return await map?.(copy ?? request, responseCopy as Response);
            } finally {
              // The copies are branches of the bodies (tee): one left open keeps buffering every
              // chunk, and a stream's source is cancelled only once both branches are, so a
              // streamed response (SSE) ran on after the visitor left. Map is done with them.
              releaseBody(responseCopy);
              releaseBody(copy);
            }
          });
          try {
            binding.waitUntil?.(later);
          } catch {
            // The caller's keep-alive threw (passed unbound, used outside its platform's request):
            // the answer stands and `later` runs on. The core says so when it hands the event on.
          }
        }
      };
      let response: Response;
      try {
        response = await (store ? store.run(binding, run) : run());
      } catch (error) {
        // `redirect()` in a route handler: Next builds the redirect response itself and adds only
        // what `cookies().set` wrote, so a landing's _fbp/_fbc go there or are lost. It is the
        // handler's answer, as a returned `NextResponse.redirect()` is (and a success, as
        // `withConversion` counts it): `event` is tracked for the redirect Next sends.
        if (isRedirectError(error)) {
          // Behind capiProxy (its URL header on the request) Next adds the proxy's Set-Cookie to
          // that redirect too, by the same rule: written again, each reached the browser twice.
          if (!request.headers.has(URL_HEADER))
            await writeScopeCookies(binding.context?.cookiesToSet ?? []);
          const redirect = redirectResponseOf(error);
          if (redirect !== undefined) convert(redirect);
        }
        throw error;
      }
      // No answer (a branch without `return`): Next's own error names it and the fix; reading it
      // here threw a TypeError that named neither.
      if (!(response instanceof Response)) return response;
      convert(response);
      return withSetCookies(response, binding.context?.cookiesToSet ?? []);
    };
  };

  function track(nameOrEvent: EventName | ServerEventInput, params?: TrackParams): TrackResult {
    const bound = store?.getStore();
    // A static page or `generateStaticParams` while `next build` runs: no visit, and every visitor
    // gets what it renders. Checked before the client is made (the build has no secrets); an event
    // with all its data went out from every build, and a fresh event_id baked into the page made
    // every visitor's Pixel copy one event.
    if (bound === undefined && duringBuild()) {
      warnBuildOnce('track()');
      return noVisit();
    }
    // In a cached function the handler's binding still reaches it (AsyncLocalStorage): tracked with
    // the first visitor's data, its event_id was cached for every later one. withCapi loads the
    // module this reads before its handler runs.
    if (inCacheScopeNow()) {
      warnCacheOnce('track()');
      return noVisit();
    }
    // Without a client, withCapi runs its handler unbound: the creation error is the one to read.
    if (bound === undefined && getAdapter() !== undefined && firstTime('outside')) {
      report(
        'track() was called outside withCapi(): no request data is added (use trackConversion in actions and pages)',
      );
    }
    return trackWith(bound, nameOrEvent, params);
  }

  return {
    get client(): CapiClient {
      // Not told here: the caller gets the error itself (instrumentation's check at start-up).
      const current = resolve();
      if (current.adapter === undefined) throw current.error;
      return current.adapter.client;
    },
    trackConversion,
    withConversion,
    withCapi,
    track,
    eventId: newEventId,
    requestContext: () => store?.getStore()?.context,
    requestContextOptions: contextOptionsOf(adapterOptions),
    waitUntil: callerWaitUntil,
    flush: async () => {
      const clients = new Set(ownedClients());
      if (made?.adapter !== undefined) clients.add(made.adapter.client);
      await Promise.all([...clients].map((client) => client.flush()));
    },
    close: async (closeOptions) => {
      const clients = ownedClients();
      // Each client stays listed until its close has ended: a close() while another runs waits for
      // it (and brings its deadline forward when its own budget ends sooner), as the core's close()
      // does. They were forgotten at once, so that second call resolved straight away, and an app
      // that exited then lost what the first was still delivering, without a word.
      await Promise.all(
        [...clients].map(async (client) => {
          await client.close(closeOptions);
          clients.delete(client);
        }),
      );
    },
  };
}
