/**
 * Request context: what one incoming request tells about its Conversions API event (client IP,
 * user agent, `_fbp`/`_fbc`, page URL, referrer, consent) and the cookies its response must set.
 */
export type { EdgePlatform, ForwardedHeaderName, PlatformPreset } from './client-ip.js';
export type { ConsentState, LduLocation, ParsedRequest } from './consent.js';
export {
  type ContextNeeds,
  type DestinationCaptures,
  type DestinationContextSource,
  isSafeCaptureValue,
  type PersistedParam,
} from './destination-context.js';
export type { CookieToSet } from './fb-cookies.js';
export { type ContextMergeable, mergeContext } from './merge-context.js';
export type { PageUrl } from './plain-url.js';
export {
  getRequestContext,
  getRequestContextOrEmpty,
  mayWriteCookies,
  type RequestContext,
  type RequestContextOptions,
  type RequestUserData,
} from './request-context.js';
export {
  fromIncomingMessage,
  type IncomingMessageLike,
  type NodeHeaders,
  type NodeRequestLike,
} from './request-input.js';
export type { ProxyNotTrustedCause, TrustProxy, TrustProxyPreset } from './trust-proxy.js';
