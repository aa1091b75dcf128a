import type { Destination } from './destination.js';
import type { HookBus } from './hooks.js';
import type { Outbox, OutboxRecord } from './outbox/types.js';
import type { Redactor } from './redact.js';
import type { PixelEndpoint } from './transport.js';
import type { Clock, FetchLike, Logger, RetryOptions, UndeliverableReason } from './types.js';

/** Settings one stream's pipeline runs with (resolved by `createCapi`). */
export interface PipeConfig {
  /** The stream key (Meta: the pixel id; others `<name>:<id>`), `pixelId` in stats, hooks and logs. */
  pixelId: string;
  /** The platform rules the pipe is driven by: answers, acknowledgements, upload window. */
  destination: Destination;
  /** The envelope, with the request headers resolved once (`requestHeaders`). */
  endpoint: PixelEndpoint;
  fetch: FetchLike;
  /** The scheduling clock (`schedulingClock`): never steps, so pauses and deadlines hold. */
  clock: Clock;
  /** Wall-clock epoch ms: Meta's upload window and `Retry-After` HTTP dates. */
  wallNow: () => number;
  random: () => number;
  outbox: Outbox;
  maxBatchEvents: number;
  /** Bytes available for the events themselves (the batch cap minus the body envelope). */
  maxBatchBytes: number;
  flushIntervalMs: number;
  timeoutMs: number;
  maxConcurrency: number;
  leaseMs: number;
  retry: Required<RetryOptions>;
  redact: Redactor;
  logger: Logger;
  hooks: HookBus;
  undeliverable: (records: readonly OutboxRecord[], reason: UndeliverableReason) => void;
  /** Hands a background flush promise to `waitUntil` (serverless). */
  background: (promise: Promise<void>) => void;
  /** Told of every batch Meta acknowledged (diagnostics: freshness). Must not throw. */
  acknowledged?: ((records: readonly OutboxRecord[]) => void) | undefined;
}
