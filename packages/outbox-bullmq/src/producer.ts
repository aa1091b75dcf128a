import {
  type AppendResult,
  type ClaimOptions,
  memoryOutbox,
  type Outbox,
  type OutboxHost,
  type OutboxRecord,
  type OutboxStats,
} from '@capi-kit/core';
import { type JobsOptions, Queue } from 'bullmq';
import { Redis } from 'ioredis';
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
import { type BullmqOutboxOptions, producerSettings } from './producer-options.js';
import { queueWatch } from './queue-watch.js';
import { redisFailure } from './redis-refusal.js';

/** {@link BullmqOutbox.producerStats}. */
export interface BullmqProducerStats {
  /**
   * `redis`: new events go to the queue; `fallback`: a write failed (Redis unreachable or too slow),
   * new events go to the in-memory fallback that this process delivers, until ioredis reconnects
   * or, on a connection that stayed up, until the next try after a backoff (1 s, doubled after each
   * try that fails, up to 30 s).
   */
  mode: 'redis' | 'fallback';
  /** Events waiting for the next write. */
  buffered: number;
  /** Events taken from the buffer whose write (or wait for the connection) has not answered yet. */
  writing: number;
  /** Events written to Redis since start. */
  enqueuedEvents: number;
  /** Jobs written to Redis since start. */
  enqueuedJobs: number;
  /** Events that went to the in-memory fallback since start. */
  fallbackEvents: number;
  /** Writes that failed in whole or in part (the events of the jobs Redis did not take went to the fallback). */
  writeFailures: number;
  /**
   * The event counters per stream (`pixelId` of the records: Meta's pixel id, `tiktok:<code>`…):
   * per stream, `bufferedEvents + writingEvents + enqueuedEvents` + what the client's
   * `stats().pixels[stream]` accounts for (the fallback's events) = the events tracked for it, at
   * every moment.
   */
  streams: Record<string, BullmqStreamStats>;
}

/**
 * {@link BullmqProducerStats.streams}: one stream's events. Each event the producer took is in
 * exactly one of the buffer, a pending write, Redis, or the fallback (which the client counts).
 */
export interface BullmqStreamStats {
  /** Events of this stream waiting in memory for the next write. */
  bufferedEvents: number;
  /** Events of this stream in a write that has not answered yet (then enqueued, or the fallback). */
  writingEvents: number;
  /** Events of this stream written to Redis since start. */
  enqueuedEvents: number;
  /** Events of this stream that went to the in-memory fallback since start. */
  fallbackEvents: number;
}

/** The producer side: an {@link Outbox} whose records go to a BullMQ queue for the workers. */
export interface BullmqOutbox extends Outbox {
  /** False: what the engine itself holds is the in-memory fallback; the queue's events are the workers'. */
  readonly durable: false;
  /** The BullMQ queue (job counts, failed jobs = dead letters, `job.retry()`). */
  readonly queue: Queue<CapiJobData>;
  /** Writes what is buffered to Redis now (or to the fallback if it cannot). Never rejects. */
  flush(): Promise<void>;
  /** Final flush, then closes the queue (and the connection if this outbox opened it). */
  close(): Promise<void>;
  /** Called by `createCapi`: the fallback's records, the outage warning and evictions go through `host`. */
  attach(host: OutboxHost): void;
  /** Counters of the producer itself. */
  producerStats(): BullmqProducerStats;
}

// After a failed write, new events try Redis again after this wait, doubled after each try that
// fails, up to the maximum; a write that goes through resets it.
const RETRY_MIN_MS = 1000;
const RETRY_MAX_MS = 30_000;

// Every open producer's hand-over at `process.exit()`, run by one `exit` listener (one per
// producer would make Node warn of a leak past ten). Prepended, so that it runs before the core's
// own `exit` listener, which counts and reports what the fallback then holds.
const exitHandOvers = new Set<() => void>();
let exitListening = false;
const handOverAtExit = (handOver: () => void): void => {
  exitHandOvers.add(handOver);
  if (exitListening) return;
  try {
    process.prependListener('exit', () => {
      for (const each of exitHandOvers) {
        try {
          each();
        } catch {
          // The process is ending: nothing may stop the other producers', nor the app's exit.
        }
      }
    });
    exitListening = true;
  } catch {
    // No process to listen to: nothing to hand over at its end either.
  }
};

