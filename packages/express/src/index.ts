/**
 * Meta Conversions API for Express 4 and 5. Built only from `@capi-kit/core`'s public exports, the
 * same a third-party adapter would use: request → `getRequestContext` → `track`.
 */
import {
  type CapiAdapterOptions,
  type CapiAdapterWording,
  type CapiClient,
  type CookieToSet,
  conversionCounts,
  createCapiAdapter,
  createRelay,
  DEFAULT_RELAY_PATH,
  type EventName,
  fromIncomingMessage,
  type Relay,
  type RelayOptions,
  type RequestCapi,
  relayOptionProblem,
  relayPathProblem,
  serveNodeRelay,
  type TrackParams,
  type TrackParamsOrNone,
} from '@capi-kit/core';
import type { NextFunction, Request, RequestHandler, Response } from 'express';

export type { RequestCapi, TrackParams, TrackParamsOrNone } from '@capi-kit/core';

declare global {
  namespace Express {
    interface Request {
      /** capi-kit's request-bound tracker, set by the `capi()` middleware. */
      capi: RequestCapi;
    }
  }
}

/** The first-party relay's options: the core's rules (`identify` gets the Express `req`) and its path. */
export interface CapiExpressRelayOptions extends RelayOptions<Request> {
  /** Path the browser posts to (from the site root); default `/capi/events`, `@capi-kit/browser`'s default. */
  path?: string | undefined;
}

/**
 * Options of {@link capi}: `createCapi`'s and the request-context options, or a shared `client`;
 * `relay` also serves `@capi-kit/browser`'s first-party relay (`true` for the defaults).
 */
export type CapiExpressOptions = CapiAdapterOptions & {
  relay?: boolean | CapiExpressRelayOptions | undefined;
};

/** The middleware, with the client it delivers through (close it on shutdown if you let it create one). */
export type CapiMiddleware = RequestHandler & {
  /** The delivery client behind the middleware. */
  readonly client: CapiClient;
  /** Flushes and closes the client if the middleware created it; a shared `client` is left open. */
  close(options?: { timeoutMs?: number }): Promise<void>;
};

/**
 * Express has its own proxy setting, which capi-kit does not read (it takes no app to read it
 * from, and the client may be shared across apps): an app that set only that one was told to "set
 * trustProxy" and could take it for Express's. The values mean the same in both.
 */
const EXPRESS_WORDING: CapiAdapterWording = {
  proxyNote:
    "Express's app.set('trust proxy', …) is not read by capi-kit: set trustProxy on capi(), e.g. app.use(capi({ trustProxy: 'loopback' })), with the same value.",
};

/**
 * Express middleware: attaches `req.capi` with `track` and `eventId` (the request context: client
 * IP, user agent, page URL, `_fbp`/`_fbc`) and appends the cookies. The context is computed when
 * cookies may change or an event is tracked, so requests that track nothing cost almost nothing.
 * Synchronous: it never delays the response and never calls `next(err)` because of capi-kit.
 * With `relay`, it also answers the browser's `POST /capi/events` itself (see `@capi-kit/browser`).
 * @example app.use(capi({ pixelId, accessToken, trustProxy: 'loopback' }))
 */
export function capi(options: CapiExpressOptions = {}): CapiMiddleware {
  // `app.use(capi)` makes Express call the factory with each request: it would build a client per
  // request and never call `next()`, so every request would hang. Said at the first request.
  if (isRequest(options)) {
    throw new TypeError(
      'capi-kit: capi is a factory: mount its result, app.use(capi({ ... })), not app.use(capi)',
    );
  }
  const { relay: relayOptions, ...adapterOptions } = options;
  // Checked before a client exists (see `relayOptionProblem`, `relayPathProblem`).
  const kindProblem = relayOptionProblem(relayOptions);
  if (kindProblem !== undefined) throw new TypeError(`capi-kit: ${kindProblem}`);
  const relayPath = typeof relayOptions === 'object' ? relayOptions.path : undefined;
  const pathProblem = relayPath === undefined ? undefined : relayPathProblem(relayPath);
  if (pathProblem !== undefined) throw new TypeError(`capi-kit: ${pathProblem}`);
  const adapter = createCapiAdapter(adapterOptions, EXPRESS_WORDING);
  const relay = relayOptions ? relayOf(relayOptions, adapter.client, adapterOptions) : undefined;
  let toldHeadersSent = false;
  let toldMount = false;
  const setCookies = (res: Response, cookiesToSet: readonly CookieToSet[]): void => {
    // `append`, not `set`: cookies the app set before keep their place, and `res.cookie()`
    // appends after ours (Express 4 and 5 alike). One call for both cookies: each `append` re-sets
    // and re-validates the whole header.
    if (cookiesToSet.length > 0 && res.headersSent) {
      // A middleware before this one started the response (an early flush of the page's head):
      // `append` would throw into the request. The events still carry the context.
      if (!toldHeadersSent) {
        toldHeadersSent = true;
        adapter.client.reportError(
          new Error(
            'the response had started before capi() ran, so _fbp/_fbc were not set; mount app.use(capi()) before middleware that writes the response',
          ),
          'cookies',
        );
      }
    } else if (cookiesToSet.length > 0) {
      res.append(
        'Set-Cookie',
        cookiesToSet.map((cookie) => cookie.header),
      );
    }
  };
  const middleware = (req: Request, res: Response, next: NextFunction): void => {
    const earlier = req.capi as RequestCapi | undefined;
    if (earlier !== undefined) {
      // capi() already ran for this request (mounted on the app and again on a router, or two
      // instances): a second context would mint a second _fbp/_fbc on a first visit, the browser
      // would keep the last, and the events tracked before carried the first. This pass tracks
      // with the request's one context, through its own client.
      req.capi = adapter.bind(() => earlier.context);
    } else {
      // forRequest never throws (a failed context is empty and reported through the client). It
      // defers the context when no cookie can change, so requests that never track stay cheap.
      const bound = adapter.forRequest(fromIncomingMessage(req, req.originalUrl));
      setCookies(res, bound.cookiesToSet);
      req.capi = bound.capi;
    }
    if (relay !== undefined) {
      if (req.originalUrl.split('?', 1)[0] === relay.path) {
        serveNodeRelay(relay.relay, adapter.client, req, res, {
          url: req.originalUrl,
          context: req.capi.context,
          appRequest: req,
        });
        return;
      }
      // `app.use('/api', capi({ relay: true }))`: the browser's posts to the relay path never
      // reach this mount, and went to the app's 404 with nothing said. The prefix is not echoed:
      // a mount path with parameters puts request data in it.
      if (!toldMount && req.baseUrl !== '' && !isUnder(relay.path, req.baseUrl)) {
        toldMount = true;
        adapter.client.reportError(
          new Error(
            `capi() is mounted under a path that relay.path '${relay.path}' (from the site root) is not under, so the relay never answers; mount capi() at the root, or set relay.path to the full path the browser posts to`,
          ),
          'relay',
        );
      }
    }
    next();
  };
  return Object.assign(middleware, {
    client: adapter.client,
    close: (closeOptions?: { timeoutMs?: number }) => adapter.close(closeOptions),
  });
}

