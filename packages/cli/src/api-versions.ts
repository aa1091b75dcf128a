// Graph API versions and when each stops working, from Meta's changelog (capi.md §1 [CHG]):
// developers.facebook.com/docs/graph-api/changelog. "A version will no longer be usable two years
// after the date that the subsequent version is released" [VER].

/** A Graph API version: release date and end of availability (undefined = not announced). */
export interface ApiVersionInfo {
  /** `v26.0`. */
  version: string;
  /** ISO date. */
  released: string;
  /** ISO date after which calls fail; undefined while Meta says "TBD". */
  availableUntil?: string;
}

/** Known versions, newest first. */
export const API_VERSIONS: readonly ApiVersionInfo[] = [
  { version: 'v26.0', released: '2026-07-29' },
  { version: 'v25.0', released: '2026-02-18', availableUntil: '2028-07-29' },
  { version: 'v24.0', released: '2025-10-08', availableUntil: '2028-02-18' },
  { version: 'v23.0', released: '2025-05-29', availableUntil: '2027-10-08' },
  { version: 'v22.0', released: '2025-01-21', availableUntil: '2027-05-20' },
  { version: 'v21.0', released: '2024-10-02', availableUntil: '2027-01-21' },
  { version: 'v20.0', released: '2024-05-21', availableUntil: '2026-09-24' },
];

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
