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

/** Graph API versions capi-kit knows, newest first, with Meta's dates (`doctor` and the mock read them). */
export const API_VERSIONS: readonly ApiVersionInfo[] = [
  { version: 'v26.0', released: '2026-07-29' },
  { version: 'v25.0', released: '2026-02-18', availableUntil: '2028-07-29' },
  { version: 'v24.0', released: '2025-10-08', availableUntil: '2028-02-18' },
  { version: 'v23.0', released: '2025-05-29', availableUntil: '2027-10-08' },
  { version: 'v22.0', released: '2025-01-21', availableUntil: '2027-05-20' },
  { version: 'v21.0', released: '2024-10-02', availableUntil: '2027-01-21' },
  { version: 'v20.0', released: '2024-05-21', availableUntil: '2026-09-24' },
];
