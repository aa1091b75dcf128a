import type { Worker } from 'bullmq';

// BullMQ retries a job fetch that Redis refuses with a reply (out of memory, read-only replica,
// an ACL without the command) at once: its `runRetryDelay` waits only after a connection error.
// A worker on a full Redis with a backlog (the usual way to fill one) sent it thousands of scripts
// a second, at full CPU, for as long as the fault lasted, adding load to the Redis it waited on.
// After such an error the worker stops fetching for a while (the jobs it runs go on), 1 s doubled
// after each error up to 30 s, and 1 s again once a minute has passed without one.

const MIN_MS = 1000;
const MAX_MS = 30_000;

/** A refusal Redis answered (ioredis's `ReplyError`), as against a connection that failed. */
const isReplyError = (error: unknown): boolean =>
  error instanceof Error && error.name === 'ReplyError';

/** The worker's pause after Redis refused one of its calls. */
export interface RefusedBackoff {
  /** For the worker's `error` event: a Redis refusal pauses the fetching of jobs. */
  onError(error: unknown): void;
  /** No more resumes (at close). True when the backoff holds the worker paused now. */
  stop(): boolean;
}

/** A {@link RefusedBackoff} for `worker`. */
export const refusedBackoff = (worker: Worker): RefusedBackoff => {
  let delay = MIN_MS;
  let lastAt = Number.NEGATIVE_INFINITY;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;
  // The app's own pause (worker.worker.pause(), say for maintenance) outlives a backoff: BullMQ's
  // pause() does nothing on a paused worker, so the backoff's resume undid a pause the app made
  // during it. Its pause() and resume() are watched here; the backoff calls BullMQ's own.
  let heldByApp = false;
  const pause = worker.pause.bind(worker);
  const resume = worker.resume.bind(worker);
  worker.pause = (doNotWaitActive?: boolean) => {
    heldByApp = true;
    return pause(doNotWaitActive);
  };
  worker.resume = () => {
    heldByApp = false;
    return resume();
  };
  return {
    onError(error) {
      // A worker paused by anyone (this backoff, the app, close()) fetches nothing: nothing to slow.
      if (stopped || timer !== undefined || worker.isPaused() || !isReplyError(error)) return;
      const now = Date.now();
      // Errors of one fault come at most one wait apart; one after a quiet minute is a new fault.
      if (now - lastAt > 2 * MAX_MS) delay = MIN_MS;
      lastAt = now;
      // Without waiting for the running jobs: their outcome is written as usual.
      void pause(true).catch(() => {});
      timer = setTimeout(() => {
        timer = undefined;
        if (!stopped && !heldByApp) void resume().catch(() => {});
      }, delay);
      timer.unref?.();
      delay = Math.min(delay * 2, MAX_MS);
    },
    stop() {
      stopped = true;
      const paused = timer !== undefined;
      clearTimeout(timer);
      timer = undefined;
      return paused;
    },
  };
};
