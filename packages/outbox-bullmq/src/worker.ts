import {
  CapiDeliveryError,
  type CapiHookMap,
  type CapiOptions,
  createCapi,
  DEFAULT_RETRY,
  expiryLookAheadMs,
  fullJitterDelay,
  isExpired,
  type Listener,
  type Logger,
  memoryOutbox,
  type OutboxRecord,
  type RetryInfo,
  type UndeliverableReason,
} from '@capi-kit/core';
import {
  type ConnectionOptions,
  DelayedError,
  type Job,
  Queue,
  UnrecoverableError,
  Worker,
} from 'bullmq';
import type { RedisOptions } from 'ioredis';
import {
  describeConnection,
  describedAs,
  isRedisInstance,
  reconnectOnReadonly,
  staysOnDemotedPrimary,
  toRedisOptions,
} from './connection.js';
import { evictionMessage, evictionPolicy } from './eviction-policy.js';
import { type CapiJobData, DEFAULT_QUEUE_NAME } from './job.js';
import { type RedisFailure, redisFix, redisRefusal } from './redis-refusal.js';
import { refusedBackoff } from './refused-backoff.js';
import { repeatedErrorLog } from './repeated-errors.js';
import { deliverOnce } from './round.js';
import { missingConfig, workerRoutes } from './routes.js';
import { ClosableWorker, closeWorker } from './worker-close.js';
import { type CapiWorkerOptions, checkWorkerOptions, delayMs } from './worker-options.js';

/** Counters of one worker process. */
export interface CapiWorkerStats {
  /** Jobs whose events were all delivered (or dropped as expired). */
  completed: number;
  /** Jobs failed for good (events rejected by the platform, out of attempts, or past BullMQ's stall limit). */
  failed: number;
  /** Jobs handed back to BullMQ for a later attempt (transient failure). */
  retried: number;
  /** Jobs put back without spending an attempt (throttled, auth, their stream paused). */
  rateLimited: number;
  /** Jobs put back (no attempt spent) because this worker has no destination for their stream. */
  unrouted: number;
  /** Jobs that had stalled before (their worker died or hung) and ran again here. */
  rerun: number;
  /** Events in those re-run jobs: the upper bound of duplicates a stall can cause. */
  rerunEvents: number;
  /** Events the platforms acknowledged. */
  sent: number;
  /** Events the platforms rejected (isolated by bisection). */
  rejected: number;
  /** Events dropped because they were past their platform's upload window (Meta: 7 days). */
  expired: number;
}

/** A running delivery worker. */
export interface CapiWorker {
  /** The BullMQ worker (events such as `failed`, `stalled`; `pause()`, `resume()`). */
  readonly worker: Worker<CapiJobData>;
  /** The queue it consumes (job counts, failed jobs, `rateLimit`). */
  readonly queue: Queue<CapiJobData>;
  /** The delivery hooks (`sent`, `retry`, `deadLetter`, `dropped`, `error`, `warn`), as `createCapi` has them. */
  on<K extends keyof CapiHookMap>(name: K, listener: Listener<CapiHookMap[K]>): () => void;
  /** Counters since start. */
  stats(): CapiWorkerStats;
  /**
   * Stops taking jobs, waits for the running ones, disconnects; resolves by `timeoutMs` (default
   * 10 000). A job still running then (Redis unreachable: its outcome cannot be written) keeps its
   * events in Redis, and another worker re-runs it when its lock runs out.
   */
  close(options?: { timeoutMs?: number | undefined }): Promise<void>;
}

const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

/**
 * The app's logger with each call kept from throwing, as the producer and core's client keep
 * theirs: a logger that throws (its stream closed under it) made the worker's reports unhandled
 * rejections, which end a Node process by default, and throws inside BullMQ's event emitter.
 */
const guardedLogger = (logger: Logger): Logger => {
  const guard =
    (level: keyof Logger) =>
    (obj: Record<string, unknown>, msg: string): void => {
      try {
        logger[level](obj, msg);
      } catch {
        // Nowhere left to say it.
      }
    };
  return { debug: guard('debug'), info: guard('info'), warn: guard('warn'), error: guard('error') };
};