const messageOf = (error: unknown): string =>
  error instanceof Error ? error.message : String(error);

/**
 * The producer side of the Redis outbox, for `createCapi({ outbox })`. `append` (inside `track()`)
 * only buffers in memory; every `flushIntervalMs` (10 ms) or `maxJobEvents` events the buffer goes
 * to Redis in one write, one job per ≤ 1000 events of a stream (a Meta pixel, or another
 * destination's `tiktok:<code>`: give the workers the same `destinations`). The engine never delivers these
 * events itself — they are handed over (`delegated`) and `createCapiWorker` processes send them —
 * so `claim` only ever returns events of the fallback: when Redis is unreachable (or too slow) the
 * producer fails fast, says so loudly (`logger.error` and the `error` hook), and keeps the events in
 * an in-memory outbox that this process delivers itself until Redis answers again.
 *
 * @example
 * const capi = createCapi({ pixelId, accessToken, outbox: bullmqOutbox({ connection: process.env.REDIS_URL }) });
 */
export const bullmqOutbox = (options: BullmqOutboxOptions): BullmqOutbox => {
  const {
    maxJobEvents,
    maxJobBytes,
    flushIntervalMs,
    connectTimeoutMs,
    writeTimeoutMs,
    maxBufferedEvents,
    untakenAfterMs,
    jobOptions,
    logger,
  } = producerSettings(options);
  const where = describeConnection(options.connection);
  const refusalContext = { staysOnDemotedPrimary: staysOnDemotedPrimary(options.connection) };
  // Before the connection opens: a refused option must not leave a socket keeping the process alive.
  const fallback = memoryOutbox(options.fallback);

  const ownsConnection = !isRedisInstance(options.connection);
  const redis = isRedisInstance(options.connection)
    ? options.connection
    : new Redis({
        ...toRedisOptions(options.connection),
        // Fail fast: a command while disconnected rejects at once instead of waiting in a queue.
        enableOfflineQueue: false,
        connectTimeout: connectTimeoutMs,
        commandTimeout: writeTimeoutMs,
        maxRetriesPerRequest: 1,
        // Keep trying to come back in the background; the fallback covers the meantime.
        retryStrategy: (times: number) => Math.min(times * 500, 5000),
        reconnectOnError: reconnectOnReadonly,
      });
  const queueName = options.queueName ?? DEFAULT_QUEUE_NAME;
  let queue: Queue<CapiJobData>;
  try {
    queue = new Queue<CapiJobData>(queueName, {
      connection: redis,
      ...(options.prefix === undefined ? {} : { prefix: options.prefix }),
    });
  } catch (error) {
    // A name BullMQ refuses (`events:meta`): the connection opened above would keep reconnecting
    // and keep a process that caught this error (to run without the outbox) from ever exiting.
    if (ownsConnection) redis.disconnect();
    throw error;
  }
  const started = Date.now();

  let host: OutboxHost | undefined;
  let mode: 'redis' | 'fallback' = 'redis';
  let closed = false;
  let buffer = new Map<string, OutboxRecord[]>();
  let buffered = 0;
  let writing = 0;
  /** The records of the write under way (waiting for the connection, or for Redis to answer). */
  let inWrite: OutboxRecord[] | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let immediate: ReturnType<typeof setImmediate> | undefined;
  let draining: Promise<void> | undefined;
  let lastConnectionError: string | undefined;
  /** The producer said Redis is unreachable and has not said it is back yet: one error per outage. */
  let outage = false;
  let retryDelayMs = RETRY_MIN_MS;
  let retryTimer: ReturnType<typeof setTimeout> | undefined;
  const counters = { enqueuedEvents: 0, enqueuedJobs: 0, fallbackEvents: 0, writeFailures: 0 };
  const streams = new Map<string, BullmqStreamStats>();
  /**
   * Moves `count` events of `stream` from one of its counters to another (`from` undefined: newly
   * taken). Called in the same synchronous step as the move itself, so that each event is in
   * exactly one counter (or the client's figures) whenever anyone reads them.
   */
  const moveStream = (
    stream: string,
    count: number,
    from: keyof BullmqStreamStats | undefined,
    to: keyof BullmqStreamStats,
  ) => {
    let entry = streams.get(stream);
    if (!entry) {
      entry = { bufferedEvents: 0, writingEvents: 0, enqueuedEvents: 0, fallbackEvents: 0 };
      streams.set(stream, entry);
    }
    if (from !== undefined) entry[from] -= count;
    entry[to] += count;
  };

  // Before createCapi attaches, the producer's own logger. One that throws must not break a write
  // (flush() never rejects; a timer's drain would be an unhandled rejection), as in core's client.
  const log = (level: 'error' | 'warn', message: string) => {
    try {
      logger[level]({ queue: queueName }, message);
    } catch {
      // Nowhere left to say it.
    }
  };
  const reportError = (message: string) => {
    if (host) host.error(new Error(message));
    else log('error', message);
  };
  const reportWarn = (message: string) => {
    if (host) host.warn(message);
    else log('warn', message);
  };

  // ioredis and BullMQ emit `error` while Redis is down; without listeners those would throw.
  const onRedisError = (error: unknown) => {
    lastConnectionError = messageOf(error);
  };
  redis.on('error', onRedisError);
  queue.on('error', onRedisError);
  /** Redis answered (ioredis reconnected, or a write went through): new events go to it again. */
  const backToRedis = () => {
    if (retryTimer !== undefined) clearTimeout(retryTimer);
    retryTimer = undefined;
    retryDelayMs = RETRY_MIN_MS;
    mode = 'redis';
    if (!outage) return;
    outage = false;
    reportWarn(
      `Redis at ${where} is reachable again: new events go to queue "${queueName}" (events kept in memory meanwhile are delivered by this process)`,
    );
  };
  let evictionChecked = false;
  /** Once, at the first connection: a Redis that may evict the queue's keys is said loudly. */
  const checkEviction = () => {
    if (evictionChecked) return;
    evictionChecked = true;
    void evictionPolicy(redis).then((policy) => {
      if (policy !== undefined && !closed) {
        reportError(evictionMessage(where, policy, queueName));
      }
    });
  };
  const onReady = () => {
    // Logged in again: an error from before says nothing of the next disconnection.
    lastConnectionError = undefined;
    if (closed) return;
    checkEviction();
    if (outage) backToRedis();
  };
  redis.on('ready', onReady);
  // An ioredis instance of the app's may be connected already: no `ready` to wait for.
  if (redis.status === 'ready') checkEviction();

  /**
   * In fallback mode, lets new events try Redis again after a backoff. A Redis that was slow but
   * kept the connection never emits `ready`, and without this the producer would keep every new
   * event in memory (lost if the process dies) although Redis answers again. The try is the next
   * write itself: it goes through (`backToRedis`), or it fails into the fallback like any write and
   * the next try waits twice as long. `append` never waits for any of it.
   */
  const retryLater = () => {
    if (closed || retryTimer !== undefined) return;
    const delay = retryDelayMs;
    retryDelayMs = Math.min(retryDelayMs * 2, RETRY_MAX_MS);
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      if (closed || mode !== 'fallback') return;
      // Disconnected: a try would fail at once; ioredis's `ready` ends the outage instead.
      if (redis.status !== 'ready') retryLater();
      else mode = 'redis';
    }, delay);
    retryTimer.unref?.();
  };

  const waitForReady = (ms: number): Promise<boolean> => {
    if (redis.status === 'ready') return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = (ok: boolean) => {
        clearTimeout(t);
        redis.off('ready', onOk);
        resolve(ok);
      };
      const onOk = () => done(true);
      const t = setTimeout(() => done(false), Math.max(0, ms));
      t.unref?.();
      redis.on('ready', onOk);
    });
  };

  /** To the in-memory fallback: from `append` (nothing counted them yet), or from a failed write. */
  const toFallback = (records: readonly OutboxRecord[], from?: 'writingEvents'): AppendResult => {
    counters.fallbackEvents += records.length;
    for (const record of records) moveStream(record.pixelId, 1, from, 'fallbackEvents');
    return fallback.append(records);
  };

  /** Redis failed: these (already handed over) records come back to this process's engine. */
  const recover = (records: OutboxRecord[], reason: string) => {
    // In the same synchronous step as the move (a listener told below may call process.exit()).
    inWrite = undefined;
    counters.writeFailures++;
    writing -= records.length;
    mode = 'fallback';
    const { evicted } = toFallback(records, 'writingEvents');
    // The client counts them before anyone hears of the failure: a logger or an `error` listener
    // that reads the figures finds these events in them, not between the producer's and the client's.
    if (host) {
      host.added(records);
      if (evicted.length > 0) host.evicted(evicted);
    }
    // A failed try after the backoff is the same outage: said once, at its start.
    if (!outage) {
      outage = true;
      const { problem, fix } = redisFailure(reason, refusalContext);
      reportError(
        `Redis at ${where} ${problem} (${reason}): ${records.length} event(s) and every new one are kept in memory and delivered by this process until it is back; they are lost if this process dies. ${fix}`,
      );
    }
    retryLater();
  };

  // Job ids running backwards (Redis lost the queue), jobs no worker takes: see queue-watch.ts.
  const queueWatched = queueWatch({
    where,
    queueName,
    prefix: options.prefix ?? 'bull',
    untakenAfterMs,
    reportError,
    enqueuedEvents: () => counters.enqueuedEvents,
    canCheck: () => !closed && mode === 'redis' && redis.status === 'ready',
    jobState: (id) => queue.getJobState(id),
  });

  /** Empties the buffer into jobs; its events count as `writing` until the write answers. */
  const takeJobs = (): {
    jobs: { name: string; data: CapiJobData; opts: JobsOptions }[];
    records: OutboxRecord[];
  } => {
    const jobs: { name: string; data: CapiJobData; opts: JobsOptions }[] = [];
    const records: OutboxRecord[] = [];
    for (const [pixelId, list] of buffer) {
      moveStream(pixelId, list.length, 'bufferedEvents', 'writingEvents');
      let chunk: OutboxRecord[] = [];
      let bytes = 0;
      for (const record of list) {
        if (
          chunk.length > 0 &&
          (chunk.length >= maxJobEvents || bytes + record.bytes + 1 > maxJobBytes)
        ) {
          jobs.push({ name: 'events', data: { v: 1, pixelId, records: chunk }, opts: jobOptions });
          chunk = [];
          bytes = 0;
        }
        chunk.push(record);
        bytes += record.bytes + 1;
        records.push(record);
      }
      if (chunk.length > 0) {
        jobs.push({ name: 'events', data: { v: 1, pixelId, records: chunk }, opts: jobOptions });
      }
    }
    buffer = new Map();
    writing += buffered;
    buffered = 0;
    return { jobs, records };
  };

  const writeOnce = async (): Promise<void> => {
    const { jobs, records } = takeJobs();
    if (jobs.length === 0) return;
    inWrite = records;
    try {
      await writeJobs(jobs, records);
    } finally {
      inWrite = undefined;
    }
  };

  const writeJobs = async (
    jobs: { name: string; data: CapiJobData; opts: JobsOptions }[],
    records: OutboxRecord[],
  ): Promise<void> => {
    if (redis.status !== 'ready') {
      // Before the first connection, give it `connectTimeoutMs` from creation; after that, fail fast.
      const left = connectTimeoutMs - (Date.now() - started);
      if (left <= 0 || !(await waitForReady(left))) {
        recover(records, `not connected${lastConnectionError ? `: ${lastConnectionError}` : ''}`);
        return;
      }
    }
    // One `queue.add` per job, sent together (ioredis pipelines them on the connection), rather
    // than `addBulk`: that is one pipeline whose jobs each land or not, and it rejects as a whole at
    // the first refusal (Redis full part-way), so the jobs already written went to the fallback
    // too and were delivered (and counted as delivered) twice. Each job's own answer says which
    // events Redis holds; only the others go to the fallback.
    const added: ({ id?: string | undefined } | undefined)[] = jobs.map(() => undefined);
    let failure: unknown;
    const adds = jobs.map((job, index) =>
      queue.add(job.name, job.data, job.opts).then(
        (written) => {
          added[index] = written;
        },
        (error: unknown) => {
          failure ??= error;
        },
      ),
    );
    let timeout: ReturnType<typeof setTimeout> | undefined;
    try {
      await Promise.race([
        Promise.all(adds),
        new Promise<void>((resolve) => {
          timeout = setTimeout(() => {
            failure ??= new Error(`the write took longer than ${writeTimeoutMs} ms`);
            resolve();
          }, writeTimeoutMs);
          timeout.unref?.();
        }),
      ]);
    } finally {
      if (timeout !== undefined) clearTimeout(timeout);
    }
    // In one synchronous step from here: each event is enqueued or in the fallback when read.
    const landed = jobs.filter((_, index) => added[index] !== undefined);
    const landedEvents = landed.reduce((sum, job) => sum + job.data.records.length, 0);
    if (landed.length > 0) {
      queueWatched.written(added.filter((job) => job !== undefined));
      writing -= landedEvents;
      counters.enqueuedEvents += landedEvents;
      counters.enqueuedJobs += landed.length;
      for (const job of landed) {
        moveStream(job.data.pixelId, job.data.records.length, 'writingEvents', 'enqueuedEvents');
      }
    }
    if (landed.length < jobs.length) {
      // A job still unanswered at the timeout may land later: its events are then delivered
      // twice (same event_id, Meta deduplicates). One whose connection dropped waited for a
      // reconnection: when Redis refused it (a password rotated with ACL SETUSER, WRONGPASS),
      // that refusal is the fault to name, not the timeout.
      const lost =
        redis.status !== 'ready' && lastConnectionError !== undefined
          ? `; not connected: ${lastConnectionError}`
          : '';
      const rest = jobs.filter((_, index) => added[index] === undefined);
      recover(
        rest.flatMap((job) => job.data.records),
        `${messageOf(failure)}${lost}`,
      );
      return;
    }
    inWrite = undefined;
    // Redis took a write during an outage (the try after the backoff, or events that waited behind
    // the write that failed): it answers again.
    if (outage && !closed) backToRedis();
  };

  const cancelTimers = () => {
    if (timer !== undefined) clearTimeout(timer);
    if (immediate !== undefined) clearImmediate(immediate);
    timer = undefined;
    immediate = undefined;
  };

  /** Writes until the buffer is empty, one write (its jobs' `queue.add`s) at a time. Never rejects. */
  const drain = (): Promise<void> => {
    cancelTimers();
    if (draining) return draining;
    if (buffered === 0) return Promise.resolve();
    draining = (async () => {
      try {
        while (buffered > 0) await writeOnce();
      } catch (error) {
        reportError(`bullmqOutbox: unexpected failure: ${messageOf(error)}`);
      } finally {
        draining = undefined;
      }
    })();
    return draining;
  };

  const schedule = () => {
    if (closed || draining) return; // the running write loops until the buffer is empty
    if (buffered >= maxJobEvents) {
      if (immediate !== undefined) return;
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
      immediate = setImmediate(() => {
        immediate = undefined;
        void drain();
      });
      immediate.unref?.();
      return;
    }
    if (timer !== undefined || immediate !== undefined) return;
    timer = setTimeout(() => {
      timer = undefined;
      void drain();
    }, flushIntervalMs);
    timer.unref?.();
  };

  /**
   * `process.exit()` before close() ended (an app's SIGTERM handler that exits without closing the
   * client): no write will ever answer. What waits in the buffer, or in a write under way, goes
   * to the fallback and the client is told (`added`), in this one synchronous step; the core's
   * `exit` listener, which runs after this one, then counts it as dropped (`shutdown`), says so
   * and hands it to `onUndeliverable`, as it does with the in-memory outbox's events. They were
   * lost without a word. A write under way may still land: those events may then also be
   * delivered by a worker (Meta deduplicates by `event_id` what the app sends again).
   */
  const atExit = () => {
    if (closed) return;
    cancelTimers();
    const held = inWrite ?? [];
    inWrite = undefined;
    const { records } = takeJobs();
    const all = [...held, ...records];
    if (all.length === 0) return;
    writing -= all.length;
    const { evicted } = toFallback(all, 'writingEvents');
    if (host) {
      host.added(all);
      if (evicted.length > 0) host.evicted(evicted);
      return;
    }
    log(
      'error',
      `${all.length} event(s) waiting for Redis were lost: the process exited before they were written (await the client's close() before process.exit())`,
    );
  };
  handOverAtExit(atExit);

  /** The producer's close: the buffer written out, timers stopped, the queue and (own) connection closed. */
  const closeOnce = async (): Promise<void> => {
    // An append in a reaction to the drain (a `.then` on flush()) runs before `closed` is set:
    // drain until nothing is buffered, or its timer would be cancelled below with it.
    do await drain();
    while (buffered > 0);
    closed = true;
    cancelTimers();
    if (retryTimer !== undefined) clearTimeout(retryTimer);
    retryTimer = undefined;
    queueWatched.stop();
    redis.off('ready', onReady);
    const quiet = new Promise<void>((resolve) => {
      const t = setTimeout(resolve, writeTimeoutMs);
      t.unref?.();
    });
    await Promise.race([queue.close().catch(() => {}), quiet]);
    if (ownsConnection) {
      if (redis.status === 'ready') await redis.quit().catch(() => redis.disconnect());
      else redis.disconnect();
    }
    redis.off('error', onRedisError);
    exitHandOvers.delete(atExit);
  };
  let closing: Promise<void> | undefined;

  const outbox: BullmqOutbox = {
    durable: false,
    queue,

    append(records) {
      if (closed) throw new Error('bullmqOutbox: closed');
      // What waits for Redis, buffered or in a write it has not answered, is bounded: a slow Redis
      // must not hold more than `maxBufferedEvents` in this process's memory.
      if (mode === 'fallback' || buffered + writing + records.length > maxBufferedEvents) {
        return toFallback(records);
      }
      for (const record of records) {
        const list = buffer.get(record.pixelId);
        if (list) list.push(record);
        else buffer.set(record.pixelId, [record]);
        moveStream(record.pixelId, 1, undefined, 'bufferedEvents');
      }
      buffered += records.length;
      schedule();
      // The workers deliver these: the engine does not count or send them.
      return { evicted: [], delegated: records };
    },

    // Only the fallback's records: everything else is the workers' job.
    claim: (limit: number, leaseMs: number, claimOptions?: ClaimOptions) =>
      fallback.claim(limit, leaseMs, claimOptions),
    ack: (ids) => fallback.ack(ids),
    nack: (ids, retryAt, error) => fallback.nack(ids, retryAt, error),
    release: (ids, retryAt) => fallback.release(ids, retryAt),
    deadLetter: (ids, error) => fallback.deadLetter(ids, error),
    stats: (): OutboxStats => fallback.stats(),

    attach(engine) {
      host = engine;
    },

    flush: () => drain(),

    close() {
      // Once: a second call, even while the first still drains, waits for the same close rather
      // than closing the queue and the connection a second time.
      closing ??= closeOnce();
      return closing;
    },

    producerStats: () => ({
      mode,
      buffered,
      writing,
      ...counters,
      streams: Object.fromEntries([...streams].map(([key, entry]) => [key, { ...entry }])),
    }),
  };
  // Logged whole (`console.log(outbox)`), the queue's connection options showed the password.
  return describedAs(outbox, { bullmqOutbox: queueName, redis: where });
};
