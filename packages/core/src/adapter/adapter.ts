import { forwardedHeaderProblem, platformProblem } from '../context/client-ip.js';
import {
  type CookieToSet,
  getRequestContextOrEmpty,
  mayWriteCookies,
  type NodeRequestLike,
  type RequestContext,
  type RequestContextOptions,
} from '../context/index.js';
import { withClientDestinations } from '../context/request-context.js';
import { proxyWarningOnce, trustProxyProblem } from '../context/trust-proxy.js';
import {
  type CapiClient,
  type CapiOptions,
  createCapi,
  streamKey,
  type TrackOptions,
  type TrackResult,
} from '../delivery/index.js';
import { newEventId } from '../event/event-id.js';
import type {
  CustomDataFor,
  EventName,
  ServerEventInput,
  ServerEventInputFields,
} from '../event/index.js';
import { CapiValidationError } from '../event/issues.js';

/**
 * What an adapter takes: the client's options and the request-context options in one object, or
 * `client` to share a client created with `createCapi` (then the client options are ignored).
 */
export type CapiAdapterOptions = CapiOptions & RequestContextOptions & { client?: CapiClient };

/**
 * Everything of an event but its name, for `track(eventName, params)`, typed by the name: a
 * `Purchase` needs `custom_data` with `value` and `currency`; other standard names and custom
 * names need nothing. Without a name (`TrackParams`) everything is optional.
 * @example const params: TrackParams<'Purchase'> = { custom_data: { value: 9.99, currency: 'USD' } }
 */
export type TrackParams<Name extends EventName = EventName> = ServerEventInputFields &
  CustomDataFor<Name>;

/**
 * What a `map` callback or lazy params may return for `Name`: {@link TrackParams}, or `undefined`
 * (nothing to add) for every name that requires nothing, i.e. all but `Purchase`.
 */
export type TrackParamsOrNone<Name extends EventName = EventName> = string extends Name
  ? TrackParams<Name> | undefined
  : Name extends 'Purchase'
    ? TrackParams<Name>
    : TrackParams<Name> | undefined;

/**
 * Params computed when the event is tracked, e.g. from a handler's result. If the function throws,
 * the error goes to the client's `error` hook and logger, and nothing is tracked: the user's
 * request never sees it.
 */
export type LazyTrackParams<Name extends EventName = EventName> = () => TrackParamsOrNone<Name>;

/**
 * What a framework adapter adds to the core's framework-neutral messages, in its users' terms.
 * @example createCapiAdapter(options, { proxyNote: "Express's app.set('trust proxy') is not read: set trustProxy on capi()." })
 */
export interface CapiAdapterWording {
  /**
   * Added to the one-time warning that a request came through a proxy `trustProxy` does not reach
   * past: where this framework's users set `trustProxy`, and what of their framework's own proxy
   * setting capi-kit does not read.
   */
  proxyNote?: string | undefined;
}

/** The request-bound API adapters expose as `req.capi` / `request.capi`. */
export interface RequestCapi {
  /**
   * Tracks an event with this request's context filled in (explicit values win). Synchronous and
   * never throws (unless `strict`); the result says whether the event was accepted and why not.
   * Generic over the name, so a `Purchase` without `custom_data.value`/`currency` or a misspelled
   * `custom_data` key is a compile error; custom names take any params, custom parameters go in
   * `custom_data.custom_properties`. `eventName` is the name sent: an `event_name` in `params`
   * that differs is ignored and reported (`event_name_in_params`, a warning).
   * @example req.capi.track('Lead', { user_data: { em: email } })
   */
  // What a user sees, e.g. for `track('Purchase', { custom_data: { value: 1 } })`: "Property
  // 'currency' is missing in type '{ value: number; }' but required in type 'PurchaseCustomData'";
  // for `track('Purchase', {})`: "Argument of type '{}' is not assignable to parameter of type
  // 'TrackParams<"Purchase"> | LazyTrackParams<"Purchase"> | undefined'". `params` stays optional
  // for every name: requiring it for `Purchase` (a rest tuple) made `track('Purchase')` report the
  // object form's mismatch ("'string' is not assignable to 'ServerEventInput'"), which misleads;
  // that call is rejected at run time with `missing_value`/`missing_currency` instead.
  track<Name extends EventName>(
    eventName: Name,
    params?: TrackParams<Name> | LazyTrackParams<Name>,
  ): TrackResult;
  /** Tracks a complete event input with this request's context filled in. */
  track<Name extends EventName>(event: ServerEventInput<Name>): TrackResult;
  /** A fresh event ID, to render into the page's Pixel call before tracking the server copy. */
  eventId(): string;
  /** The request context: client IP, user agent, `_fbp`/`_fbc`, page URL, consent. */
  readonly context: RequestContext;
}

