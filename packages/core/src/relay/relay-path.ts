import { DEFAULT_RELAY_PATH } from './protocol.js';

/**
 * Why `path` cannot be a relay's path, or `undefined` when it can. The relay answers the path the
 * browser posts to, compared with the request's whole path from the site root: one without its
 * leading `/`, with a query or a fragment, or empty never matches a request, and the browser's
 * events would go to the app's 404 with nothing said. Adapters refuse it before a client exists.
 * @example relayPathProblem('capi/events') // "relay.path must be a path from the site root, …"
 */
export function relayPathProblem(path: unknown): string | undefined {
  if (typeof path === 'string' && /^\/[^?#]*$/.test(path)) return undefined;
  return `relay.path must be a path from the site root, starting with '/' and without a query, like the default '${DEFAULT_RELAY_PATH}'`;
}

/**
 * Why an adapter's `relay` option is of the wrong kind, or `undefined` when it is `true`, `false`,
 * unset or an options object. From JavaScript, `relay: '/api/capi/events'` (the path alone) turned
 * the relay on at the default path: every adapter read `relay.path` of the string, `undefined`,
 * and the browser's posts to the intended path went to the 404 unheard. Adapters refuse it before
 * a client exists.
 * @example relayOptionProblem('/api/capi/events') // "relay must be true or the relay's options …"
 */
export function relayOptionProblem(relay: unknown): string | undefined {
  if (relay === undefined || relay === null || typeof relay === 'boolean') return undefined;
  if (typeof relay === 'object' && !Array.isArray(relay)) return undefined;
  return `relay must be true or the relay's options ({ path, … }), got ${
    typeof relay === 'string'
      ? `a string: for another path write relay: { path: ${JSON.stringify(relay.slice(0, 64))} }`
      : Array.isArray(relay)
        ? 'an array'
        : typeof relay
  }`;
}
