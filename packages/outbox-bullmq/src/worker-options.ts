import type { CapiOptions, Destination, Logger, PixelConfig } from '@capi-kit/core';
import type { WorkerOptions } from 'bullmq';
import type { RedisConnection } from './connection.js';
import type { createCapiWorker } from './worker.js';

// What `createCapiWorker` is given, and the checks it makes of it before anything connects.

/** Options of {@link createCapiWorker}. */
export interface CapiWorkerOptions {
  /** Redis: a `redis://` URL, ioredis options, or an ioredis instance (with `maxRetriesPerRequest: null`). */
  connection: RedisConnection;
  /** BullMQ queue name; default `capi-kit-events` (the producers' default). */
  queueName?: string | undefined;
  /** BullMQ key prefix; default BullMQ's (`bull`). */
  prefix?: string | undefined;
  /** Pixel id of a single destination (env `META_PIXEL_ID`). */
  pixelId?: string | undefined;
  /** Its access token (env `META_ACCESS_TOKEN`). */
  accessToken?: string | undefined;
  /** Every pixel the producers send to, with its token. A job for a pixel not listed here waits (see `unroutedRetryMs`). */
  pixels?: readonly PixelConfig[] | undefined;
  /**
   * The destinations beside Meta the producers send to (`[tiktok({ pixelCode, accessToken })]`),
   * the same as their `createCapi({ destinations })`: a job of stream `tiktok:<code>` is sent
   * through that destination's envelope, classifier, acknowledgement and limits. Given without
   * any Meta configuration (options or `META_*` env), the worker sends to them alone.
   */
  destinations?: readonly Destination[] | undefined;
  /**
   * How long a job waits in the delayed set before it is tried again when this worker has no
   * destination for its stream (a worker deployed without the producers' new destination); no
   * attempt is spent, so a worker that has it delivers the job. Default 60 000 ms; in
   * (0, 2^53 − 1] (a delay kept in Redis, not a Node timer).
   */
  unroutedRetryMs?: number | undefined;
  /** Graph API version; default core's (env `META_API_VERSION`). */
  apiVersion?: string | undefined;
  /** Graph base URL; default `https://graph.facebook.com` (env `META_GRAPH_URL`). */
  graphUrl?: string | undefined;
  /** `appsecret_proof` for every request. */
  appSecret?: string | undefined;
  /** Test Events code (env `META_TEST_EVENT_CODE`). */
  testEventCode?: string | undefined;
  /** `partner_agent`; default `capi-kit`. */
  partnerAgent?: string | undefined;
  /** HTTP client; default global `fetch`. */
  fetch?: CapiOptions['fetch'];
  /** Per-request deadline; default 1500 ms. Checked as `createCapi` checks it (its timer is capped at 2^31 − 1 ms). */
  timeoutMs?: number | undefined;
  /** Request body cap; a bigger job is sent in several requests. Default 1 MiB. */
  maxBatchBytes?: number | undefined;
  /** Jobs processed at once by this process; default 4. */
  concurrency?: number | undefined;
  /** Backoff between attempts of a failed job: full jitter from this base…; default 1000 ms, in [0, 2^53 − 1] (a BullMQ job delay, kept in Redis). */
  baseDelayMs?: number | undefined;
  /** …capped here; default 60 000 ms, in [0, 2^53 − 1]. Meta's `Retry-After` wins (up to `maxRetryAfterMs`). */
  maxDelayMs?: number | undefined;
  /** Longest server-requested wait honoured (it also caps the backoff and the throttle pause); default 300 000 ms, in [0, 2^53 − 1]. */
  maxRetryAfterMs?: number | undefined;
  /**
   * Pause after a throttle without a wait hint (queue-wide without `destinations`, per stream with
   * them); default 5000 ms, in [0, 2^53 − 1] (the queue's rate-limit key or the job's delay, kept
   * in Redis, not a Node timer).
   */
  throttlePauseMs?: number | undefined;
  /**
   * Pause after the platform refused the token; default 600 000 ms, in (0, 2^53 − 1] (kept in
   * Redis, not a Node timer). Queue-wide without `destinations` (fix the token, then
   * `worker.queue.removeRateLimitKey()`); per stream with them.
   */
  authPauseMs?: number | undefined;
  /** pino-compatible logger; silent by default. */
  logger?: Logger | undefined;
  /** Receives events that will never be delivered (expired, rejected). */
  onUndeliverable?: CapiOptions['onUndeliverable'];
  /** Environment for `META_*` fallbacks; default `process.env`, `false` to disable. */
  env?: CapiOptions['env'];
  /** Extra BullMQ worker options (`stalledInterval`, `lockDuration`, `maxStalledCount`, …). */
  workerOptions?: Partial<Omit<WorkerOptions, 'connection' | 'prefix' | 'concurrency'>> | undefined;
}

// The worker's own delays are kept in Redis, not in Node timers: a pause is the queue's rate-limit
// key (`SET … PX ms`) or the job's time in the delayed set, a backoff is BullMQ's job delay, and
// BullMQ's waits on them are capped (`maximumRateLimitDelay`, `maximumBlockTimeout`). So
// setTimeout's 2^31 − 1 ms does not bound them; Redis does: PX takes an integer, which NaN,
// Infinity and 1e20 are not (the pause then failed at the first refused token, spending an
// attempt instead). 2^53 − 1 ms (~285 000 years) is the largest whole number a delay is exact at.
const MAX_DELAY_MS = Number.MAX_SAFE_INTEGER;

/** A delay option checked now, naming it: a number in [0, MAX_DELAY_MS], or (0, …] if `positive`. */
export const delayMs = (
  name: string,
  value: number | undefined,
  fallback: number,
  positive = false,
): number => {
  const v = value ?? fallback;
  // NaN fails both lower bounds.
  if (typeof v !== 'number' || !(positive ? v > 0 : v >= 0) || v > MAX_DELAY_MS) {
    throw new RangeError(
      `createCapiWorker: ${name} must be in ${positive ? '(' : '['}0, ${MAX_DELAY_MS}], got ${String(value)}`,
    );
  }
  return v;
};

/**
 * The options BullMQ's Worker checks only once its connection is open: refused there, the error
 * left that connection (and the worker's queue's) reconnecting forever, nobody holding them to
 * close, so a process that caught the error never exited. Checked here first, naming each as
 * BullMQ bounds it; returns the concurrency.
 */
export const checkWorkerOptions = (options: CapiWorkerOptions): number => {
  const refuse = (name: string, rule: string, value: unknown): never => {
    throw new RangeError(`createCapiWorker: ${name} must be ${rule}, got ${String(value)}`);
  };
  const concurrency = options.concurrency ?? 4;
  if (typeof concurrency !== 'number' || !(concurrency >= 1) || !Number.isFinite(concurrency)) {
    refuse('concurrency', 'a finite number ≥ 1', concurrency);
  }
  const extra = options.workerOptions ?? {};
  for (const name of ['stalledInterval', 'drainDelay'] as const) {
    const value = extra[name];
    if (name in extra && (typeof value !== 'number' || !(value > 0))) {
      refuse(name, 'a number > 0', value);
    }
  }
  const stalled = extra.maxStalledCount;
  if (stalled !== undefined && (typeof stalled !== 'number' || !(stalled >= 0))) {
    refuse('maxStalledCount', 'a number ≥ 0', stalled);
  }
  const started = extra.maxStartedAttempts;
  if (typeof started === 'number' && started < 0)
    refuse('maxStartedAttempts', 'a number ≥ 0', started);
  return concurrency;
};
