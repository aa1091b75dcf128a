/**
 * Meta Conversions API for Fastify 4 and 5. Built only from `@capi-kit/core`'s public exports, the
 * same a third-party adapter would use: request → `getRequestContext` → `track`.
 */
import {
  appendReplySetCookies,
  type BodySource,
  type CapiAdapterOptions,
  type CapiAdapterWording,
  type CapiClient,
  conversionCounts,
  createCapiAdapter,
  createRelay,
  DEFAULT_RELAY_PATH,
  type EventName,
  fromIncomingMessage,
  type RelayInput,
  type RelayOptions,
  type RequestCapi,
  relayOptionProblem,
  relayPathProblem,
  type StandardEventName,
  settleReplySetCookies,
  type TrackParamsOrNone,
} from '@capi-kit/core';
import type {
  FastifyContextConfig,
  FastifyInstance,
  FastifyPluginCallback,
  FastifyReply,
  FastifyRequest,
} from 'fastify';

export type { RequestCapi, TrackParams, TrackParamsOrNone } from '@capi-kit/core';

/**
 * Event data for a route's conversion, from the request and reply (e.g. what the handler stored
 * for this request). If it throws, the error goes to the client's `error` hook (kind `callback`)
 * and nothing is tracked. Typed by the name: a `Purchase` needs `custom_data.value`/`currency`.
 */
export type RouteConversionMap<Name extends EventName = EventName> = (
  request: FastifyRequest,
  reply: FastifyReply,
) => TrackParamsOrNone<Name>;

/** `config.capi` of a standard event, written inline: a `Purchase` needs a `map` returning its value. */
export type StandardRouteConversion = {
  [Name in StandardEventName]: Name extends 'Purchase'
    ? { event: Name; map: RouteConversionMap<Name> }
    : { event: Name; map?: RouteConversionMap<Name> | undefined };
}[StandardEventName];

declare const checkedByRouteConversion: unique symbol;

/** An event name checked by {@link routeConversion}; plain strings are not, so custom names go through it. */
export type RouteConversionEventName = EventName & { readonly [checkedByRouteConversion]: true };

/** `config.capi` made by {@link routeConversion}: any event name, custom ones included. */
export interface CheckedRouteConversion {
  /** The event to track once the reply has been sent with a status below 400. */
  readonly event: RouteConversionEventName;
  /** Event data from the request and reply. */
  readonly map?: RouteConversionMap | undefined;
}

/**
 * Route-level tracking: `config: { capi: { event: 'Purchase', map } }` tracks after a < 400 reply
 * of the route's handler (not one a hook sent before it ran).
 * A standard event is written inline; a custom event with {@link routeConversion}.
 */
// A plain `{ event: EventName; map }` would let `event: 'Purchase'` match through the free-string
// name and accept a map without currency: a route config is an object literal, not a generic call,
// so nothing can infer the name. Hence one member per standard name, and custom names through a
// generic helper whose result carries a name type a plain string cannot satisfy. What a user sees:
// `map` without currency: "Property 'currency' is missing in type '{ value: number; }' but
// required in type 'PurchaseCustomData'"; `event: 'MyEvent'` inline: "Type '"MyEvent"' is not
// assignable to type '"AddPaymentInfo" | … | RouteConversionEventName'".
export type CapiRouteConfig = StandardRouteConversion | CheckedRouteConversion;

/**
 * `config.capi` for any event name, custom ones included, with the map typed by the name (a
 * `Purchase` map must return `value` and `currency`). Returns `{ event, map }` unchanged.
 * @example app.post('/signup', { config: { capi: routeConversion('SignupStarted', (request) => ({ custom_data: { custom_properties: { plan: 'pro' } } })) } }, handler)
 */
export function routeConversion<Name extends EventName>(
  event: Name,
  ...map: [Name] extends ['Purchase']
    ? [map: RouteConversionMap<Name>]
    : [map?: RouteConversionMap<Name> | undefined]
): CheckedRouteConversion {
  const [mapper] = map;
  // The brand is type-only: at run time `config.capi` is the same `{ event, map }` as inline.
  return (mapper === undefined
    ? { event }
    : { event, map: mapper }) as unknown as CheckedRouteConversion;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** capi-kit's request-bound tracker, set by the `capiPlugin` for every request. */
    capi: RequestCapi;
  }
  interface FastifyInstance {
    /** The delivery client behind the plugin. */
    capiClient: CapiClient;
  }
  interface FastifyContextConfig {
    /** Track a conversion for this route after a successful reply. */
    capi?: CapiRouteConfig;
  }
}

