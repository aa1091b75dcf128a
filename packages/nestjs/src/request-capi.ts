/**
 * One `RequestCapi` per request, whatever reaches it first (the global interceptor, `@CapiContext()`,
 * `CapiService.forRequest`), and the `Set-Cookie` headers written once, on either platform.
 */
import {
  appendReplySetCookies,
  type BufferedReply,
  type CapiAdapter,
  type CookieToSet,
  fromIncomingMessage,
  type IncomingMessageLike,
  type RequestCapi,
} from '@capi-kit/core';
import type { ExecutionContext } from '@nestjs/common';

/** The HTTP request (and response, when known) behind a handler call, as the platform gives them. */
export interface HttpExchange {
  /** Express `Request`, Fastify `FastifyRequest`, or a Node `IncomingMessage`. */
  readonly request: object;
  /** Express `Response`, Fastify `FastifyReply`, or a Node `ServerResponse`. */
  readonly response?: object | undefined;
}

/** A Node `IncomingMessage` (or Express request), with the slot this module caches on it. */
interface NodeRequest extends IncomingMessageLike {
  /** Express keeps the URL before any router mount stripped a prefix. */
  originalUrl?: string | undefined;
  /** Express links the request to its response. */
  res?: unknown;
  [SLOT]?: Slot;
}

interface Slot {
  /** The adapter that made {@link capi}: the first `CapiModule` to reach the request. */
  readonly adapter: CapiAdapter;
  readonly capi: RequestCapi;
  /** Bindings of other adapters (`CapiModule` registered again) on this request's one context. */
  others?: Map<CapiAdapter, RequestCapi>;
  /** What the core says to set; empty when no cookie may change (the context then waits). */
  readonly cookiesToSet: readonly CookieToSet[];
  cookiesWritten: boolean;
}

// On the Node request itself: Fastify hands Nest a wrapper (`FastifyRequest`) but middleware the
// raw `IncomingMessage`, so the raw one is the object every path agrees on. `Symbol.for` lets the
// ESM and CJS builds of this package share the slot.
const SLOT = Symbol.for('@capi-kit/nestjs:request-capi');

const isObject = (value: unknown): value is Record<PropertyKey, unknown> =>
  typeof value === 'object' && value !== null;

const hasHeaders = (value: unknown): value is NodeRequest =>
  isObject(value) && isObject(value.headers);

/** The Node request under a platform request: `FastifyRequest.raw`, or the object itself. */
function nodeRequestOf(request: unknown): NodeRequest | undefined {
  if (!isObject(request)) return undefined;
  const raw = request.raw;
  if (hasHeaders(raw)) return raw;
  return hasHeaders(request) ? request : undefined;
}

/**
 * The HTTP exchange of an execution context. `http`: the platform request and response. `graphql`:
 * the request the GraphQL driver puts in its context (Apollo: `req`, plus `res` if the app's
 * context adds it; Mercurius: `reply`), read from the resolver arguments so `@nestjs/graphql` is
 * never imported. `rpc` and `ws` have no HTTP request: `undefined`.
 */
export function httpExchangeOf(context: ExecutionContext): HttpExchange | undefined {
  const type = context.getType<'http' | 'graphql' | 'rpc' | 'ws'>();
  if (type === 'http') {
    const http = context.switchToHttp();
    return { request: http.getRequest<object>(), response: http.getResponse<object>() };
  }
  if (type !== 'graphql') return undefined;
  // Resolver arguments: (root, args, context, info).
  const gql: unknown = context.getArgs()[2];
  if (!isObject(gql)) return undefined;
  const reply = isObject(gql.reply) ? gql.reply : undefined;
  const request = gql.req ?? gql.request ?? reply?.request;
  if (!isObject(request)) return undefined;
  // Apollo's default context has only `req`; Express links the response from it (`req.res`).
  const response = gql.res ?? reply ?? request.res;
  return { request, response: isObject(response) ? response : undefined };
}

/** The request's `RequestCapi` if something already bound it, else `undefined`. */
export function boundRequestCapi(request: object): RequestCapi | undefined {
  return nodeRequestOf(request)?.[SLOT]?.capi;
}

/**
 * The request's `RequestCapi`, made once per request and cached on it (its context computed when a
 * cookie may change, else on first use); writes the `_fbp`/`_fbc` cookies the first time a
 * response is at hand. Throws only when `request` is not an HTTP request.
 */
