/**
 * Exponential backoff with full jitter (AWS Architecture Blog, "Exponential Backoff And Jitter"):
 * the n-th consecutive failure waits a uniform random time in [0, min(max, base · 2^(n-1))), which
 * spreads retries of many clients after a shared outage instead of synchronizing them.
 */
export const fullJitterDelay = (
  failures: number,
  baseDelayMs: number,
  maxDelayMs: number,
  random: () => number,
): number => {
  const ceiling = Math.min(maxDelayMs, baseDelayMs * 2 ** Math.max(0, failures - 1));
  return Math.floor(random() * ceiling);
};

/**
 * Throttle pause without a server hint: doubling from `baseMs`, capped, with "equal jitter" (half
 * fixed, half random) so a throttled pixel always waits at least half the step.
 */
export const throttleDelay = (
  consecutiveThrottles: number,
  baseMs: number,
  capMs: number,
  random: () => number,
): number => {
  const step = Math.min(capMs, baseMs * 2 ** Math.max(0, consecutiveThrottles - 1));
  return Math.floor(step / 2 + random() * (step / 2));
};