/** The first-party relay's options: the core's rules (`identify` gets the `FastifyRequest`) and its path. */
export interface CapiFastifyRelayOptions extends RelayOptions<FastifyRequest> {
  /**
   * The path the browser posts to, from the site root (in a scope with a `prefix` too, then under
   * it); default `/capi/events`, `@capi-kit/browser`'s default.
   */
  path?: string | undefined;
}

/**
 * Options of {@link capiPlugin}: `createCapi`'s and the request-context options, or a shared
 * `client`; `relay` also registers `@capi-kit/browser`'s first-party relay route (`true`: defaults).
 */
export type CapiFastifyOptions = CapiAdapterOptions & {
  relay?: boolean | CapiFastifyRelayOptions | undefined;
  /**
   * The deadline `app.close()` gives the client to deliver what is queued (`client.close({ timeoutMs })`,
   * in `onClose`, after the requests in flight have finished); default 2000 ms.
   */
  shutdownTimeoutMs?: number | undefined;
};

/**
 * Tracks a route's `config.capi` conversion once the reply is over (its `finish`, or an `error`,
 * as Fastify's own `onResponse` hooks run), when its status is below 400. Listeners on the route's
 * responses rather than an `onResponse` hook: any `onResponse` hook makes Fastify set up response
 * listeners and run its hook chain on every request of the app, which cost more than the rest of
 * the plugin together on requests that track nothing (bench/RESULTS.md, notes on Fastify).
 */
function trackOnceReplied(
  request: FastifyRequest,
  reply: FastifyReply,
  route: CapiRouteConfig,
  client: CapiClient,
  failed: WeakSet<FastifyRequest>,
  handled: WeakSet<FastifyRequest> | undefined,
) {
  const response = reply.raw;
  const replied = (): void => {
    response.removeListener('finish', replied);
    response.removeListener('error', replied);
    // `reply.callNotFound()` hands the request to the 404 handler: that reply is not the route's
    // (an `onResponse` hook, which reads the route config when the reply ends, saw none).
    if (!conversionCounts(request.method, reply.statusCode) || request.is404) return;
    // The handler or a hook threw, and the app's error handler answered below 400 (a redirect back
    // to the cart after a declined payment): that reply is the error's, not the route's.
    if (failed.has(request)) return;
    // A hook answered before the handler ran (an auth check redirecting to /login, a cache
    // hit): that reply is the hook's. Known for routes declared after the plugin (see onRoute).
    if (handled !== undefined && !handled.has(request)) return;
    // A listener's throw has no caller: it would be an uncaught exception, where an `onResponse`
    // hook's was logged by Fastify. Only app data can throw here (a `config.capi` getter).
    try {
      // A route declared before the plugin was not checked by its `onRoute` hook.
      const problem = routeConversionProblem(route);
      if (problem !== undefined) {
        client.reportError(new TypeError(`capi-kit: ${problem}`), 'config.capi');
        return;
      }
      // Lazy params: a throwing `map` (or a strict-mode rejection) is reported, never thrown.
      const map = route.map as RouteConversionMap | undefined;
      request.capi.track(route.event as EventName, () => map?.(request, reply));
    } catch (error) {
      client.reportError(error, 'config.capi');
    }
  };
  response.on('finish', replied);
  response.on('error', replied);
}

/** What a value is, for a message that must not repeat it. */
const kindOf = (value: unknown): string => (value === null ? 'null' : typeof value);

/**
 * What is wrong with a route's `config.capi` written from JavaScript (the types refuse each of
 * these), or `undefined`. Each one tracked nothing, and said only `track() failed (TypeError)` or
 * `map is not a function` once per reply, naming neither the route config nor the fix.
 */
function routeConversionProblem(route: unknown): string | undefined {
  if (typeof route !== 'object' || route === null) {
    return `config.capi must be { event, map? }, e.g. { event: 'Lead' }; got ${kindOf(route)}`;
  }
  const { event, map } = route as { event?: unknown; map?: unknown };
  if (typeof event !== 'string' || event === '') {
    return `config.capi.event must be the event's name, e.g. { event: 'Lead' }; got ${kindOf(event)}`;
  }
  if (map !== undefined && typeof map !== 'function') {
    return `config.capi.map of '${event}' must be a function of (request, reply) returning the event's fields, e.g. map: () => ({ custom_data: { … } }); got ${kindOf(map)}`;
  }
  return undefined;
}

