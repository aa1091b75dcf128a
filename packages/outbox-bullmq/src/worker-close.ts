import { type Logger, MAX_TIMER_MS } from '@capi-kit/core';
import { type Queue, type RedisConnection, Worker } from 'bullmq';
import type { CapiJobData } from './job.js';
import type { RedisFailure } from './redis-refusal.js';

// How a delivery worker stops (`createCapiWorker(…).close()`): with a deadline BullMQ's own close
// lacks, and without waiting on a Redis that cannot answer.

/** How long `close()` waits for the running jobs by default. */
const DEFAULT_CLOSE_TIMEOUT_MS = 10_000;
/** Longest wait of an idle worker's `close()` for BullMQ to stop. */
const IDLE_CLOSE_GRACE_MS = 1000;

/**
 * BullMQ's Worker, whose lock renewal close() can stop itself. BullMQ's close stops it only once
 * it has waited for the worker's blocking connection, which a refused login never lets in: the
 * renewal timer then ran every few seconds for good, keeping the process alive.
 */
export class ClosableWorker<DataType> extends Worker<DataType> {
  /** Stops renewing the locks of the jobs it runs (they are then left to the stalled-job check). */
  stopLockRenewal(): void {
    void this.lockManager.close().catch(() => {});
  }
}

/**
 * Cuts one of BullMQ's connections now, whatever its close is waiting for. Its disconnect and its
 * graceful close first wait for the connection to log in, which under a refused login never
 * happens, while ioredis kept reconnecting (a timer and a socket keeping the process alive).
 */
const cut = (connection: RedisConnection | undefined): void => {
  if (!connection) return;
  // Never logged in: BullMQ disconnects it at once, and ioredis's reconnect timer goes with it.
  void connection.close(true).catch(() => {});
  // Logged in once (a password changed since): its close may wait for a QUIT that never goes.
  // BullMQ's close takes its `error` listener away: the refusal of a login under way would then
  // be printed by ioredis as an unhandled error event.
  void connection.client.then(
    (client) => {
      client.on('error', () => {});
      client.disconnect();
    },
    () => {},
  );
};

/** What `closeWorker` stops. */
export interface ClosingWorker {
  worker: ClosableWorker<CapiJobData>;
  queue: Queue;
  /** False when the queue's connection is the app's ioredis instance: it stays open, the app's to close. */
  ownsQueueConnection: boolean;
  queueName: string;
  logger: Logger;
  /** Jobs this process is running now. */
  running: () => number;
  /** Whether the worker is already paused (after Redis refused a call): its pause() then waits for nothing. */
  paused?: boolean | undefined;
  /** `host:port` of Redis, for the message. */
  where?: string | undefined;
  /** The last refusal Redis answered the worker or its queue (credentials, memory…), if any. */
  refusal?: (() => (RedisFailure & { code: string }) | undefined) | undefined;
}

/** Resolves once no job runs, or `stop()` is true (polled: a paused worker's pause() waits for none). */
const noJobRunning = async (running: () => number, stop: () => boolean): Promise<void> => {
  while (running() > 0 && !stop()) {
    await new Promise((resolve) => setTimeout(resolve, 20).unref?.());
  }
};

/**
 * Stops taking jobs, waits for the running ones up to `requestedMs` (default 10 s), disconnects;
 * resolves by the deadline even when Redis is unreachable. Never rejects.
 */
export const closeWorker = async (
  {
    worker,
    queue,
    ownsQueueConnection,
    queueName,
    logger,
    running,
    paused,
    where,
    refusal,
  }: ClosingWorker,
  requestedMs: number | undefined,
): Promise<void> => {
  const timeoutMs =
    typeof requestedMs !== 'number' || Number.isNaN(requestedMs)
      ? DEFAULT_CLOSE_TIMEOUT_MS
      : Math.min(MAX_TIMER_MS, Math.max(0, requestedMs));
  // Idle, it has nothing to wait for but BullMQ's own writes (a job that just finished being
  // marked completed), which a reachable Redis answers in milliseconds: it waits a second at
  // most. It waited the whole deadline when Redis was unreachable, since BullMQ's pause() waits
  // on its blocking connection, which then never answers.
  const waitMs = running() === 0 ? Math.min(timeoutMs, IDLE_CLOSE_GRACE_MS) : timeoutMs;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<'late'>((resolve) => {
    timer = setTimeout(() => resolve('late'), waitMs);
  });
  // Stop taking jobs and wait for the running ones, up to the deadline. BullMQ's close has no
  // deadline of its own, and its connections wait for Redis without bound
  // (maxRetriesPerRequest: null): with Redis unreachable, a running job's outcome is never
  // written, and close() never ended, its lock renewal keeping the process alive.
  let over = false;
  // BullMQ's graceful close is bounded too: on a connection Redis never lets in (a refused
  // login), its QUIT waits for a login that never comes, and close() did not end at all.
  const finished = await Promise.race([
    (paused ? noJobRunning(running, () => over) : worker.pause())
      .then(
        () => 'done' as const,
        () => 'done' as const,
      )
      .then(async () => {
        if (over) return 'done' as const;
        await worker.close().catch(() => {});
        await queue.close().catch(() => {});
        return 'done' as const;
      }),
    late,
  ]);
  clearTimeout(timer);
  over = true;
  if (finished === 'late') {
    // A Redis that answered with a refusal is reachable: said as what it refused, and what to
    // change (from the reply's code, never from the configured connection: no credential).
    const refused = refusal?.();
    const why = refused
      ? `Redis at ${where ?? 'its address'} ${refused.problem} (${refused.code})`
      : 'is Redis reachable?';
    logger.error(
      { queue: queueName, timeoutMs: waitMs, ...(refused ? { fix: refused.fix } : {}) },
      `capi-kit worker: close() did not end in time (${why}): connections cut; a job still running keeps its events in Redis, and a worker re-runs it when its lock runs out`,
    );
    // Forced: the running jobs are left to the stalled-job check; the connections are cut, not
    // awaited (BullMQ's disconnect waits for a connection's setup, which a refused login never
    // ends). BullMQ's own close may be stuck there already, before it stops anything: what it
    // would stop is stopped here, or the process never exited after close() (a hung deploy).
    void worker.close(true).catch(() => {});
    worker.stopLockRenewal();
    const backend = worker.getBackend();
    cut(backend.blockingConnection);
    cut(backend.connection);
    void queue.close().catch(() => {});
    // The worker's connections are BullMQ's own (copies of an app's instance); the queue's may be
    // the app's instance itself, which the app still uses: left open (BullMQ's disconnect closed it).
    if (ownsQueueConnection) cut(queue.getBackend().connection);
  }
};