/** The pieces every framework adapter is made of: one client and a per-request binder. */
export interface CapiAdapter {
  /** The delivery client (created here, or the one passed as `options.client`). */
  readonly client: CapiClient;
  /** Whether the adapter created the client and so must close it when the app shuts down. */
  readonly ownsClient: boolean;
  /**
   * Computes the request context of a Web `Request` or a Node-style request. Never throws: a
   * failure is reported through the client and an empty context (no cookies) is returned.
   */
  contextOf(request: Request | NodeRequestLike, remoteAddress?: string): RequestContext;
  /** Binds `track` and `eventId` to a request context (and a request-scoped `waitUntil`). */
  bind(context: RequestContext | (() => RequestContext), options?: BindOptions): RequestCapi;
  /**
   * What a middleware does per request: the `_fbp`/`_fbc` cookies to set now, and `req.capi`. The
   * context is computed right away only when cookies may change (see `mayWriteCookies`); otherwise
   * on the first `track()` or `context` read, so a request that tracks nothing costs ~nothing.
   * @example const { capi, cookiesToSet } = adapter.forRequest(fromIncomingMessage(req))
   */
  forRequest(request: Request | NodeRequestLike, options?: ForRequestOptions): BoundRequest;
  /** Closes the client if the adapter owns it (flushes what is queued first). */
  close(options?: { timeoutMs?: number }): Promise<void>;
}

/** Per-request options of {@link bindRequest}. */
export interface BindOptions {
  /** Keeps a serverless invocation alive until the flush this request's events trigger is done. */
  waitUntil?: ((promise: Promise<unknown>) => void) | undefined;
}

/** Per-request options of {@link CapiAdapter.forRequest}. */
export interface ForRequestOptions extends BindOptions {
  /** The socket's peer address when `request` (a Web `Request`) does not carry one. */
  remoteAddress?: string | undefined;
}

/** One request as an adapter sees it, from {@link CapiAdapter.forRequest}. */
export interface BoundRequest {
  /** What to expose as `req.capi`. */
  readonly capi: RequestCapi;
  /** The `Set-Cookie` values to add to the response before it is sent (often none). */
  readonly cookiesToSet: readonly CookieToSet[];
}

const NO_COOKIES: readonly CookieToSet[] = Object.freeze([]);

/**
 * What a binding tracks with when its context function threw: nothing known, and consent
 * `denied`, failing closed, since the function that failed may have been the one deciding it.
 */
const unknownContext = (): RequestContext => ({
  user_data: {},
  cookiesToSet: [],
  consent: 'denied',
  isNavigation: false,
});

/**
 * `req.capi`: a class rather than an object literal because V8 builds a literal with a getter on
 * a slow path (~1 µs per request, measured); `track` and `eventId` stay own functions so that
 * `const { track } = req.capi` keeps working.
 */
class RequestBinding implements RequestCapi {
  // `#` fields: req.capi shows (and serializes) only what users may touch.
  readonly #client: CapiClient;
  readonly #waitUntil: BindOptions['waitUntil'];
  /** The context, or until first use the function that computes it. */
  #context: RequestContext | (() => RequestContext);

  constructor(
    client: CapiClient,
    context: RequestContext | (() => RequestContext),
    waitUntil: BindOptions['waitUntil'],
  ) {
    this.#client = client;
    this.#waitUntil = waitUntil;
    this.#context = context;
  }

  get context(): RequestContext {
    const context = this.#context;
    if (typeof context !== 'function') return context;
    try {
      this.#context = context();
    } catch (error) {
      // A context function given to `bind()` is app code: its failure must not reach the request.
      this.#client.reportError(error, 'request context');
      this.#context = unknownContext();
    }
    return this.#context;
  }