/**
 * What is wrong with `shutdownTimeoutMs`, or `undefined` when it is a number of milliseconds ≥ 0
 * or unset. `client.close()` never throws and reads anything else as its 2 s default (a negative
 * number as 0, which sends nothing): the string of an environment variable gave `app.close()` 2 s
 * instead of the time asked for, and what was still queued then was dropped.
 */
function shutdownTimeoutProblem(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'number' && Number.isFinite(value) && value >= 0) return undefined;
  const given =
    typeof value === 'string'
      ? `got the string ${JSON.stringify(value.length > 24 ? `${value.slice(0, 24)}…` : value)} (convert it with Number())`
      : `got ${typeof value === 'number' ? String(value) : typeof value}`;
  return `shutdownTimeoutMs must be a number of milliseconds ≥ 0 and finite, ${given}`;
}

/** Marks the config of a route whose handler the plugin wrapped (it records the requests it ran for). */
const HANDLER_WRAPPED = Symbol('@capi-kit/fastify:handler-wrapped');

/** The name Fastify knows the plugin by (`app.hasPlugin('@capi-kit/fastify')`). */
const PLUGIN_NAME = '@capi-kit/fastify';

const plugin: FastifyPluginCallback<CapiFastifyOptions> = (app, options, done) => {
  // A callback plugin's throw does not reject `register()`: avvio lets it escape as an uncaught
  // exception, and `await app.register(…)` then fails only at the plugin timeout, saying `done`
  // was never called. Refused options (core's checks) and a second registration go to `done`.
  try {
    registerPlugin(app, options);
  } catch (error) {
    done(error as Error);
    return;
  }
  done();
};

