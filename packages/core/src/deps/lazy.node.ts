import { createRequire } from 'node:module';
import type { PhoneLibrary, PublicSuffixLibrary } from './types.js';

// On Node the two heavy dependencies load on first use, not at import: `libphonenumber-js` for a
// phone number the fast path (user-data/ph.ts, with the generated phone-plans.ts) cannot settle, `tldts` for the first registrable-domain lookup (a
// request that may set cookies). Together they were most of `import('@capi-kit/core')`'s time
// (≈ 80 ms and ≈ 25 ms of ≈ 130 ms as ESM on a 2-core machine), which a serverless cold start pays
// whether or not it ever needs them. `require` keeps the lookup synchronous, as its callers are.
// Bundlers and runtimes without `require` (edge, browsers) get `lazy.web.ts`, which imports both
// statically (package.json `imports`, `#platform`).
//
// How each build loads them is the shape tools read as a dependency: in the ESM build a top-level
// `const load = createRequire(import.meta.url)`, in the CommonJS one a plain `require('…')` call
// (tsdown.config.ts defines `__CAPI_KIT_CJS__` per format and the dead branch goes). File tracers
// (@vercel/nft, which decides what a Vercel function or a Next standalone build deploys) then ship
// both libraries with the app, and a bundler that bundles a CommonJS server bundles them too. A test
// traces the built package (packages/next/test/file-trace.test.ts).
declare const __CAPI_KIT_CJS__: boolean;
const load = __CAPI_KIT_CJS__ ? undefined : createRequire(import.meta.url);

let phone: PhoneLibrary | undefined;
let publicSuffix: PublicSuffixLibrary | undefined;

/** `libphonenumber-js/min`, loaded on the first call. */
export const phoneLibrary = (): PhoneLibrary => {
  phone ??= (
    __CAPI_KIT_CJS__
      ? require('libphonenumber-js/min')
      : (load as NodeJS.Require)('libphonenumber-js/min')
  ) as PhoneLibrary;
  return phone;
};

/** `tldts`, loaded on the first call. */
export const publicSuffixLibrary = (): PublicSuffixLibrary => {
  publicSuffix ??= (
    __CAPI_KIT_CJS__ ? require('tldts') : (load as NodeJS.Require)('tldts')
  ) as PublicSuffixLibrary;
  return publicSuffix;
};
