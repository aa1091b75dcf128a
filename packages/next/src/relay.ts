/**
 * The server side of `@capi-kit/browser`'s first-party relay as an App Router route handler. The
 * rules live in `@capi-kit/core`'s `createRelay`; this file only translates Next's `Request` (the
 * browser's host and peer address, as everywhere in this package) and keeps delivery alive.
 */
import {
  type CapiClient,
  createRelay,
  optionsRedactor,
  type Relay,
  type RelayOptions,
} from '@capi-kit/core';
import { requestWaitUntil } from './keep-alive.js';
import { createNextCapi, type NextCapi, type NextCapiOptions } from './next-capi.js';
import { requestInput } from './request-scope.js';

/**
 * Options of {@link createRelayRoute}: the relay's rules (`identify` gets the `Request`), the same
 * options as `createNextCapi` (pass the same `trustProxy`, `consent`…), and optionally `capi`, the
 * app's binding, to deliver through its client instead of one created from these options.
 */
export interface RelayRouteOptions extends NextCapiOptions, RelayOptions<Request> {
  /** The app's `createNextCapi()` binding whose client delivers the relayed events. */
  capi?: NextCapi | undefined;
}

/** The route module's exports: `POST` answers the relay; other methods get Next's `405`. */
export interface RelayRoute {
  /** Handles one relay request; `204` without waiting for Meta. */
  POST(request: Request): Promise<Response>;
}

// Keys of RelayOptions: they configure the relay, not the client. A record, so a rule added to
// RelayOptions fails to compile here until it is listed (`identifyTimeoutMs` was missing from a
// list, and went to the client instead: the relay kept its 2 s default). `now` is passed apart.
const RULE_KEYS: Record<Exclude<keyof RelayOptions<Request>, 'now'>, true> = {
  pixelIds: true,
  allowEvents: true,
  allowCustomData: true,
  allowUserData: true,
  identify: true,
  identifyTimeoutMs: true,
  maxBodyBytes: true,
  maxEvents: true,
  bodyTimeoutMs: true,
  rateLimit: true,
  maxClockSkewSeconds: true,
};
const RULES = Object.keys(RULE_KEYS) as (keyof typeof RULE_KEYS)[];

/**
 * A route handler for `app/capi/events/route.ts`, where `@capi-kit/browser` posts each Pixel event:
 * it forwards them through the Conversions API with their browser `event_id`, the request's IP,
 * user agent, `_fbp`/`_fbc`, consent and the signed-in user from `identify`. The client is created
 * on the first request, so `next build` needs no credentials.
 * @example export const { POST } = createRelayRoute({ trustProxy: 1, identify: async () => currentUser() });
 */
export function createRelayRoute(options: RelayRouteOptions = {}): RelayRoute {
  const { capi: shared, ...rest } = options;
  const rules: RelayOptions<Request> = {};
  const capiOptions: Record<string, unknown> = { ...rest };
  for (const key of RULES) {
    if (rest[key] !== undefined) Object.assign(rules, { [key]: rest[key] });
    delete capiOptions[key];
  }
  // Given a binding, requests are read as it reads them (its trustProxy, consent, destinations),
  // with this route's own options on top.
  const contextOptions = (
    shared === undefined ? capiOptions : { ...shared.requestContextOptions, ...capiOptions }
  ) as NextCapiOptions;
  const capi = shared ?? createNextCapi(contextOptions);
  let relay: Relay<Request> | undefined;
  let toldRefused = false;
  /** Says once why the relay answers 503: `capi.client` leaves its error to the caller to tell. */
  const tellRefused = (error: unknown): void => {
    if (toldRefused) return;
    toldRefused = true;
    const message =
      'capi-kit/next: the relay route could not create the Conversions API client, relayed events are not sent (503)';
    // Errors can echo configuration: never print the secrets.
    const detail = optionsRedactor(options)(error instanceof Error ? error.message : String(error));
    try {
      if (options.logger) options.logger.error({ error: detail }, message);
      else console.error(`${message}: ${detail}`);
    } catch {
      // A throwing logger must not break the answer.
    }
  };

  return {
    async POST(request) {
      if (relay === undefined) {
        let client: CapiClient;
        try {
          client = capi.client;
        } catch (error) {
          // Misconfigured (no pixel or token): a relay-only app heard of it nowhere else.
          tellRefused(error);
          return new Response(null, { status: 503, headers: { 'cache-control': 'no-store' } });
        }
        relay = createRelay<Request>({
          ...rules,
          now: contextOptions.now,
          client,
          requestContext: contextOptions,
        });
      }
      const answer = await relay.handle({
        request: requestInput(request),
        body: request.body,
        appRequest: request,
        // The route's own keep-alive, else the shared binding's (on a platform whose waitUntil
        // the app passes in, the relayed events were left to after(), which may not exist there).
        waitUntil: await requestWaitUntil(contextOptions.waitUntil ?? shared?.waitUntil),
      });
      const headers = new Headers(answer.headers);
      for (const cookie of answer.cookies) headers.append('set-cookie', cookie);
      return new Response(answer.body ?? null, { status: answer.status, headers });
    },
  };
}