function registerPlugin(app: FastifyInstance, options: CapiFastifyOptions): void {
  // Checked before a client exists: the second one would be left open by the failed boot.
  if (app.hasDecorator('capiClient')) {
    throw new Error(
      `capi-kit: ${PLUGIN_NAME} is already registered in this app (or a parent scope): register capiPlugin once, at the root; its hooks and request.capi reach every route`,
    );
  }
  const { relay, shutdownTimeoutMs, ...adapterOptions } = options;
  const kindProblem = relayOptionProblem(relay);
  if (kindProblem !== undefined) throw new TypeError(`capi-kit: ${kindProblem}`);
  const deadlineProblem = shutdownTimeoutProblem(shutdownTimeoutMs);
  if (deadlineProblem !== undefined) throw new TypeError(`capi-kit: ${deadlineProblem}`);
  const relayRoute = relay ? relayRouteIn(app.prefix, relay) : undefined;
  const adapter = createCapiAdapter(adapterOptions, FASTIFY_WORDING);
  // Whether a route of the app's was declared in this scope after the plugin (its own relay aside).
  let routesDeclared = false;
  /** The paths of the routes declared in this scope after the plugin (the ones it covers). */
  const scopeRoutes = new Set<string>();
  app.decorate('capiClient', adapter.client);
  app.decorateRequest('capi', null as unknown as RequestCapi);

  // Requests whose reply is an error's. `onError` hooks run on the error path only, so requests
  // that do not fail pay nothing for this one.
  const failed = new WeakSet<FastifyRequest>();
  // Requests whose route handler ran, for the routes with `config.capi` declared after the plugin
  // (their handler is wrapped in `onRoute`, and their config carries HANDLER_WRAPPED).
  const handled = new WeakSet<FastifyRequest>();
  app.addHook('onError', (request, _reply, _error, next) => {
    failed.add(request);
    next();
  });

  app.addHook('onRequest', (request, reply, next) => {
    // forRequest never throws (a failed context is empty and reported through the client). It
    // defers the context when no cookie can change, so requests that never track stay cheap.
    // `originalUrl`: the target as the browser sent it, before an app's `rewriteUrl` replaced
    // `raw.url` (the page URL and its fbclid are the browser's, like Express's `originalUrl`).
    const bound = adapter.forRequest(fromIncomingMessage(request.raw, request.originalUrl));
    // In the reply's headers and, for a hijacked reply (an SSR framework writing `reply.raw`
    // itself, which never writes Fastify's headers), on the raw response: the onSend hook below
    // drops those copies where Fastify does write its own (core's reply-cookies.ts).
    appendReplySetCookies(
      reply,
      bound.cookiesToSet.map((cookie) => cookie.header),
    );
    request.capi = bound.capi;
    // `capi: null` (from JavaScript) is no conversion, not a listener that throws once replied.
    const config = request.routeOptions.config as
      | (FastifyContextConfig & { [HANDLER_WRAPPED]?: true })
      | undefined;
    const route = config?.capi;
    if (route !== undefined && route !== null) {
      const wrapped = config?.[HANDLER_WRAPPED] === true;
      trackOnceReplied(
        request,
        reply,
        route,
        adapter.client,
        failed,
        wrapped ? handled : undefined,
      );
    }
    next();
  });

  // App-wide (a hook cannot be added per request); the checks are a few header reads.
  if (adapterOptions.cookies !== false) {
    app.addHook('onSend', (_request, reply, payload, next) => {
      settleReplySetCookies(reply);
      next(null, payload);
    });
  }

  // A route's `config.capi` of the wrong shape is refused when the route is declared (after the
  // plugin; earlier routes are reported once replied). One that cannot be read is left to the reply.
  app.addHook('onRoute', (routeOptions) => {
    if (!relayHandlers.has(routeOptions.handler)) routesDeclared = true;
    if (typeof routeOptions.url === 'string')
      scopeRoutes.add(withoutTrailingSlash(routeOptions.url));
    let problem: string | undefined;
    try {
      const route: unknown = routeOptions.config?.capi;
      if (route !== undefined && route !== null) problem = routeConversionProblem(route);
    } catch {
      return;
    }
    if (problem !== undefined) {
      throw new TypeError(`capi-kit: ${problem} (route ${routeOptions.url})`);
    }
    if (routeOptions.config?.capi == null) return;
    // Known to have run its handler: a reply below 400 an app's hook sent instead (a preHandler
    // redirecting an anonymous visitor to /login) tracked the route's conversion, a Purchase
    // whose checkout never ran. The config is Fastify's copy-to-be (it spreads it into the
    // route's), so the mark reaches `request.routeOptions.config` without touching the app's.
    try {
      const handler = routeOptions.handler;
      routeOptions.config = {
        ...routeOptions.config,
        [HANDLER_WRAPPED]: true,
      } as FastifyContextConfig;
      routeOptions.handler = function capiTrackedHandler(this: FastifyInstance, request, reply) {
        handled.add(request);
        return handler.call(this, request, reply);
      };
    } catch {
      // A config that cannot be copied: the route tracks on any reply below 400, as before.
    }
  });

  const scope = encapsulatingPlugin(app);
  if (scope !== undefined) {
    app.addHook('onReady', (ready) => {
      if (!routesDeclared) warnNothingCovered(scope, adapterOptions);
      else warnRoutesOutside(scope, adapterOptions, app, scopeRoutes);
      ready();
    });
  }

  app.addHook('onClose', async () => {
    await adapter.close(shutdownTimeoutMs === undefined ? {} : { timeoutMs: shutdownTimeoutMs });
  });
  if (relay && relayRoute !== undefined) {
    registerRelay(app, relayRoute, relay, adapter.client, adapterOptions);
  }
}

/**
 * Fastify has a `trustProxy` option of its own (`fastify({ trustProxy })`, behind `request.ip`),
 * which the plugin does not read: an app that set it there saw the proxy warning name an option it
 * thought it had set. The values mean the same in both.
 */
const FASTIFY_WORDING: CapiAdapterWording = {
  proxyNote:
    "Fastify's own trustProxy (fastify({ trustProxy })) is not read by capi-kit: set trustProxy on the plugin too, e.g. app.register(capiPlugin, { trustProxy: 'loopback' }), with the same value.",
};

/**
 * The name of the encapsulated plugin `app` belongs to, or `undefined` at the root (or in a plugin
 * wrapped with `fastify-plugin`). Fastify documents `pluginName`: `'fastify'` for the root, and
 * the chain `fastify -> plugin-A -> plugin-B` for plugins that open no scope of their own
 * (https://fastify.dev/docs/latest/Reference/Server/#pluginname); a scope's chain starts with its name.
 */
