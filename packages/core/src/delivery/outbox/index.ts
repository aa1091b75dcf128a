export * from './ledger.js';
export { type MemoryOutbox, type MemoryOutboxOptions, memoryOutbox } from './memory.js';
export type {
  AppendResult,
  ClaimOptions,
  MaybePromise,
  Outbox,
  OutboxHost,
  OutboxPixelStats,
  OutboxRecord,
  OutboxStats,
} from './types.js';
