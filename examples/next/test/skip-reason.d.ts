// `meta: { skipReason }` on a skipped test or suite: `npm test` prints one line per reason.
export {};

declare module 'vitest' {
  interface TaskMeta {
    /** Why the test did not run. */
    skipReason?: string | undefined;
  }
}
