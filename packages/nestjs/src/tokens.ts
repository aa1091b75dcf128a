// `Symbol.for` rather than `Symbol`: an app that ends up with both the ESM and the CJS build of
// this package (one imported, one required by a library) still resolves one set of providers.

/** Injection token of the `CapiClient` (from `createCapi`) the module delivers through. */
export const CAPI_CLIENT: symbol = Symbol.for('@capi-kit/nestjs:CAPI_CLIENT');

/** Injection token of the resolved {@link CapiModuleOptions} (from `forRoot` or `forRootAsync`). */
export const CAPI_OPTIONS: symbol = Symbol.for('@capi-kit/nestjs:CAPI_OPTIONS');

/** Internal: the core adapter (client + context binder) every piece of the module shares. */
export const CAPI_ADAPTER: symbol = Symbol.for('@capi-kit/nestjs:CAPI_ADAPTER');