/** Carries the engine's wait (Meta's `Retry-After` when it sent one) to the backoff strategy. */
class TransientDeliveryError extends Error {
  constructor(
    message: string,
    readonly engineDelayMs: number | undefined,
    /** The engine's last failure, for the `deadLetter` hook when this was the last attempt. */
    readonly retry: RetryInfo | undefined,
  ) {
    super(message);
    this.name = 'TransientDeliveryError';
  }
}

/**
 * Starts a delivery worker: takes jobs from the queue `bullmqOutbox` producers fill and sends each
 * job's events (≤ 1000, one stream) in one request, in as many processes as you like. A job of a
 * Meta pixel goes to Meta; a job of another destination's stream (`tiktok:<code>`) goes through
 * that destination, given in `destinations` as the producers give it to `createCapi`. Each job
 * goes through the same engine as `createCapi` (core's transport, the stream's classifier,
 * redaction and bisection of rejected batches): delivered events are done; events the platform
 * rejects are isolated and their job fails with `UnrecoverableError` and the platform's message
 * (BullMQ's failed set is the dead-letter list); transient failures use BullMQ's attempts with the
 * core's full-jitter backoff (`Retry-After` wins); throttling pauses the queue (`rateLimit`), or
 * only the stream when the worker has `destinations`, without spending an attempt. A job of a
 * stream the worker cannot send waits in the delayed set, said loudly, until a worker can.
 *
 * @example
 * const worker = createCapiWorker({
 *   connection: process.env.REDIS_URL,
 *   pixelId,
 *   accessToken,
 *   destinations: [tiktok({ pixelCode, accessToken: process.env.TIKTOK_ACCESS_TOKEN })],
 * });
 * process.on('SIGTERM', () => worker.close());
 */
