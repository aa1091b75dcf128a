import type { OutboxRecord } from '@capi-kit/core';
import type { JobsOptions } from 'bullmq';

/** The queue producers and workers share unless told otherwise. */
export const DEFAULT_QUEUE_NAME = 'capi-kit-events';

/** Name of the custom backoff the workers implement (full jitter, `Retry-After` honoured). */
export const CAPI_BACKOFF = 'capi';

/** A job: up to 1000 events of one stream, sent by a worker in one request to that stream's platform. */
export interface CapiJobData {
  /** Job format version. */
  v: 1;
  /** The stream the events are for: a Meta pixel id, or `<destination>:<id>` (`tiktok:C4…`); the worker needs its destination. */
  pixelId: string;
  /** The events, serialized once by the producer's `track()` (`body`), with their ids. */
  records: OutboxRecord[];
  /** Set on a job that only carries events the platform rejected: the worker fails it at once with this message. */
  rejected?: string;
}

/**
 * Job options producers use by default: 10 attempts with the workers' backoff (full jitter from
 * 1 s, capped at 60 s, Meta's `Retry-After` honoured), delivered jobs removed, failed jobs (the
 * dead letters) kept for inspection and `job.retry()`.
 */
export const DEFAULT_JOB_OPTIONS: Readonly<JobsOptions> = Object.freeze({
  attempts: 10,
  backoff: { type: CAPI_BACKOFF, delay: 1000 },
  removeOnComplete: true,
  removeOnFail: { count: 100_000 },
});
