/**
 * Meta Conversions API for NestJS (Express and Fastify platforms). Built only from
 * `@capi-kit/core`'s public exports, the same a third-party adapter would use. Decorators are
 * applied as functions, so this package builds without `experimentalDecorators`.
 */
export type { RequestCapi, TrackParams } from '@capi-kit/core';
export { CapiModule } from './capi.module.js';
export { CapiService } from './capi.service.js';
export { CapiContext } from './capi-context.decorator.js';
export type {
  CapiModuleAsyncOptions,
  CapiModuleOptions,
  CapiModuleRootOptions,
  CapiOptionsFactory,
  CapiRelayOptions,
} from './options.js';
export { CAPI_CLIENT, CAPI_OPTIONS } from './tokens.js';
export {
  type ConversionMetadata,
  TRACK_CONVERSION_METADATA,
  TrackConversion,
  type TrackConversionOptions,
} from './track-conversion.js';
