// @ts-check
// What the example apps share, so each example shows only its framework's adapter and all four
// answer the same request the same way: one event ID rule, one validation with one set of error
// texts, one content-type, charset, size and JSON rule, one reading of the TIKTOK_* variables
// (examples/README.md, "The example contract").
export { missingEnvMessage, parseTrustProxy, REQUIRED_ENV } from './env.js';
export { purchaseEventId } from './event-ids.js';
export { purchaseDataOf, readLead, readPurchase, userDataOf } from './inputs.js';
export { landingPage } from './landing-page.js';
export {
  BODY_LIMIT_BYTES,
  BODY_TOO_LARGE,
  bodyParserJsonOptions,
  bodyParserRejection,
  contentTypeRejection,
  NOT_A_JSON_OBJECT,
  PROTOTYPE_KEY,
  PrototypeKeyError,
  parseFastifyJson,
  parseJsonBody,
  RefusedJsonError,
  readJsonRequest,
  refuseNonUtf8Json,
  refusePrototypeKeys,
  UNSUPPORTED_CHARSET,
  UNSUPPORTED_CONTENT_TYPE,
} from './request-body.js';
export {
  destinationsFromEnv,
  missingTikTokVariable,
  TIKTOK_REQUIRED_ENV,
  tiktokPixelFromEnv,
} from './tiktok.js';
export { DEFAULT_TIKTOK_PIXEL_SCRIPT_URL, tiktokPixelSnippet } from './tiktok-pixel.js';

/**
 * @typedef {import('./request-body.js').Rejection} Rejection
 * @typedef {import('./inputs.js').LeadInput} LeadInput
 * @typedef {import('./inputs.js').PurchaseInput} PurchaseInput
 * @typedef {import('./inputs.js').ContentInput} ContentInput
 * @typedef {import('./tiktok.js').TikTokPagePixel} TikTokPagePixel
 * @typedef {import('./tiktok-pixel.js').TikTokPageEvent} TikTokPageEvent
 */
