export { API_VERSIONS, type ApiVersionInfo } from './api-versions.js';
export { fullJitterDelay, throttleDelay } from './backoff.js';
export {
  AUTH_CODES,
  classifyResponse,
  type GraphErrorInfo,
  type HeadersLike,
  isMetaAcknowledgement,
  parseGraphError,
  parseRegainAccess,
  parseRetryAfter,
  type ResponseClass,
  rejectedEventIndex,
  retryDelayFromHeaders,
  THROTTLE_CODES,
  TRANSIENT_CODES,
} from './classify.js';
export { type CapiClient, type CloseOptions, createCapi, type DrainOptions } from './client.js';
export { MAX_TIMER_MS, schedulingClock, systemClock } from './clock.js';
export { type ConsoleLogLevel, consoleLogger } from './console-logger.js';
export {
  type Acknowledgement,
  type Classified,
  type Destination,
  type DestinationAnswer,
  type DestinationBuild,
  type DestinationBuildContext,
  type DestinationLimits,
  type Envelope,
  META_DESTINATION,
  streamKey,
} from './destination.js';
export {
  EVENT_WINDOW_MS,
  expiryLookAheadMs,
  isExpired,
  PHYSICAL_STORE_WINDOW_MS,
} from './expiry.js';
export type { Listener } from './hooks.js';
export {
  appsecretProof,
  DEFAULT_API_VERSION,
  DEFAULT_GRAPH_URL,
  DEFAULT_PARTNER_AGENT,
  DEFAULT_RETRY,
  MAX_EVENTS_PER_REQUEST,
} from './options.js';
export {
  type AppendResult,
  addPixelStats,
  type ClaimOptions,
  type FreshEntries,
  findLeased,
  LeaseTable,
  type LedgerEntry,
  type MaybePromise,
  type MemoryOutbox,
  type MemoryOutboxOptions,
  memoryOutbox,
  type Outbox,
  type OutboxHost,
  type OutboxPixelStats,
  type OutboxRecord,
  type OutboxStats,
  PixelLedger,
  retriedRecord,
} from './outbox/index.js';
export {
  createRedactor,
  optionsRedactor,
  REDACTED,
  type Redactor,
  reportedEventName,
} from './redact.js';
export { installShutdownHooks, type ProcessLike, type ShutdownHookOptions } from './shutdown.js';
export {
  CapiDeliveryError,
  type CapiHookMap,
  type CapiOptions,
  type CapiStats,
  type Clock,
  type DeadLetterInfo,
  type DeadLetterReason,
  type DedupCounters,
  type DeliveryCounters,
  type DestinationOutcome,
  type DroppedInfo,
  type DropReason,
  type ErrorInfo,
  type EventRef,
  type FetchLike,
  type Logger,
  type PixelConfig,
  type PixelStats,
  type RetryInfo,
  type RetryOptions,
  type SentInfo,
  type TrackOptions,
  type TrackResult,
  type UndeliverableReason,
  type WarnInfo,
} from './types.js';
