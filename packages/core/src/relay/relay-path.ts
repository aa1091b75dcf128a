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
