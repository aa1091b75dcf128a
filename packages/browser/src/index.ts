export {
  type AdvancedMatching,
  createPixel,
  DEFAULT_RELAY_PATH,
  DEFAULT_SCRIPT_URL,
  type Pixel,
  type PixelOptions,
} from './create-pixel.js';
export { eventId } from './event-id.js';
export type {
  Content,
  CustomData,
  EventName,
  PurchaseData,
  StandardEventName,
  TrackArgs,
  TrackOptions,
} from './events.js';
export { RELAY_PROTOCOL_VERSION, type RelayEvent, type RelayPayload } from './relay.js';
export {
  type TikTokOptions,
  type TikTokPixelContent,
  type TikTokPixelProperties,
  type Ttq,
  toTikTokPixelEvent,
  trackTikTok,
} from './tiktok.js';