function encapsulatingPlugin(app: FastifyInstance): string | undefined {
  const chain: unknown = app.pluginName;
  if (typeof chain !== 'string') return undefined;
  const [first = ''] = chain.split(' -> ');
  return first === 'fastify' || first === '' ? undefined : first;
}

/**
 * Said once the app is ready, in development, when the plugin sits in an encapsulated plugin that
 * declared no route after it: a `plugins/capi.ts` loaded by `@fastify/autoload` without
 * `fastify-plugin` covered none of the app's routes, whose `config.capi` then tracked nothing and
 * whose `request.capi` was `undefined`, with nothing said.
 */
function warnNothingCovered(scope: string, options: CapiAdapterOptions): void {
  const { logger } = options;
  const development = options.development ?? process.env.NODE_ENV !== 'production';
  if (logger === false || !development) return;
  const name = scope.length > 60 ? `${scope.slice(0, 60)}…` : scope;
  const message =
    `capi-kit: capiPlugin is registered inside the encapsulated plugin '${name}', which declares no route after it: ` +
    "Fastify keeps a plugin's hooks and decorators inside the plugin that registers it, so routes declared elsewhere in the app " +
    'get no request.capi, no _fbp/_fbc cookies and no config.capi tracking. Register capiPlugin on the root instance before ' +
    `your routes, or wrap '${name}' with fastify-plugin`;
  if (logger === undefined) console.warn(message);
  else logger.warn({ plugin: PLUGIN_NAME }, message);
}

/**
 * Said once the app is ready, in development, when the plugin sits in an encapsulated plugin that
 * declares routes while the app has routes outside it: those get no `request.capi` (a handler reading
 * it found `undefined`, with nothing said) and no `config.capi` tracking. Scoping it on purpose
 * is fine, so the line says how to tell. Fastify's router is the app's, so `printRoutes()` lists
 * every route from inside the scope too; a format it does not parse says nothing. Routes the scope
 * declared before the plugin are covered but unseen by its `onRoute`, so only paths outside the
 * scope's prefix count, and a scope without a prefix is not checked: a wrong line is worse than none.
 */
function warnRoutesOutside(
  scope: string,
  options: CapiAdapterOptions,
  app: FastifyInstance,
  covered: ReadonlySet<string>,
): void {
  const { logger } = options;
  const development = options.development ?? process.env.NODE_ENV !== 'production';
  const prefix = withoutTrailingSlash(app.prefix);
  if (logger === false || !development || prefix === '' || prefix === '/') return;
  let outside: string[];
  try {
    outside = routePaths(app.printRoutes({ commonPrefix: false })).filter(
      (path) =>
        !covered.has(withoutTrailingSlash(path)) &&
        path !== prefix &&
        !path.startsWith(`${prefix}/`),
    );
  } catch {
    return;
  }
  if (outside.length === 0) return;
  const name = scope.length > 60 ? `${scope.slice(0, 60)}…` : scope;
  const example = outside[0]?.slice(0, 80);
  const message =
    `capi-kit: capiPlugin is registered inside the encapsulated plugin '${name}' (prefix '${prefix.slice(0, 60)}'), so only that plugin's routes are covered; ` +
    `${outside.length} route path(s) elsewhere in the app (such as '${example}') get no request.capi (it is undefined there), no _fbp/_fbc cookies and no config.capi tracking. ` +
    `If they need tracking, register capiPlugin on the root instance before your routes, or wrap '${name}' with fastify-plugin`;
  if (logger === undefined) console.warn(message);
  else logger.warn({ plugin: PLUGIN_NAME }, message);
}

/** The paths with a handler in `printRoutes({ commonPrefix: false })`'s tree, one per line. */
function routePaths(tree: string): string[] {
  const stack: string[] = [];
  const paths: string[] = [];
  for (const line of tree.split('\n')) {
    const at = line.indexOf('── ');
    if (at < 0) continue;
    const depth = Math.floor(at / 4);
    const node = /^(.*?)(?: \(([A-Z, ]+)\))?$/.exec(line.slice(at + 3));
    if (node === null) continue;
    stack.length = depth;
    const path = `${stack[depth - 1] ?? ''}${node[1]}`;
    stack[depth] = path;
    if (node[2] !== undefined) paths.push(path);
  }
  return paths;
}

function withoutTrailingSlash(path: string): string {
  return path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
}

/** The relay's route handlers, which are the plugin's own routes rather than the app's. */
const relayHandlers = new WeakSet<object>();

