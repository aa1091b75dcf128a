// Which Graph API versions the events edge still serves, and the one the mock's URLs name by
// default. "A version will no longer be usable two years after the date that the subsequent
// version is released" (developers.facebook.com/docs/graph-api/guides/versioning [VER]); the
// dates are Meta's changelog (developers.facebook.com/docs/graph-api/changelog [CHG]): the core's
// table, which the CLI's doctor reads too, bundled in at build time like the core's other lists.
import { API_VERSIONS } from '../../core/src/delivery/api-versions.js';
import { type GraphErrorAnswer, graphErrorAnswer } from './graph-error.js';

/** Default API version used by {@link MockGraph.eventsUrl}. */
export const DEFAULT_GRAPH_VERSION = 'v26.0';

const majorOf = (version: string): number => Number(/^v(\d+)\./.exec(version)?.[1] ?? Number.NaN);

/**
 * Graph's answer to a version past its end on `nowMs` (400, code 2635), or undefined while it
 * works. A version older than the table's oldest ended before it; one newer than the table's
 * newest may have been released since, so it is served.
 */
export const retiredVersionAnswer = (
  version: string,
  nowMs: number,
): GraphErrorAnswer | undefined => {
  const newest = API_VERSIONS[0]?.version ?? version;
  const known = API_VERSIONS.find((v) => v.version === version);
  const oldest = API_VERSIONS.at(-1)?.version ?? version;
  const retired = known
    ? known.availableUntil !== undefined && nowMs >= Date.parse(`${known.availableUntil}T00:00:00Z`)
    : majorOf(version) < majorOf(oldest);
  if (!retired) return undefined;
  return graphErrorAnswer(400, {
    message: `(#2635) You are calling a deprecated version of the Ads API. Please update to the latest version: ${newest}.`,
    type: 'OAuthException',
    code: 2635,
    is_transient: false,
  });
};