  readonly eventId = newEventId;

  // Caller data is handed to the client unread (params through `eventName`), so that every read
  // of it happens inside track()'s one guard: a throwing getter or Proxy is dropped there, counted.
  readonly track = (
    nameOrEvent: EventName | ServerEventInput,
    params?: TrackParams | LazyTrackParams,
  ): TrackResult => {
    const client = this.#client;
    if (typeof nameOrEvent !== 'string') return client.track(nameOrEvent, this.#optionsOfTrack());
    const options = this.#optionsOfTrack(nameOrEvent);
    // `params` stands in for the input: track() reads (or calls) it with `eventName` set.
    const input = params as ServerEventInput | undefined as ServerEventInput;
    if (typeof params !== 'function') return client.track(input, options);
    // Lazy params run where nobody could catch an error (after the response was sent): a throwing
    // function is reported by track() itself, and a `strict`-mode rejection here.
    try {
      return client.track(input, options);
    } catch (error) {
      client.reportError(error, `${nameOrEvent} track`);
      const issues = error instanceof CapiValidationError ? [...error.issues] : [];
      const event_id = newEventId();
      return { event_id, accepted: false, issues, reason: issues.length ? 'invalid' : 'error' };
    }
  };

  #optionsOfTrack(eventName?: string): TrackOptions {
    const waitUntil = this.#waitUntil;
    const context = this.context;
    // One literal per shape: adding a property to an object afterwards costs a slow transition.
    if (eventName === undefined) return waitUntil ? { context, waitUntil } : { context };
    return waitUntil ? { context, waitUntil, eventName } : { context, eventName };
  }
}

/**
 * Binds a client to one request's context, or to a function computing it on first use (called at
 * most once; if it throws, the error is reported and the request tracks with an empty context and
 * consent `denied`): what `req.capi` is in every adapter.
 */
export function bindRequest(
  client: CapiClient,
  context: RequestContext | (() => RequestContext),
  options: BindOptions = {},
): RequestCapi {
  return new RequestBinding(client, context, options.waitUntil);
}

/**
 * The app's consent callback, its failures told: one that throws or answers anything but a
 * consent state still counts as `denied` (the context's rule), but silently that would drop every
 * event of an app whose callback is `async` (a Promise) or returns `true`. A throw is reported each
 * time (it may depend on the request), an answer of the wrong kind once.
 */
function heardConsent(
  consent: NonNullable<RequestContextOptions['consent']>,
  client: CapiClient,
): NonNullable<RequestContextOptions['consent']> {
  let toldAnswer = false;
  return (input, request) => {
    let answer: unknown;
    try {
      answer = consent(input, request);
    } catch (error) {
      client.reportError(error, 'consent');
      return 'denied';
    }
    if (answer === 'granted' || answer === 'denied' || answer === 'ldu') return answer;
    if (!toldAnswer) {
      toldAnswer = true;
      // The kind of answer, not the answer: it was computed from the request.
      const kind =
        answer instanceof Promise ? 'a Promise' : answer === null ? 'null' : typeof answer;
      client.reportError(
        new Error(
          `the consent callback returned ${kind}, not 'granted', 'denied' or 'ldu' (it must answer synchronously); every such request counts as 'denied' and tracks nothing`,
        ),
        'consent',
      );
    }
    return 'denied';
  };
}

/**
 * Whether a route's declared conversion (`trackConversion`, `config.capi`, `@TrackConversion`,
 * `withCapi`'s `event`) counts the response to this request: a status below 400, to any method but
 * `HEAD` and `OPTIONS`. Express, Fastify and Next.js answer `HEAD` with the `GET` route's handler,
 * and uptime monitors, link checkers and `curl -I` send it; a visitor's browser never does for a
 * page it shows. `OPTIONS` is a browser's CORS preflight, which asks whether it may send the real
 * request: a route written with `app.all()` (or a `router.use()`) answered it with the conversion's
 * middleware, and counted a `Lead` before the form was even sent.
 * @example if (conversionCounts(req.method, res.statusCode)) req.capi.track('ViewContent')
 */
export function conversionCounts(method: string | undefined, status: number): boolean {
  return status < 400 && method !== 'HEAD' && method !== 'OPTIONS';
}

