/**
 * @capi-kit/core: Meta Conversions API events in Meta's wire format, customer information
 * normalized and hashed as Meta requires, request context, and reliable delivery.
 */
export * from './adapter/index.js';
export * from './context/index.js';
export * from './delivery/index.js';
export * from './diagnostics/index.js';
export * from './event/index.js';
export { sha256Hex } from './hash/index.js';
export * from './pixel/index.js';
export * from './relay/index.js';
export * from './user-data/index.js';
