/**
 * @capi-kit/tiktok: TikTok Events API 2.0 for capi-kit. `tiktok({ pixelCode, accessToken })` is a
 * destination for `createCapi({ destinations })` (and every adapter), so one `track()` reaches
 * Meta and TikTok with one `event_id`. Its building blocks are exported too: Meta-named events
 * mapped to TikTok's, customer information normalized and hashed by TikTok's rules, request
 * bodies and answer classification, all pure (docs/destinations.md).
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
  type TikTokDestinationOptions,
  TTCLID_COOKIE_MAX_AGE,
  tiktok,
} from './destination.js';
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