/**
 * Whether `client` has a Meta stream: a bare pixel id among its streams (other destinations' are
 * `<name>:<id>`, as the relay reads them). A client that cannot say is taken to have one.
 */
function sendsToMeta(client: CapiClient): boolean {
  try {
    return Object.keys(client.stats().pixels).some((key) => !key.includes(':'));
  } catch {
    return true;
  }
}

/**
 * What is wrong with an `ldu` option, or `undefined`. Read per request as `{ country, state }`, a
 * country code (`ldu: 'US'`) had neither and every LDU event asked Meta to geolocate, silently; a
 * country or state Meta does not take (`{ country: 'US' }`) made every such event invalid. Values
 * are those of Meta's Limited Data Use fields ([SE]):
 * https://developers.facebook.com/documentation/ads-commerce/conversions-api/parameters/server-event
 */
function lduLocationProblem(ldu: unknown): string | undefined {
  if (ldu === undefined || ldu === null) return undefined;
  const hint =
    'write { country: 1, state: 1000 } for California, { country: 1, state: 0 } for the rest of the US, or leave it out and Meta geolocates';
  if (typeof ldu !== 'object' || Array.isArray(ldu)) {
    return `must be { country, state }, got ${typeof ldu === 'string' ? `the string ${JSON.stringify(ldu.slice(0, 16))}` : Array.isArray(ldu) ? 'an array' : typeof ldu}: ${hint}`;
  }
  const { country, state } = ldu as { country?: unknown; state?: unknown };
  if (country !== undefined && country !== 0 && country !== 1) {
    return `country must be 1 (United States) or 0 (geolocate), got ${typeof country === 'string' ? JSON.stringify(country.slice(0, 16)) : typeof country === 'number' ? country : typeof country}: ${hint}`;
  }
  if (state !== undefined && state !== 0 && state !== 1000) {
    return `state must be 1000 (California) or 0 (geolocate), got ${typeof state === 'string' ? JSON.stringify(state.slice(0, 16)) : typeof state === 'number' ? state : typeof state}: ${hint}`;
  }
  return undefined;
}

/**
 * Refuses, at creation, request-context options the request path would read against the app:
 * a `trustProxy` it cannot read (every visitor given the proxy's address), a `platform` that names
 * no preset (`'Cloudflare'`: every visitor without an IP), a `forwardedHeader` other than the two
 * lowercase names (`'X-Forwarded-For'` found no header), a `cookieDomain` that is not a string
 * (it failed the context of every page view), a `consent` that is not
 * a function (`consent: 'granted'` was called per request, threw and counted as `denied`: every
 * event dropped), an `ldu` location Meta does not take (`ldu: 'US'`) and a `cookies`, `generateFbp` or `respectGpc` that is not a boolean
 * (`cookies: 'false'` from an environment variable was not `false`). Every adapter runs it before
 * its client exists, and so does `@capi-kit/next`'s `capiProxy`, which has no client.
 * @example checkContextOptions({ consent: 'granted' }) // throws: write consent: () => 'granted'
 */
export function checkContextOptions(options: RequestContextOptions): void {
  const trustProblem = trustProxyProblem(options.trustProxy);
  if (trustProblem !== undefined) throw new TypeError(`capi-kit: trustProxy: ${trustProblem}`);
  const forwarded = forwardedHeaderProblem(options.forwardedHeader);
  if (forwarded !== undefined) throw new TypeError(`capi-kit: forwardedHeader ${forwarded}`);
  const platform = platformProblem(options.platform);
  if (platform !== undefined) throw new TypeError(`capi-kit: platform: ${platform}`);
  const consent: unknown = options.consent;
  if (consent !== undefined && consent !== null && typeof consent !== 'function') {
    const fixed =
      consent === 'granted' || consent === 'denied' || consent === 'ldu'
        ? `'${consent}'`
        : undefined;
    throw new TypeError(
      `capi-kit: consent must be a function (input, { header, cookies }) => 'granted' | 'denied' | 'ldu', got ${fixed === undefined ? typeof consent : `the string ${fixed}`}` +
        (fixed === undefined
          ? ''
          : `; for the same answer on every request write consent: () => ${fixed}`),
    );
  }
  const cookieDomain: unknown = options.cookieDomain;
  if (cookieDomain !== undefined && cookieDomain !== null && typeof cookieDomain !== 'string') {
    throw new TypeError(
      `capi-kit: cookieDomain must be a domain name such as 'example.com', got ${typeof cookieDomain}`,
    );
  }
  const lduProblem = lduLocationProblem(options.ldu);
  if (lduProblem !== undefined) throw new TypeError(`capi-kit: ldu ${lduProblem}`);
  for (const name of ['cookies', 'generateFbp', 'respectGpc'] as const) {
    const value: unknown = options[name];
    if (value !== undefined && value !== null && typeof value !== 'boolean') {
      throw new TypeError(
        `capi-kit: ${name} must be true or false, got ${typeof value === 'string' ? `the string ${JSON.stringify(value.slice(0, 16))}` : typeof value}`,
      );
    }
  }
}