export function bindRequestCapi(adapter: CapiAdapter, exchange: HttpExchange): RequestCapi {
  const node = nodeRequestOf(exchange.request);
  if (node === undefined) {
    // No value in the message: an app object passed by mistake may hold anything.
    throw new TypeError(
      `capi-kit: got ${exchange.request === null ? 'null' : typeof exchange.request} without headers where the HTTP request belongs ` +
        "(Express Request, FastifyRequest or Node IncomingMessage; in a GraphQL resolver, the context's req)",
    );
  }
  let slot = node[SLOT];
  if (slot === undefined) {
    // `forRequest` computes the context now only when a cookie may change; otherwise on the first
    // `track()` or `context` read, so a handler that tracks nothing costs almost nothing.
    const { capi, cookiesToSet } = adapter.forRequest(
      fromIncomingMessage(node, node.originalUrl ?? node.url),
    );
    slot = { adapter, capi, cookiesToSet, cookiesWritten: false };
    Object.defineProperty(node, SLOT, { value: slot, configurable: true });
  }
  // Without a response (`CapiService.forRequest(request)` or `track(event, request)` in a guard),
  // the Node request's own (see `linkedResponse`): a guard that then rejects the request stops the
  // interceptor, and the `_fbp`/`_fbc` of the events tracked with this context never reached the
  // browser, which minted another `_fbp` at its next visit. Where none is found (a Fastify reply
  // over HTTP/2), the module's `onSend` hook writes them on a reply Fastify sends.
  const response = exchange.response ?? linkedResponse(node);
  if (!slot.cookiesWritten && response !== undefined) {
    slot.cookiesWritten = appendSetCookies(
      response,
      slot.cookiesToSet.map((cookie) => cookie.header),
    );
  }
  if (slot.adapter === adapter) return slot.capi;
  // Another CapiModule's adapter (a feature module's own forRoot): its events go through its own
  // client, on the request's one context. Handed the first binding, a feature module's
  // `CapiService.track(event, request)` sent its events to the first module's pixel; a context of
  // its own would mint a second `_fbp` on a first visit (the Express adapter does the same).
  let other = slot.others?.get(adapter);
  if (other === undefined) {
    const first = slot.capi;
    other = adapter.bind(() => first.context);
    slot.others ??= new Map();
    slot.others.set(adapter, other);
  }
  return other;
}

/**
 * The response of a Node request bound without one: Express's `req.res`, else the Node response on
 * the request's socket. Fastify hands a Nest middleware the Node request, which links to nothing
 * (Node's `ServerResponse` has `res.req`, no way back), and a middleware that answers itself (an ad
 * click's redirect) runs no `onSend` hook: its event's `_fbp`/`_fbc` never reached the browser.
 * `socket._httpMessage` is Node's own slot for the response being written on the socket; taken
 * only when it names this very request, so a pipelined request's neighbour is never written to.
 */
function linkedResponse(node: NodeRequest): object | undefined {
  if (isObject(node.res)) return node.res;
  const socket: unknown = (node as { socket?: unknown }).socket;
  const message = isObject(socket) ? socket._httpMessage : undefined;
  return isObject(message) && message.req === node ? message : undefined;
}

/**
 * Writes the request's `_fbp`/`_fbc` to `response` if a context computed for it still has them to
 * write: bound where no response was at hand (a guard's `CapiService.track(event, request)`) and
 * the interceptor never ran (that guard rejected the request). One property read otherwise.
 */
export function writePendingSetCookies(request: unknown, response: object): void {
  const slot = nodeRequestOf(request)?.[SLOT];
  if (slot === undefined || slot.cookiesWritten) return;
  slot.cookiesWritten = appendSetCookies(
    response,
    slot.cookiesToSet.map((cookie) => cookie.header),
  );
}

interface ExpressResponse {
  append(name: string, value: string): unknown;
}
interface FastifyReply {
  raw: object;
  header(name: string, value: string | string[]): unknown;
  getHeader(name: string): number | string | string[] | undefined;
  removeHeader(name: string): unknown;
}
interface NodeResponse {
  headersSent?: boolean;
  getHeader(name: string): number | string | string[] | undefined;
  setHeader(name: string, value: string | readonly string[]): unknown;
}

const isExpressResponse = (response: object): response is ExpressResponse =>
  typeof (response as Partial<ExpressResponse>).append === 'function';
const isFastifyReply = (response: object): response is FastifyReply =>
  typeof (response as Partial<FastifyReply>).header === 'function' &&
  isObject((response as Partial<FastifyReply>).raw);
const isNodeResponse = (response: unknown): response is NodeResponse =>
  isObject(response) &&
  typeof response.getHeader === 'function' &&
  typeof response.setHeader === 'function';

/**
 * Appends `Set-Cookie` values without dropping ones the app set: Express `res.append`, Fastify
 * `reply.header('set-cookie', …)` (which appends for that header), or a merge on a raw Node response
 * (a plain `setHeader` would replace). Returns false when the headers are already sent.
 */
function appendSetCookies(response: object, values: readonly string[]): boolean {
  const node = isFastifyReply(response) ? response.raw : response;
  if (isNodeResponse(node) && node.headersSent === true) return false;
  if (values.length === 0) return true;
  if (isExpressResponse(response)) {
    for (const value of values) response.append('Set-Cookie', value);
  } else if (isFastifyReply(response)) {
    // In the reply's headers, and on `reply.raw` too: Fastify's headers are written only by
    // `reply.send()`, and an `@Sse()` handler (Nest reads the reply's headers before this
    // interceptor runs) or a handler writing `reply.raw` never sends them, so a landing's
    // `_fbp`/`_fbc` were lost. Where Fastify does write its headers, the module's `onSend` hook
    // drops those copies (fastify-set-cookies.ts, core's reply-cookies.ts).
    appendReplySetCookies(response as unknown as BufferedReply, values);
  } else if (isNodeResponse(response)) {
    appendToNodeResponse(response, values);
  } else {
    return false;
  }
  return true;
}

/** Adds `Set-Cookie` values to a Node response, keeping the ones already there. */
function appendToNodeResponse(response: NodeResponse, values: readonly string[]): void {
  const existing = response.getHeader('set-cookie');
  const kept =
    existing === undefined ? [] : Array.isArray(existing) ? existing : [String(existing)];
  response.setHeader('Set-Cookie', [...kept, ...values]);
}
