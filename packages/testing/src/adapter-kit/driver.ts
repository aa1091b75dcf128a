/**
 * The contract between the conformance kit and one framework: what a driver starts and which
 * routes the app it starts must serve. The kit holds every check; a driver only translates.
 */

/** The counters the kit reads from `client.stats()` (a subset of `@capi-kit/core`'s `CapiStats`). */
export interface KitStats {
  sent: number;
  queued: number;
  inFlight: number;
  deadLettered: number;
  dropped: object;
  dedup: { relay: number };
}

/** What the client reports through its `error` hook (a subset of `@capi-kit/core`'s `ErrorInfo`). */
export interface KitErrorInfo {
  kind: string;
  source?: string | undefined;
  error: Error;
}

/** The part of `@capi-kit/core`'s `CapiClient` the kit uses; the adapter's client satisfies it. */
export interface KitClient {
  /** True once closed. */
  readonly closed: boolean;
  /** Sends what is queued. */
  flush(): Promise<void>;
  /** Flushes and closes. */
  close(options?: { timeoutMs?: number }): Promise<void>;
  /** Delivery counters. */
  stats(): KitStats;
  /** Subscribes to the `error` hook; returns the unsubscribe function. */
  on(name: 'error', listener: (info: KitErrorInfo) => void): () => void;
}

/** The request-bound tracker an adapter hands a route (`req.capi`, `request.capi`, `@CapiContext()`). */
export interface KitRequestCapi {
  /** `track(name, params)` or `track(event)`, bound to the request. */
  track(nameOrEvent: string | object, params?: object): unknown;
  /** A fresh event ID. */
  eventId(): string;
  /** The request context (client IP, user agent, cookies, page URL, consent). */
  readonly context: unknown;
}

/**
 * One way to set the app up for the relay's body-size checks (e.g. with and without the
 * framework's JSON parser in front of it).
 */
export interface RelayVariant {
  /** Shown in the suite name and passed back to `start` as `variant`. */
  name: string;
  /**
   * True when a body parser in front of the relay keeps only the parsed value (no bytes), so the
   * relay can only measure the body as JSON: escaped unicode over the cap on the wire then passes.
   */
  parsesJsonFirst: boolean;
}

/** What the kit asks a driver to start. */
export interface KitStartOptions {
  /**
   * The adapter's options, to pass on as they are: credentials and `graphUrl` of the kit's mock
   * Graph API, `env: false`, `trustProxy: 'loopback'`, and per check `relay`, `strict`, `cookies`,
   * `consent`, `flushOnEnd`, `timeoutMs`, `flushIntervalMs` or a shared `client`.
   */
  capi: Record<string, unknown>;
  /** The name of one of the driver's {@link RelayVariant}s; the first when unset. */
  variant?: string | undefined;
}

/** A running app, as the driver's `start` returns it. */
export interface KitApp {
  /** `http://127.0.0.1:<port>`, no trailing slash. */
  url: string;
  /** The adapter's delivery client. */
  client: KitClient;
  /**
   * Resolves once every response sent so far has been considered for route-level tracking (for
   * adapters that track after the response, e.g. on Express's `finish`); else resolve at once.
   */
  settled(): Promise<unknown>;
  /** Stops the server and shuts capi-kit down the framework's way (what an app does on SIGTERM). */
  close(): Promise<void>;
}

