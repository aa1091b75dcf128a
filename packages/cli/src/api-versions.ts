// When each Graph API version stops working: the table lives in @capi-kit/core
// (delivery/api-versions.ts), which the mock Graph API of @capi-kit/testing also reads.
import { API_VERSIONS } from '@capi-kit/core';

export { API_VERSIONS, type ApiVersionInfo } from '@capi-kit/core';

/** Warn this many days before a version's end. */
export const VERSION_WARNING_DAYS = 90;

/** What the doctor says about a version on a given day. */
export interface VersionVerdict {
  /** `ok`, `warn` (< 90 days left, or unknown), `fail` (past its end). */
  status: 'ok' | 'warn' | 'fail';
  /** One line for people. */
  message: string;
  /** Days until the end (negative when past); undefined when there is no announced end. */
  daysLeft?: number;
}

const DAY_MS = 86_400_000;

/** Checks `version` against {@link API_VERSIONS} on `nowMs`. */
export const checkApiVersion = (version: string, nowMs: number): VersionVerdict => {
  const newest = API_VERSIONS[0]?.version ?? version;
  const info = API_VERSIONS.find((v) => v.version === version);
  if (!info) {
    const older = /^v(\d+)\./.exec(version);
    const known = /^v(\d+)\./.exec(API_VERSIONS.at(-1)?.version ?? '');
    if (older && known && Number(older[1]) < Number(known[1])) {
      return { status: 'fail', message: `${version} is no longer available; use ${newest}` };
    }
    return {
      status: 'warn',
      message: `${version} is not in capi-kit's table (newest known: ${newest})`,
    };
  }
  if (!info.availableUntil) {
    return {
      status: 'ok',
      message: `${version} (released ${info.released}, no end date announced)`,
    };
  }
  const end = Date.parse(`${info.availableUntil}T00:00:00Z`);
  const daysLeft = Math.ceil((end - nowMs) / DAY_MS);
  if (daysLeft <= 0) {
    return {
      status: 'fail',
      daysLeft,
      message: `${version} stopped working on ${info.availableUntil}; use ${newest}`,
    };
  }
  if (daysLeft < VERSION_WARNING_DAYS) {
    return {
      status: 'warn',
      daysLeft,
      message: `${version} stops working on ${info.availableUntil} (${daysLeft} days left); move to ${newest}`,
    };
  }
  return {
    status: 'ok',
    daysLeft,
    message: `${version} available until ${info.availableUntil} (${daysLeft} days left)`,
  };
};
