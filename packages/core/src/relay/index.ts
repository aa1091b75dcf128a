/**
 * The server side of the first-party relay: `@capi-kit/browser` posts each Pixel event to your own
 * site too, and the relay forwards it through the Conversions API with the same `event_id`.
 */
export {
  createRelay,
  DEFAULT_RELAY_BODY_TIMEOUT_MS,
  DEFAULT_RELAY_IDENTIFY_TIMEOUT_MS,
} from './create-relay.js';
export { checkFirstParty, type FirstPartyRefusal } from './first-party.js';
export {
  DEFAULT_RELAY_MAX_BODY_BYTES,
  DEFAULT_RELAY_MAX_EVENTS,
  DEFAULT_RELAY_PATH,
  RELAY_PROTOCOL_VERSION,
  type RelayEventInput,
  type RelayPayloadInput,
} from './protocol.js';
export {
  createMemoryRateLimiter,
  DEFAULT_RELAY_EVENTS_PER_MINUTE,
  type MemoryRateLimiter,
  type MemoryRateLimiterOptions,
  type RateLimitDecision,
  type RelayRateLimiter,
  rateLimitKey,
  UNKNOWN_CLIENT_KEY,
} from './rate-limit.js';
export { type BodySource, type RelayBody, readRelayBody } from './read-body.js';
export {
  DEFAULT_RELAY_CLOCK_SKEW_SECONDS,
  DEFAULT_RELAY_CUSTOM_DATA_KEYS,
  relayEventTime,
} from './relay-event.js';
export { relayOptionProblem, relayPathProblem } from './relay-path.js';
export { type NodeRelayRequest, type NodeRelayResponse, serveNodeRelay } from './serve-node.js';
export type {
  CreateRelayOptions,
  Relay,
  RelayEventDropReason,
  RelayIdentify,
  RelayInput,
  RelayOptions,
  RelayRefusal,
  RelayResponse,
  RelayStats,
} from './types.js';