/**
 * Route middleware that tracks `eventName` once the response has finished with a status below 400,
 * with data from `map(req, res)` (e.g. what the handler put in `res.locals`). Needs `capi()` before
 * it. A `map` that throws is reported through the client's `error` hook (kind `callback`). Typed by
 * the name: a `Purchase` map must return `custom_data` with `value` and `currency`.
 * @example app.post('/checkout', trackConversion('Purchase', (req, res) => res.locals.purchase), handler)
 */
// A `Purchase` requires `map` (its value and currency come from somewhere), as Fastify's
// `routeConversion` and Nest's `@TrackConversion` do; without it every Purchase is rejected.
export function trackConversion<Name extends EventName>(
  eventName: Name,
  ...map: [Name] extends ['Purchase']
    ? [map: (req: Request, res: Response) => TrackParamsOrNone<Name>]
    : [map?: ((req: Request, res: Response) => TrackParamsOrNone<Name>) | undefined]
): RequestHandler {
  // `app.post(path, trackConversion, handler)` makes Express call the factory with the request:
  // it would return a handler and never call `next()`, so the route would hang.
  const name: unknown = eventName;
  if (typeof name !== 'string') {
    throw new TypeError(
      isRequest(name)
        ? "capi-kit: trackConversion is a factory: call it in the route, app.post(path, trackConversion('Purchase', map), handler)"
        : `capi-kit: trackConversion(eventName, map?) takes the event name first; got ${name === null ? 'null' : typeof name}`,
    );
  }
  // From JavaScript, fixed params given in place of `map` failed on every response with
  // "lazy is not a function", which names neither the option nor the fix.
  if (map[0] !== undefined && typeof map[0] !== 'function') {
    throw new TypeError(
      `capi-kit: trackConversion('${name}', map): map must be a function of (req, res) returning the event's fields, e.g. () => ({ custom_data: { ... } }); got ${map[0] === null ? 'null' : typeof map[0]}`,
    );
  }
  // The name's params were checked at the call; inside, the event is tracked as any name.
  const lazy = map[0] as ((req: Request, res: Response) => TrackParams | undefined) | undefined;
  let toldNoCapi = false;
  return (req, res, next) => {
    res.once('finish', () => {
      if (!conversionCounts(req.method, res.statusCode)) return;
      const bound = req.capi as RequestCapi | undefined;
      // Lazy params: a throwing `map` (or a strict-mode rejection) is reported, never thrown.
      if (bound !== undefined) bound.track(eventName as EventName, () => lazy?.(req, res));
      else if (!toldNoCapi) {
        // No client to report through, or count the loss in: said once, in production too, since
        // it is a setup mistake that drops every conversion of this route, not a per-event line.
        toldNoCapi = true;
        console.warn(
          `capi-kit: trackConversion('${eventName}') found no req.capi, so nothing was tracked (and nothing counts the loss); mount app.use(capi({ ... })) before the route`,
        );
      }
    });
    next();
  };
}

/** Whether `path` is `prefix` or below it, compared as Express routes (case-insensitively). */
function isUnder(path: string, prefix: string): boolean {
  const p = path.toLowerCase();
  const base = prefix.toLowerCase();
  return p === base || p.startsWith(base.endsWith('/') ? base : `${base}/`);
}

/** Whether a factory was handed an Express request, i.e. mounted without being called. */
function isRequest(value: unknown): boolean {
  return typeof value === 'object' && value !== null && 'socket' in value && 'headers' in value;
}

function relayOf(
  options: true | CapiExpressRelayOptions,
  client: CapiClient,
  requestContext: CapiAdapterOptions,
): { relay: Relay<Request>; path: string } {
  const { path = DEFAULT_RELAY_PATH, ...rules } = options === true ? {} : options;
  return { relay: createRelay<Request>({ ...rules, client, requestContext }), path };
}
