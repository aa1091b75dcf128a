/**
 * @capi-kit/tiktok: TikTok Events API 2.0 for capi-kit. Meta-named events (the input `track()`
 * takes) mapped to TikTok's events, customer information normalized and hashed by TikTok's rules,
 * request bodies and answer classification. Pure functions; wiring them into `track()` as a
 * destination is the next step (docs/destinations.md).
 */

export {
  classifyTikTokResponse,
  parseTikTokBody,
  TIKTOK_THROTTLE_CODE,
  type TikTokEnvelopeBody,
  type TikTokVerdict,
} from './classify.js';
export {
  cookieFromHeader,
  isTikTokIdValue,
  readTikTokContext,
  type TikTokContext,
  type TikTokContextInput,
  TTCLID_PARAM,
  TTP_COOKIE,
} from './context.js';
export {
  type TikTokEvent,
  type TikTokEventResult,
  type TikTokPage,
  type ToTikTokEventOptions,
  toTikTokEvent,
} from './event.js';
export { TIKTOK_EVENT_NAMES, tiktokEventName } from './event-names.js';
export { type TikTokContent, type TikTokProperties, toTikTokProperties } from './properties.js';
export {
  TIKTOK_EVENTS_URL,
  TIKTOK_MAX_EVENTS_PER_REQUEST,
  type TikTokEndpointOptions,
  type TikTokEnvelope,
  type TikTokRequest,
  tiktokEnvelope,
  tiktokRequest,
} from './request.js';
export { normalizeTikTokUser, type TikTokUser, type TikTokUserResult } from './user.js';
