import type { Clock } from './types.js';

// `in`, not a read: on Node `performance` is a lazy global whose first read loads `perf_hooks`
// (eleven internal modules), which `import('@capi-kit/core')` should not pay before the first send.
const hasPerformance = 'performance' in globalThis;

/** The longest delay `setTimeout` honours (2^31 − 1 ms, about 24.8 days). */
export const MAX_TIMER_MS = 2_147_483_647;

/**
 * The real clock. Every timer is `unref()`'d where the runtime supports it (Node, Bun, Deno), so
 * an idle client never keeps a process or a Lambda alive (segmentio/analytics-node#102, Amplitude
 * #272); `close()` alone re-`ref()`s its deadline so a process whose only work is the client's
 * drain lives until the drain ends. `monotonic` is `performance.now()`, which never steps when
 * NTP or an operator moves the wall clock.
 */
export const systemClock: Clock = {
  now: () => Date.now(),
  ...(hasPerformance ? { monotonic: () => globalThis.performance.now() } : {}),
  setTimeout: (fn, ms) => {
    // Node (and browsers) run a delay above 2^31 − 1 ms after 1 ms instead: a backoff, pause or
    // timeout built from large options (`retry.maxDelayMs`, a long `Retry-After`) would fire at
    // once, again and again. Capped, it fires after 24.8 days: a wake-up of the pipe checks the
    // time and waits again; a request timeout (`timeoutMs` above the cap) ends the request then.
    const handle = globalThis.setTimeout(fn, Math.min(ms, MAX_TIMER_MS)) as unknown as {
      unref?: () => void;
    };
    if (typeof handle === 'object' && handle !== null && typeof handle.unref === 'function') {
      handle.unref();
    }
    return handle;
  },
  clearTimeout: (handle) => globalThis.clearTimeout(handle as ReturnType<typeof setTimeout>),
  ref: (handle) => {
    const timer = handle as { ref?: () => void } | null;
    if (typeof timer === 'object' && timer !== null && typeof timer.ref === 'function') timer.ref();
  },
};

/**
 * The clock the delivery engine schedules on: epoch milliseconds taken once from `clock.now()` at
 * creation and advanced by `clock.monotonic()` from then on, so it never jumps. Backoff, pauses,
 * the auth circuit, leases, `retryAt` and `close()`'s deadline all run on it; a wall clock stepped
 * back ten minutes would otherwise stall delivery for ten minutes (and forward, expire a pause at
 * once). The wall clock stays the source of `event_time` and of Meta's 7-day window. Without
 * `monotonic` (a test's fake clock) the given clock is used as it is.
 */
export const schedulingClock = (clock: Clock): Clock => {
  const { monotonic } = clock;
  if (typeof monotonic !== 'function') return clock;
  const wallAtStart = clock.now();
  const monotonicAtStart = monotonic.call(clock);
  const scheduling: Clock = {
    now: () => wallAtStart + (monotonic.call(clock) - monotonicAtStart),
    monotonic: () => monotonic.call(clock),
    setTimeout: (fn, ms) => clock.setTimeout(fn, ms),
    clearTimeout: (handle) => clock.clearTimeout(handle),
  };
  if (clock.ref) {
    const { ref } = clock;
    scheduling.ref = (handle) => ref.call(clock, handle);
  }
  return scheduling;
};
