import {
  type Logger,
  MAX_EVENTS_PER_REQUEST,
  MAX_TIMER_MS,
  type MemoryOutboxOptions,
} from '@capi-kit/core';
import type { JobsOptions } from 'bullmq';
import type { RedisConnection } from './connection.js';
import { DEFAULT_JOB_OPTIONS } from './job.js';
import type { bullmqOutbox } from './producer.js';

// What `bullmqOutbox` is given, and the checks it makes of it before anything connects.

/** Options of {@link bullmqOutbox}. */
export interface BullmqOutboxOptions {
  /** Redis: a `redis://` URL, ioredis options, or an ioredis instance (yours to close; give it `enableOfflineQueue: false`). */
  connection: RedisConnection;
  /** BullMQ queue name; default `capi-kit-events`. Workers must use the same. */
  queueName?: string | undefined;
  /** BullMQ key prefix; default BullMQ's (`bull`). */
  prefix?: string | undefined;
  /** Events per job (one job = one request of its stream), 1–1000; default 1000. */
  maxJobEvents?: number | undefined;
  /** Serialized bytes per job; default 1 000 000 (the request body stays under 1 MiB). */
  maxJobBytes?: number | undefined;
  /** Longest time an event waits in memory before its write to Redis; default 10 ms, at most 2^31 − 1. */
  flushIntervalMs?: number | undefined;
  /** How long the first write waits for the connection before falling back; default 1000 ms, at most 2^31 − 1. */
  connectTimeoutMs?: number | undefined;
  /** A write slower than this counts as a failure (fallback); default 2000 ms, at most 2^31 − 1. */
  writeTimeoutMs?: number | undefined;
  /** Events held for Redis (buffered, or in a write it has not answered: a slow Redis); beyond it new events go to the in-memory fallback. Default 50 000. */
  maxBufferedEvents?: number | undefined;
  /** How long a job may wait untaken before the producer says no worker takes the queue's jobs (another queueName, prefix or database); default 300 000 ms (5 min), at most 2^31 − 1. */
  untakenAfterMs?: number | undefined;
  /** BullMQ job options; default {@link DEFAULT_JOB_OPTIONS} (10 attempts, the workers' backoff). */
  jobOptions?: JobsOptions | undefined;
  /** Bounds of the in-memory fallback used while Redis is unreachable; default 10 000 events / 16 MiB per pixel. */
  fallback?: MemoryOutboxOptions | undefined;
  /** Where failures go before `createCapi` attaches (afterwards: its logger and hooks); default `console.error`. */
  logger?: Logger | undefined;
}

const positive = (name: string, value: number | undefined, fallback: number, max = Infinity) => {
  const v = value ?? fallback;
  if (typeof v !== 'number' || !(v > 0) || v > max || Number.isNaN(v)) {
    throw new RangeError(`bullmqOutbox: ${name} must be in (0, ${max}], got ${String(value)}`);
  }
  return v;
};

// Timer options past MAX_TIMER_MS, setTimeout's largest delay (2^31 − 1 ms, ~24.8 days), are
// refused, as core refuses other out-of-range options: Node runs a longer one after 1 ms, so a
// larger writeTimeoutMs would fail every write.

const consoleLogger: Logger = {
  debug() {},
  info() {},
  warn: (obj, msg) => console.warn(msg, obj),
  error: (obj, msg) => console.error(msg, obj),
};

/** The producer's settings from its options, each checked: a refused one throws before any socket opens. */
export const producerSettings = (options: BullmqOutboxOptions) => {
  if (options?.connection === undefined || options.connection === '') {
    throw new TypeError(
      'bullmqOutbox: `connection` (a redis:// URL, options or instance) is required',
    );
  }
  return {
    maxJobEvents: Math.floor(
      positive(
        'maxJobEvents',
        options.maxJobEvents,
        MAX_EVENTS_PER_REQUEST,
        MAX_EVENTS_PER_REQUEST,
      ),
    ),
    maxJobBytes: positive('maxJobBytes', options.maxJobBytes, 1_000_000),
    flushIntervalMs: positive('flushIntervalMs', options.flushIntervalMs, 10, MAX_TIMER_MS),
    connectTimeoutMs: positive('connectTimeoutMs', options.connectTimeoutMs, 1000, MAX_TIMER_MS),
    writeTimeoutMs: positive('writeTimeoutMs', options.writeTimeoutMs, 2000, MAX_TIMER_MS),
    maxBufferedEvents: Math.floor(positive('maxBufferedEvents', options.maxBufferedEvents, 50_000)),
    untakenAfterMs: positive('untakenAfterMs', options.untakenAfterMs, 300_000, MAX_TIMER_MS),
    jobOptions: { ...DEFAULT_JOB_OPTIONS, ...options.jobOptions } satisfies JobsOptions,
    logger: options.logger ?? consoleLogger,
  };
};