/**
 * The shared start of every adapter: resolves the client (own or shared) and the context options.
 * Third-party adapters for other frameworks are built from this, exactly like ours; `wording`
 * adds to the core's messages in the framework's terms.
 */
export function createCapiAdapter(
  options: CapiAdapterOptions = {},
  wording: CapiAdapterWording = {},
): CapiAdapter {
  const { client: shared, ...rest } = options;
  // Told before any client is created: a value that trusts nothing it names would give every
  // visitor the proxy's address (the request path fails closed and cannot say so per request).
  checkContextOptions(rest);
  const client = shared ?? createCapi(rest);
  // A shared client's destinations need the request context too (their click IDs and cookies).
  const sharedDestinations = shared?.destinations;
  if (shared !== undefined && rest.destinations !== undefined) {
    // Destinations are the client's: given to the adapter beside a shared client they would only
    // set cookies (`ttclid`) for events that never leave for that platform.
    const sent = new Set((sharedDestinations ?? []).map(streamKey));
    const missing = rest.destinations.map(streamKey).filter((key) => !sent.has(key));
    if (missing.length > 0) {
      throw new TypeError(
        `capi-kit: the shared client does not send to ${missing.join(', ')}; give destinations to createCapi() for that client, not to the adapter`,
      );
    }
  }
  let withDestinations = withClientDestinations(rest, sharedDestinations);
  if (withDestinations.generateFbp === undefined && !sendsToMeta(client)) {
    // A client without a Meta stream (TikTok alone) mints no `_fbp`: Meta's browser ID would be a
    // Facebook cookie on every visitor of a site that sends nothing to Meta.
    withDestinations = { ...withDestinations, generateFbp: false };
  }
  const { consent } = withDestinations;
  const contextOptions: RequestContextOptions =
    consent === undefined || consent === null
      ? withDestinations
      : { ...withDestinations, consent: heardConsent(consent, client) };
  // Until told once, each context checks whether its client IP is a proxy's (see
  // `reportProxyNotTrusted`); after that the check is not made again.
  const proxyWarning = proxyWarningOnce(client, rest.forwardedHeader, wording.proxyNote);
  const contextOf = (request: Request | NodeRequestLike, remoteAddress?: string) =>
    getRequestContextOrEmpty(
      request,
      remoteAddress === undefined ? contextOptions : { ...contextOptions, remoteAddress },
      (error) => client.reportError(error, 'request context'),
      proxyWarning(),
    );
  return {
    client,
    ownsClient: shared === undefined,
    contextOf,
    bind: (context, bindOptions) => bindRequest(client, context, bindOptions),
    forRequest: (request, requestOptions = {}) => {
      const { remoteAddress } = requestOptions;
      let cookiesMayChange: boolean;
      try {
        cookiesMayChange = mayWriteCookies(request, contextOptions);
      } catch {
        // An input it cannot read takes the eager path, where contextOf reports the failure.
        cookiesMayChange = true;
      }
      if (!cookiesMayChange) {
        const lazy = () => contextOf(request, remoteAddress);
        return { capi: bindRequest(client, lazy, requestOptions), cookiesToSet: NO_COOKIES };
      }
      const context = contextOf(request, remoteAddress);
      return {
        capi: bindRequest(client, context, requestOptions),
        cookiesToSet: context.cookiesToSet,
      };
    },
    close: async (closeOptions) => {
      if (shared === undefined) await client.close(closeOptions);
    },
  };
}
