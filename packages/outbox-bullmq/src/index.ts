/**
 * @capi-kit/outbox-bullmq: a Redis outbox for `createCapi({ outbox })` and delivery workers. Producers
 * enqueue events into a BullMQ queue in bulk; `createCapiWorker` processes (any number) send them.
 */
export type { RedisConnection } from './connection.js';
export {
  CAPI_BACKOFF,
  type CapiJobData,
  DEFAULT_JOB_OPTIONS,
  DEFAULT_QUEUE_NAME,
} from './job.js';
export {
  type BullmqOutbox,
  type BullmqProducerStats,
  type BullmqStreamStats,
  bullmqOutbox,
} from './producer.js';
export type { BullmqOutboxOptions } from './producer-options.js';
export { type CapiWorker, type CapiWorkerStats, createCapiWorker } from './worker.js';
export type { CapiWorkerOptions } from './worker-options.js';
