/**
 * Meta Conversions API for Next.js (App Router), server side: Server Actions, Server Components and
 * route handlers. Built only from `@capi-kit/core`'s public exports, the same a third-party adapter
 * would use. The cookie proxy lives in `@capi-kit/next/proxy`, the Pixel in `@capi-kit/next/client`.
 */
export type { WaitUntil } from './keep-alive.js';
export {
  type ConversionMap,
  createNextCapi,
  type NextCapi,
  type NextCapiOptions,
  type TrackConversion,
  type WithCapiOptions,
  type WithEventId,
} from './next-capi.js';
export { createRelayRoute, type RelayRoute, type RelayRouteOptions } from './relay.js';
export {
  type RegisterShutdownOptions,
  registerShutdown,
  type ShutdownTarget,
} from './shutdown.js';
