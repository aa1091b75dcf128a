import type { CapiAdapterOptions, IncomingMessageLike, RelayOptions } from '@capi-kit/core';
import type { FactoryProvider, ModuleMetadata, Provider, Type } from '@nestjs/common';

/**
 * Options of {@link CapiModule}: `createCapi`'s options and the request-context options
 * (`trustProxy`, `consent`, `cookieDomain`…) in one object, or `client` to share a client created
 * with `createCapi` (the module then never closes it).
 * @example CapiModule.forRoot({ pixelId: '123', accessToken: process.env.META_ACCESS_TOKEN, trustProxy: 'loopback' })
 */
export interface CapiModuleOptions extends CapiAdapterOptions {
  /** Deadline for sending queued events when the app shuts down; default the client's (2000 ms). */
  shutdownTimeoutMs?: number | undefined;
  /**
   * Serves `@capi-kit/browser`'s first-party relay (`true` for the defaults): a middleware on
   * `path` (default `/capi/events`, under the app's global prefix) that forwards each browser
   * event through CAPI with the same `event_id`.
   * @example relay: { identify: (req) => sessionUser(req), allowEvents: [...STANDARD_EVENTS, 'DemoClick'] }
   */
  relay?: boolean | CapiRelayOptions | undefined;
}

/**
 * The relay's rules (see `createRelay` in `@capi-kit/core`) and its path. `identify` gets the Node
 * request: Express's `Request` on the Express platform, the raw `IncomingMessage` on Fastify.
 */
export interface CapiRelayOptions extends RelayOptions<IncomingMessageLike> {
  /**
   * Path the browser posts to; default `/capi/events`, `@capi-kit/browser`'s default. An empty
   * path, one with a query, or a value that is not a string fails the app's start.
   */
  path?: string | undefined;
}

/** Options of `CapiModule.forRoot`: {@link CapiModuleOptions} plus `isGlobal`. */
export interface CapiModuleRootOptions extends CapiModuleOptions {
  /** Registers `CapiService` and the tokens globally, so feature modules need not import `CapiModule`. */
  isGlobal?: boolean | undefined;
}

/** A class that creates the module options, for `forRootAsync({ useClass | useExisting })`. */
export interface CapiOptionsFactory {
  /** Returns the options (or a promise of them) once the factory's own dependencies are injected. */
  createCapiOptions(): CapiModuleOptions | Promise<CapiModuleOptions>;
}

/**
 * Options of `CapiModule.forRootAsync`: exactly one of `useFactory` (with `inject`), `useClass` or
 * `useExisting`, plus the `imports` that provide their dependencies.
 * @example CapiModule.forRootAsync({ imports: [ConfigModule], inject: [ConfigService], useFactory: (config: ConfigService) => ({ pixelId: config.get('META_PIXEL_ID') }) })
 */
export interface CapiModuleAsyncOptions extends Pick<ModuleMetadata, 'imports'> {
  /** Registers `CapiService` and the tokens globally. */
  isGlobal?: boolean | undefined;
  /** Builds the options from the providers listed in `inject`. */
  useFactory?: FactoryProvider<CapiModuleOptions | Promise<CapiModuleOptions>>['useFactory'];
  /** Providers passed to `useFactory`, in order. */
  inject?: FactoryProvider['inject'];
  /** A {@link CapiOptionsFactory} the module instantiates. */
  useClass?: Type<CapiOptionsFactory>;
  /** A {@link CapiOptionsFactory} provider that already exists (from `imports`). */
  useExisting?: Type<CapiOptionsFactory>;
  /** More providers for this module, e.g. what `useClass` depends on. */
  extraProviders?: Provider[];
}