/**
 * The relay's route in this scope. `relay.path` is what the browser posts to, from the site root,
 * but a scope's `prefix` is put before every route: registered as is in a scope under `/api`, the
 * relay answered at `/api/capi/events` while the browser posted to `/capi/events`, which went to
 * the 404 unheard. A path with a query never matched a request either, and nothing said so.
 */
function relayRouteIn(prefix: string, relay: true | CapiFastifyRelayOptions): string {
  // A string by its type; from JavaScript anything, which `relayPathProblem` refuses.
  const path = (relay === true ? undefined : relay.path) ?? DEFAULT_RELAY_PATH;
  const problem = relayPathProblem(path);
  if (problem !== undefined) throw new TypeError(`capi-kit: ${problem}`);
  if (prefix === '') return path;
  const base = prefix.endsWith('/') ? prefix.slice(0, -1) : prefix;
  if (path === base || path.startsWith(`${base}/`)) return path.slice(base.length);
  throw new TypeError(
    `capi-kit: relay.path '${path}' is from the site root, and this scope's prefix '${prefix}' is put before every route registered in it, so the relay would never answer there: register capiPlugin at the root, or set relay.path to the full path the browser posts to, under '${prefix}'`,
  );
}

/**
 * The relay route, in its own scope: a parser for every content type that hands the request
 * stream over unread, so the core checks the type and reads the body under its own cap and
 * deadline (`bodyTimeoutMs`), without touching the app's parsers.
 */
function registerRelay(
  app: FastifyInstance,
  route: string,
  options: true | CapiFastifyRelayOptions,
  client: CapiClient,
  requestContext: CapiAdapterOptions,
): void {
  const { path: _fromRoot, ...rules } = options === true ? {} : options;
  const relay = createRelay<FastifyRequest>({ ...rules, client, requestContext });
  app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    // Not `parseAs`: Fastify's own read has no deadline and its `requestTimeout` is off by
    // default, so half a body and a stall would hold the request as long as the client likes.
    // Fastify checks no `bodyLimit` for a parser that reads nothing: the relay refuses a
    // `Content-Length` over its cap before reading, and stops reading a chunked body at the cap.
    // The payload is `request.raw`, or the stream an app's `preParsing` hook put in its place.
    scope.addContentTypeParser('*', (_request, payload, parsed) => parsed(null, payload));
    const relayRoute = async (request: FastifyRequest, reply: FastifyReply) => {
      const input: RelayInput<FastifyRequest> = {
        request: fromIncomingMessage(request.raw, request.originalUrl),
        appRequest: request,
      };
      if ((request.capi as RequestCapi | null) !== null) input.context = request.capi.context;
      // No parser ran for a request without a body (a GET, an empty POST): the relay reads none.
      if (request.body !== undefined) input.body = request.body as BodySource;
      const answer = await relay.handle(input);
      // The cookies the relay asks for (a page's `_fbc`) beside those `onRequest` put there.
      appendReplySetCookies(reply, answer.cookies);
      return reply.code(answer.status).headers(answer.headers).send(answer.body);
    };
    relayHandlers.add(relayRoute);
    scope.all(route, relayRoute);
  });
}

/**
 * Fastify plugin: decorates `request.capi` (the request context, computed only when cookies may
 * change or an event is tracked: client IP, user agent, page URL, `_fbp`/`_fbc`), writes the
 * cookies, tracks route-level `config.capi` conversions once their reply has finished, and closes
 * its client in `onClose` (a shared `client` is left open).
 * @example await app.register(capiPlugin, { pixelId, accessToken, trustProxy: 'loopback' })
 */
export const capiPlugin: FastifyPluginCallback<CapiFastifyOptions> = Object.assign(plugin, {
  // What `fastify-plugin` would set, written out (Fastify documents the `skip-override` property
  // as the other way; https://github.com/fastify/fastify-plugin#readme): not encapsulated, so
  // `request.capi` and the hooks reach the app's routes; Fastify itself checks the version range
  // and lists the name (`hasPlugin`, `printPlugins`). One module less to load at import, and one
  // dependency less (docs/architecture.md, "Fifteenth session").
  [Symbol.for('skip-override')]: true,
  [Symbol.for('fastify.display-name')]: PLUGIN_NAME,
  [Symbol.for('plugin-meta')]: { fastify: '4.x || 5.x', name: PLUGIN_NAME },
});

export default capiPlugin;
