/**
 * Meta Conversions API for Express 4 and 5. Built only from `@capi-kit/core`'s public exports, the
 * same a third-party adapter would use: request → `getRequestContext` → `track`.
 */
import {
  type CapiAdapterOptions,
  type CapiClient,
  createCapiAdapter,
  type EventName,
  fromIncomingMessage,
  type RequestCapi,
  type TrackParams,
} from '@capi-kit/core';
import type { NextFunction, Request, RequestHandler, Response } from 'express';

export type { RequestCapi, TrackParams } from '@capi-kit/core';

declare global {
  namespace Express {
    interface Request {
      /** capi-kit's request-bound tracker, set by the `capi()` middleware. */
      capi: RequestCapi;
    }
  }
}

/** Options of {@link capi}: `createCapi`'s and the request-context options, or a shared `client`. */
export type CapiExpressOptions = CapiAdapterOptions;

/** The middleware, with the client it delivers through (close it on shutdown if you let it create one). */
export type CapiMiddleware = RequestHandler & {
  /** The delivery client behind the middleware. */
  readonly client: CapiClient;
  /** Flushes and closes the client if the middleware created it; a shared `client` is left open. */
  close(options?: { timeoutMs?: number }): Promise<void>;
};

/**
 * Express middleware: computes each request's context (client IP, user agent, page URL, `_fbp`/
 * `_fbc`), appends the cookies, and attaches `req.capi` with `track` and `eventId`.
 * Synchronous: it never delays the response and never calls `next(err)` because of capi-kit.
 * @example app.use(capi({ pixelId, accessToken, trustProxy: 'loopback' }))
 */
export function capi(options: CapiExpressOptions = {}): CapiMiddleware {
  const adapter = createCapiAdapter(options);
  const middleware = (req: Request, res: Response, next: NextFunction): void => {
    // contextOf never throws (a failure gives an empty context, reported through the client).
    const context = adapter.contextOf(fromIncomingMessage(req, req.originalUrl));
    // `append`, not `set`: cookies the app set before keep their place, and `res.cookie()`
    // appends after ours (Express 4 and 5 alike).
    for (const cookie of context.cookiesToSet) res.append('Set-Cookie', cookie.header);
    req.capi = adapter.bind(context);
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
 * it. A `map` that throws is reported through the client's `error` hook (kind `callback`).
 * @example app.post('/checkout', trackConversion('Purchase', (req, res) => res.locals.purchase), handler)
 */
export function trackConversion(
  eventName: EventName,
  map?: (req: Request, res: Response) => TrackParams | undefined,
): RequestHandler {
  return (req, res, next) => {
    res.once('finish', () => {
      // Lazy params: a throwing `map` (or a strict-mode rejection) is reported, never thrown.
      if (res.statusCode < 400)
        (req.capi as RequestCapi | undefined)?.track(eventName, () => map?.(req, res));
    });
    next();
  };
}