export const createCapiWorker = (options: CapiWorkerOptions): CapiWorker => {
  if (options?.connection === undefined || options.connection === '') {
    throw new TypeError(
      'createCapiWorker: `connection` (a redis:// URL, options or instance) is required',
    );
  }
  const logger = options.logger ? guardedLogger(options.logger) : silentLogger;
  // Checked here under the worker's names (the engine's own check would name `retry.*`); ≥ 0 as
  // the engine takes them, a token pause > 0 as its `authProbeIntervalMs` (0 would retry a refused
  // token every millisecond).
  const baseDelayMs = delayMs('baseDelayMs', options.baseDelayMs, DEFAULT_RETRY.baseDelayMs);
  const maxDelayMs = delayMs('maxDelayMs', options.maxDelayMs, DEFAULT_RETRY.maxDelayMs);
  const maxRetryAfterMs = delayMs(
    'maxRetryAfterMs',
    options.maxRetryAfterMs,
    DEFAULT_RETRY.maxRetryAfterMs,
  );
  const throttlePauseMs = delayMs(
    'throttlePauseMs',
    options.throttlePauseMs,
    DEFAULT_RETRY.throttleBaseDelayMs,
  );
  const authPauseMs = delayMs(
    'authPauseMs',
    options.authPauseMs,
    DEFAULT_RETRY.authProbeIntervalMs,
    true,
  );
  const unroutedRetryMs = delayMs('unroutedRetryMs', options.unroutedRetryMs, 60_000, true);
  const concurrency = checkWorkerOptions(options);

  // An event must reach the platform inside its window even when the request takes all of a long
  // `timeoutMs` (the default is well inside the margin `isExpired` keeps).
  const expiryLookAhead = expiryLookAheadMs(options.timeoutMs ?? 0);
  // The engine's options once, validated now (createCapi throws on a missing token), reused per job.
  const engineOptions: CapiOptions = {
    env: options.env,
    logger,
    apiVersion: options.apiVersion,
    graphUrl: options.graphUrl,
    appSecret: options.appSecret,
    testEventCode: options.testEventCode,
    partnerAgent: options.partnerAgent,
    fetch: options.fetch,
    timeoutMs: options.timeoutMs,
    maxBatchBytes: options.maxBatchBytes,
    // The events the engine gives up on in a job (Meta rejected them, bisection isolated them).
    onUndeliverable: options.onUndeliverable,
    // One short-lived client per job, closed by the round itself: none is registered for the
    // core's beforeExit close (a long-running worker would otherwise hold one entry per job).
    closeOnExit: false,
    // Every attempt of the job is one BullMQ attempt: the engine must not retry or give up itself.
    retry: {
      maxAttempts: Number.MAX_SAFE_INTEGER,
      freeThrottles: Number.MAX_SAFE_INTEGER,
      baseDelayMs,
      maxDelayMs,
      maxRetryAfterMs,
      throttleBaseDelayMs: throttlePauseMs,
    },
  };
  const env =
    options.env === false
      ? {}
      : (options.env ??
        (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env ??
        {});
  const { routes, pixels: pixelList, destinations } = workerRoutes(options, engineOptions, env);
  // Validate now (createCapi throws on a missing token, a bad pixel id, a destination that is not
  // one or is listed twice), not at the first job.
  void createCapi({
    ...engineOptions,
    pixels: pixelList,
    destinations,
    outbox: memoryOutbox(),
  }).close({ timeoutMs: 0 });

  // Several platforms may share the queue: a throttle or a refused token then pauses only its own
  // stream (its jobs wait in the delayed set), so one platform's trouble never holds another's
  // events. A Meta-only worker keeps pausing the whole queue (BullMQ's rate limit, no job churn).
  const perStreamPauses = destinations.length > 0;
  const pausedUntil = new Map<string, number>();
  const unroutedLoggedAt = new Map<string, number>();

  const listeners: { [K in keyof CapiHookMap]?: Set<Listener<CapiHookMap[K]>> } = {};
  const emit = <K extends keyof CapiHookMap>(name: K, info: CapiHookMap[K]) => {
    for (const listener of [...(listeners[name] ?? [])] as Listener<CapiHookMap[K]>[]) {
      try {
        const result = listener(info);
        if (result && typeof (result as PromiseLike<unknown>).then === 'function') {
          (result as PromiseLike<unknown>).then(undefined, () =>
            logger.error({ hook: name }, 'capi-kit worker: a hook listener rejected'),
          );
        }
      } catch {
        logger.error({ hook: name }, 'capi-kit worker: a hook listener threw');
      }
    }
  };
  const counters: CapiWorkerStats = {
    completed: 0,
    failed: 0,
    retried: 0,
    rateLimited: 0,
    unrouted: 0,
    rerun: 0,
    rerunEvents: 0,
    sent: 0,
    rejected: 0,
    expired: 0,
  };

  const undeliverable = (records: readonly OutboxRecord[], reason: UndeliverableReason) => {
    if (!options.onUndeliverable || records.length === 0) return;
    try {
      void Promise.resolve(options.onUndeliverable(records, reason)).catch(() =>
        logger.error({ reason }, 'capi-kit worker: onUndeliverable rejected'),
      );
    } catch {
      logger.error({ reason }, 'capi-kit worker: onUndeliverable threw');
    }
  };

  // Workers block on Redis: BullMQ requires `maxRetriesPerRequest: null` on their connections.
  const connection = (
    isRedisInstance(options.connection)
      ? options.connection
      : ({
          reconnectOnError: reconnectOnReadonly,
          ...toRedisOptions(options.connection),
          maxRetriesPerRequest: null,
        } satisfies RedisOptions)
  ) as ConnectionOptions;
  const prefix = options.prefix === undefined ? {} : { prefix: options.prefix };
  const queueName = options.queueName ?? DEFAULT_QUEUE_NAME;
  const queue = new Queue<CapiJobData>(queueName, { connection, ...prefix });
  // BullMQ's own Redis errors, retried by BullMQ: said once each per minute, then counted.
  const redisErrors = repeatedErrorLog(logger);
  // The last refusal Redis answered (its code only), for close()'s message when it cannot end.
  let lastRefusal: (RedisFailure & { code: string }) | undefined;
  // BullMQ's connections are copies of an app's instance, with its options (reconnectOnError or not).
  const refusalContext = { staysOnDemotedPrimary: staysOnDemotedPrimary(options.connection) };
  const noteRefusal = (message: string) => {
    lastRefusal = redisRefusal(message, refusalContext) ?? lastRefusal;
  };
  queue.on('error', (error) => {
    noteRefusal(error.message);
    redisErrors.error(
      { queue: queueName, error: error.message, ...redisFix(error.message, refusalContext) },
      'capi-kit worker: queue error',
    );
  });

  // Once, when the queue's connection is up: a Redis that may evict jobs is said loudly.
  const where = describeConnection(options.connection);
  void queue
    .getBackend()
    .client.then(evictionPolicy, () => undefined)
    .then((policy) => {
      if (policy === undefined) return;
      const message = evictionMessage(where, policy, queueName);
      logger.error({ queue: queueName, maxmemoryPolicy: policy }, `capi-kit worker: ${message}`);
      emit('error', { kind: 'outbox', error: new Error(message) });
    });

  const pause = async (ms: number): Promise<never> => {
    counters.rateLimited++;
    await queue.rateLimit(Math.max(1, Math.round(ms)));
    throw Worker.RateLimitError();
  };

  /** Back to the delayed set until `until`, no attempt spent (BullMQ's DelayedError). */
  const putBack = async (job: Job<CapiJobData>, token: string | undefined, until: number) => {
    await job.moveToDelayed(Math.max(until, Date.now() + 1), token);
    throw new DelayedError();
  };

  /** Pauses one stream (throttled, token refused): this job and the stream's next ones wait. */
  const pauseStream = async (
    job: Job<CapiJobData>,
    token: string | undefined,
    key: string,
    ms: number,
  ): Promise<never> => {
    const until = Date.now() + Math.max(1, Math.round(ms));
    pausedUntil.set(key, Math.max(pausedUntil.get(key) ?? 0, until));
    counters.rateLimited++;
    return putBack(job, token, until);
  };

  /**
   * A job of a stream this worker has no destination for: it waits in the delayed set and comes
   * back every `unroutedRetryMs` (no attempt spent), so it is never dropped and a worker that has
   * the destination (a rolling deploy) delivers it. Said loudly, once per stream per interval.
   */
  const unrouted = async (
    job: Job<CapiJobData>,
    token: string | undefined,
    key: string,
  ): Promise<never> => {
    counters.unrouted++;
    const message = `no destination for stream ${key} in this worker: ${missingConfig(key)}. The job waits in the delayed set and is tried again every ${unroutedRetryMs} ms`;
    const now = Date.now();
    if (now - (unroutedLoggedAt.get(key) ?? Number.NEGATIVE_INFINITY) >= unroutedRetryMs) {
      unroutedLoggedAt.set(key, now);
      logger.error({ pixelId: key, jobId: job.id }, `capi-kit worker: ${message}`);
      emit('error', { kind: 'outbox', pixelId: key, error: new Error(message) });
    }
    await job.log(message).catch(() => {});
    return putBack(job, token, now + unroutedRetryMs);
  };

  // The failures processJob counts itself as it throws them; every other final failure (BullMQ's
  // own, like a job past `maxStalledCount`) is counted by the `failed` listener below.
  const counted = new WeakSet<Error>();
  const countedFailure = (message: string): UnrecoverableError => {
    counters.failed++;
    const error = new UnrecoverableError(message);
    counted.add(error);
    return error;
  };

  /**
   * Per job (BullMQ hands its `failed` listener the object the processor had), the ids of the
   * records this attempt settled: delivered, rejected (the engine reported them) or expired
   * (reported here). A Redis call refused after the round (Redis full: `job.updateData`, the
   * rejected events' job) leaves them in the job's data, and a last attempt's failure must not
   * report them again as out of attempts: a delivered event counted as undeliverable too.
   */
  const settled = new WeakMap<Job<CapiJobData>, Set<string>>();
  const settle = (job: Job<CapiJobData>, records: readonly OutboxRecord[]) => {
    if (records.length === 0) return;
    let ids = settled.get(job);
    if (!ids) {
      ids = new Set();
      settled.set(job, ids);
    }
    for (const record of records) ids.add(record.id);
  };

  const processJob = async (
    job: Job<CapiJobData>,
    token?: string,
  ): Promise<{ delivered: number; expired: number }> => {
    const data = job.data;
    if (data?.v !== 1 || !Array.isArray(data.records)) {
      throw countedFailure(`not a capi-kit job (format ${String(data?.v)})`);
    }
    if (data.rejected !== undefined) throw countedFailure(data.rejected);
    if (job.stalledCounter > 0) {
      counters.rerun++;
      counters.rerunEvents += data.records.length;
    }
    const route = routes.get(data.pixelId);
    if (!route) return unrouted(job, token, data.pixelId);
    const paused = pausedUntil.get(route.key);
    if (paused !== undefined) {
      if (paused > Date.now()) {
        counters.rateLimited++;
        return putBack(job, token, paused);
      }
      pausedUntil.delete(route.key);
    }
    const now = Date.now();
    const live: OutboxRecord[] = [];
    const expired: OutboxRecord[] = [];
    for (const record of data.records) {
      (isExpired(record, now + expiryLookAhead, route.maxAgeSeconds) ? expired : live).push(record);
    }
    if (expired.length > 0) {
      settle(job, expired);
      counters.expired += expired.length;
      logger.warn(
        { pixelId: data.pixelId, count: expired.length, jobId: job.id },
        `capi-kit worker: dropped events past ${route.label}'s upload window${route.label === 'Meta' ? ' (7 days; 62 for physical_store)' : ''}`,
      );
      emit('dropped', {
        reason: 'expired',
        pixelId: data.pixelId,
        count: expired.length,
        events: expired.map((r) => ({ eventId: r.eventId, eventName: r.eventName })),
      });
      undeliverable(expired, 'expired');
    }
    if (live.length === 0) {
      counters.completed++;
      return { delivered: 0, expired: expired.length };
    }

    const round = await deliverOnce(route.engine, live, emit);
    settle(job, round.delivered);
    settle(
      job,
      round.rejected.map((r) => r.record),
    );
    counters.sent += round.delivered.length;
    counters.rejected += round.rejected.length;
    const rejectedMessage =
      round.rejected.length === 0
        ? undefined
        : `${route.label} rejected ${round.rejected.length} event(s): ${round.rejected[0]?.error}`;

    if (round.pending.length === 0) {
      if (!rejectedMessage) {
        counters.completed++;
        return { delivered: round.delivered.length, expired: expired.length };
      }
      // Only the rejected events stay in the failed job, with the platform's message: the dead letters.
      await job.updateData({ ...data, records: round.rejected.map((r) => r.record) });
      throw countedFailure(rejectedMessage);
    }

    // Some events must be tried again: the job keeps only those.
    if (rejectedMessage) {
      await queue.add(
        'rejected',
        {
          v: 1,
          pixelId: data.pixelId,
          records: round.rejected.map((r) => r.record),
          rejected: rejectedMessage,
        },
        { attempts: 1, removeOnFail: { count: 100_000 }, removeOnComplete: true },
      );
    }
    if (round.pending.length < data.records.length) {
      await job.updateData({ ...data, records: round.pending });
    }
    if (round.authError) {
      const what = route.label === 'Meta' ? `pixel ${route.key}` : `stream ${route.key}`;
      logger.error(
        { pixelId: data.pixelId, pauseMs: authPauseMs },
        `capi-kit worker: ${route.label} refused the access token for ${what}; ${perStreamPauses ? 'stream' : 'queue'} paused`,
      );
      if (perStreamPauses) return pauseStream(job, token, route.key, authPauseMs);
      return pause(authPauseMs);
    }
    if (round.retry?.reason === 'throttled') {
      const ms = Math.min(
        round.retry.delayMs > 0 ? round.retry.delayMs : throttlePauseMs,
        maxRetryAfterMs,
      );
      if (perStreamPauses) return pauseStream(job, token, route.key, ms);
      return pause(ms);
    }
    if (job.attemptsMade + 1 < (job.opts.attempts ?? 1)) counters.retried++;
    const hint = round.retry?.error ?? 'not delivered';
    throw new TransientDeliveryError(hint, round.retry?.delayMs, round.retry);
  };

  // Jobs this process is running: close() of an idle worker waits for none (see there).
  let running = 0;
  const countedJob: typeof processJob = async (job, token) => {
    running++;
    try {
      return await processJob(job, token);
    } finally {
      running--;
    }
  };
  const worker = new ClosableWorker<CapiJobData>(queueName, countedJob, {
    ...options.workerOptions,
    connection,
    ...prefix,
    concurrency,
    maxStalledCount: options.workerOptions?.maxStalledCount ?? 3,
    settings: {
      ...options.workerOptions?.settings,
      // Core's full jitter over the job's attempts; the engine's wait (Meta's Retry-After) when longer.
      backoffStrategy: (attemptsMade, _type, error) => {
        const jitter = fullJitterDelay(attemptsMade, baseDelayMs, maxDelayMs, Math.random);
        const engine = (error as Partial<TransientDeliveryError> | undefined)?.engineDelayMs ?? 0;
        return Math.min(Math.max(jitter, engine), maxRetryAfterMs);
      },
    },
  });
  // Redis refusing the worker's calls (full, read-only, ACL) slows its fetching instead of a hot loop.
  const backoff = refusedBackoff(worker);
  worker.on('error', (error) => {
    noteRefusal(error.message);
    redisErrors.error(
      { queue: queueName, error: error.message, ...redisFix(error.message, refusalContext) },
      'capi-kit worker: worker error',
    );
    backoff.onError(error);
  });
  worker.on('failed', (job, error) => {
    if (!job || counted.has(error)) return;
    // Final: out of attempts, or failed by BullMQ itself for good (an UnrecoverableError this
    // processor did not throw: a job past `maxStalledCount`, its worker having died or hung too
    // often). Either way its events wait in the failed set, counted and said.
    const byBullmq = error instanceof UnrecoverableError;
    if (!byBullmq && job.attemptsMade < (job.opts.attempts ?? 1)) return;
    counters.failed++;
    // Not those this attempt delivered or reported (its Redis update refused: they are still in
    // the job's data).
    const done = settled.get(job);
    const records = (job.data?.records ?? []).filter((r) => !done?.has(r.id));
    if (records.length > 0) {
      // Out of attempts (a stall past the limit spent them too): dead letters, said as the engine
      // says its own (`deadLetter` hook, `onUndeliverable`), not only in the log, which is silent
      // by default. A stalled job's worker may have sent some before it died; Meta deduplicates
      // what `onUndeliverable` sends again by `event_id`.
      const pixelId = job.data.pixelId;
      const retry = (error as Partial<TransientDeliveryError>).retry;
      emit('deadLetter', {
        pixelId,
        reason: 'max_attempts',
        count: records.length,
        events: records.map((r) => ({ eventId: r.eventId, eventName: r.eventName })),
        error: new CapiDeliveryError(error.message, {
          classification: 'transient',
          status: retry?.status ?? 0,
          pixelId,
          ...(retry?.graphError ? { graphError: retry.graphError } : {}),
        }),
      });
      undeliverable(records, 'max_attempts');
    }
    logger.error(
      {
        jobId: job.id,
        pixelId: job.data?.pixelId,
        count: records.length,
        attempts: job.attemptsMade,
        ...(byBullmq ? { reason: error.message } : {}),
      },
      byBullmq
        ? 'capi-kit worker: job failed by BullMQ (kept in the failed set)'
        : 'capi-kit worker: job out of attempts (kept in the failed set)',
    );
  });

  let closing: Promise<void> | undefined;
  const handle: CapiWorker = {
    worker,
    queue,
    on(name, listener) {
      let set = listeners[name] as Set<typeof listener> | undefined;
      if (!set) {
        set = new Set();
        (listeners as Record<string, Set<typeof listener>>)[name] = set;
      }
      const entry: typeof listener = (info) => listener(info);
      set.add(entry);
      return () => {
        set.delete(entry);
      };
    },
    stats: () => ({ ...counters }),
    close(closeOptions) {
      closing ??= closeWorker(
        {
          worker,
          queue,
          ownsQueueConnection: !isRedisInstance(options.connection),
          queueName,
          logger,
          running: () => running,
          paused: backoff.stop(),
          where,
          refusal: () => lastRefusal,
        },
        closeOptions?.timeoutMs,
      ).then(redisErrors.flush);
      return closing;
    },
  };
  // Logged whole (`console.log(worker)`), BullMQ's worker and queue showed the Redis password.
  return describedAs(handle, { capiWorker: queueName, redis: where });
};
