/**
 * What a producer watches of its queue after each write, to say what no error shows: Redis lost
 * the queue's jobs (their ids start again), or no worker takes them (another queueName, prefix or
 * database). Both are said through the producer's `reportError`, once per loss or per episode.
 */

/** What the watch needs of its producer. */
export interface QueueWatchHost {
  /** `host:port` of the Redis, as the producer's other messages name it. */
  where: string;
  queueName: string;
  prefix: string;
  untakenAfterMs: number;
  reportError(message: string): void;
  /** Events this producer has written to Redis so far (its `enqueuedEvents`). */
  enqueuedEvents(): number;
  /** Whether a check may talk to Redis now (open, in Redis mode, the connection ready). */
  canCheck(): boolean;
  /** BullMQ's state of a job (`queue.getJobState`). */
  jobState(id: string): Promise<string>;
}

/** A {@link QueueWatchHost}'s watch: `written` after each write that Redis answered, `stop` at close. */
export interface QueueWatch {
  written(added: readonly { id?: string | undefined }[]): void;
  stop(): void;
}

/** The watch of one producer. */
export const queueWatch = (host: QueueWatchHost): QueueWatch => {
  const { where, queueName, prefix, untakenAfterMs, reportError } = host;
  let stopped = false;

  /** The highest job id this producer got back, and the events it had written up to it. */
  let lastJobId: number | undefined;
  let enqueuedAtLoss = 0;
  /**
   * BullMQ numbers jobs with a counter kept in Redis, so ids only grow, whoever writes. A write
   * whose ids start at or below the last one this producer got back means Redis lost the queue
   * (a restart without persistence, a failover to a replica behind, a FLUSHALL, an eviction): the
   * jobs written before are gone, their events counted as enqueued and never delivered. Said once
   * per loss; a loss that other producers' writes carry past this producer's last id goes unseen.
   */
  const checkJobIds = (added: readonly { id?: string | undefined }[]) => {
    const first = Number(added[0]?.id);
    const last = Number(added.at(-1)?.id);
    // Ids of the app's own (`jobOptions.jobId`) say nothing of the counter.
    if (!Number.isSafeInteger(first) || !Number.isSafeInteger(last)) return;
    if (lastJobId !== undefined && first <= lastJobId) {
      const before = host.enqueuedEvents() - enqueuedAtLoss;
      enqueuedAtLoss = host.enqueuedEvents();
      reportError(
        `Redis at ${where} lost queue "${queueName}"'s jobs: its job ids started again below the last one this producer wrote (a restart without persistence, a failover to a replica behind, a FLUSHALL, or an eviction). The jobs written before are gone: up to ${before} event(s) from this producer that no worker will deliver. Turn on persistence (appendonly yes) and keep maxmemory-policy noeviction.`,
      );
    }
    lastJobId = last;
  };

  /**
   * A worker started with another queueName, prefix or database than the producers takes nothing,
   * and the events piled up in Redis with no word from either side. One job this producer wrote is
   * watched: still waiting `untakenAfterMs` later, no worker took it, and the producer says so
   * (once, until a watched job is taken again). One command per check, at most once a minute.
   */
  let watched: { id: string; at: number } | undefined;
  let untakenSaid = false;
  let untakenTimer: ReturnType<typeof setInterval> | undefined;
  const checkUntaken = async () => {
    const job = watched;
    if (!job || stopped || !host.canCheck()) return;
    if (Date.now() - job.at < untakenAfterMs) return;
    let state: string;
    try {
      state = await host.jobState(job.id);
    } catch {
      return; // Redis failing: its own message says so
    }
    if (watched !== job || stopped) return;
    watched = undefined; // the next write's first job is watched next
    if (state !== 'waiting' && state !== 'prioritized') {
      untakenSaid = false;
      return;
    }
    if (untakenSaid) return;
    untakenSaid = true;
    reportError(
      `no worker has taken the jobs of queue "${queueName}" (prefix "${prefix}") on Redis at ${where} for ${untakenAfterMs} ms: a job written then still waits, with its events. Check that createCapiWorker runs with the same connection (database), queueName and prefix as bullmqOutbox; if it does, its workers are paused (a refused token pauses the queue) or far behind.`,
    );
  };
  const watch = (added: readonly { id?: string | undefined }[]) => {
    const id = added[0]?.id;
    if (watched !== undefined || id === undefined || stopped) return;
    watched = { id, at: Date.now() };
    if (untakenTimer !== undefined) return;
    untakenTimer = setInterval(() => void checkUntaken(), Math.min(untakenAfterMs, 60_000));
    untakenTimer.unref?.();
  };

  return {
    written(added) {
      checkJobIds(added);
      watch(added);
    },
    stop() {
      stopped = true;
      if (untakenTimer !== undefined) clearInterval(untakenTimer);
      untakenTimer = undefined;
    },
  };
};