/**
 * A framework's driver for {@link describeAdapterConformance}. `start` must serve these routes on
 * loopback, with the adapter in front of all of them (`KIT_*` constants are exported):
 * - `ALL /kit/call`: answers `await answerKitCall(<the x-kit-call header>, <the request's tracker>)` as JSON.
 * - `GET /kit/cookies`: answers 200 and sets the app's own cookies `csrf=1; Path=/`,
 *   `session=abc; Path=/; HttpOnly` and `theme=dark; Path=/` (and any more the driver lists in
 *   `cookieOrder`), before the adapter runs where the framework allows, else in the handler.
 * - `POST /kit/purchase[?status=N]`: a route-level `Purchase` conversion whose map returns
 *   `KIT_PURCHASE`; answers status N (default 200) with `{ ok: N < 400 }`.
 * - `POST /kit/no-map`: a `CompleteRegistration` conversion without a map; answers `{ ok: true }`.
 * - `GET /kit/view` (and `HEAD`, as the framework answers it for a GET route): a `ViewContent`
 *   conversion without a map; answers 200 with the text `view`.
 * - `POST /kit/throws`: a `Purchase` conversion whose handler throws `Error('handler failed')` (500).
 * - `POST /kit/bad-map`: a `Purchase` conversion whose map throws `Error('map exploded')`; answers
 *   201 `{ created: true }`.
 * - `POST /kit/invalid-purchase`: a `Purchase` conversion whose map returns `KIT_INVALID_PURCHASE`
 *   (no currency); answers `{ ok: true }`.
 * - `POST /capi/other`: an app route beside the relay; answers `{ n }` from its JSON body `{ n }`.
 * - with `capi.relay`: the adapter's relay at `relay.path` (default `/capi/events`).
 */
export interface AdapterDriver {
  /** Shown in the suite names, e.g. `Express 5`. */
  name: string;
  /** Starts the app on `127.0.0.1` with an ephemeral port; resolves once it listens. */
  start(options: KitStartOptions): Promise<KitApp>;
  /**
   * The `Set-Cookie` names `/kit/cookies` answers on a landing with `?fbclid=`, in order, with
   * `_fbp` and `_fbc` where the adapter's stand (e.g. `['csrf', 'session', '_fbp', '_fbc', 'theme']`).
   */
  cookieOrder: readonly string[];
  /**
   * Creates a delivery client to share between two apps (`createCapi` from `@capi-kit/core`);
   * without it the shared-client checks are skipped.
   */
  createClient?(options: Record<string, unknown>): KitClient;
  /** The relay's set-ups to check; `false` when the adapter serves no relay. Default: one. */
  relayVariants?: readonly RelayVariant[] | false;
  /**
   * False when the framework, not the adapter, answers the relay path's other methods (a Next.js
   * route module exporting only `POST`); else the kit expects `405` with `Allow: POST`.
   */
  relayAnswersOtherMethods?: boolean;
  /**
   * True when the framework's server, not the adapter, decides what becomes of the connection
   * after the 413 to a chunked upload over the relay's cap, and keeps it open (Next.js); else the
   * kit expects `Connection: close`.
   */
  relayKeepsOversizedConnections?: boolean;
  /**
   * True when the adapter sends each request's events as the request ends (Next.js `withCapi`)
   * rather than in batches; the shutdown check then does not expect them still queued.
   */
  deliversPerRequest?: boolean;
  /**
   * False when the framework exposes no socket address and the last `X-Forwarded-For` hop stands
   * in for it (Next.js): two apps with different `trustProxy` then see the same client IP.
   */
  socketPeer?: boolean;
  /**
   * The `error` hook's `source` for a route conversion's throwing map and for a strict-mode
   * rejection of its event (both for `Purchase`), when the adapter reports them through the hook.
   */
  errorSources?: { map?: string; track?: string };
}

/** What `/kit/purchase`'s map returns: a valid `Purchase` with its own `event_id`. */
export const KIT_PURCHASE = {
  event_id: 'order-1',
  user_data: { em: 'buyer@example.com' },
  custom_data: { value: 42, currency: 'USD' },
} as const;

/** What `/kit/invalid-purchase`'s map returns: a `Purchase` without `currency`, which is invalid. */
export const KIT_INVALID_PURCHASE = { custom_data: { value: 1 } } as const;

/** The request header that tells `/kit/call` what to do (JSON, see {@link KitCall}). */
export const KIT_CALL_HEADER = 'x-kit-call';
