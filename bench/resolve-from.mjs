// `node --import ./resolve-from.mjs script.mjs` with CAPI_KIT_PACKAGES_FROM=<other checkout>:
// every `@capi-kit/*` import (the script's, and the packages' own imports of each other) loads
// that checkout's build instead of this one's. ab.mjs runs this checkout's middleware-server.mjs
// with it, so "before" and "after" serve the very same code around different packages.
// `module.registerHooks` needs Node 22.15+ (23.5+ on the 23 line).
import * as nodeModule from 'node:module';
import { pathToFileURL } from 'node:url';

const from = process.env.CAPI_KIT_PACKAGES_FROM;
if (!from) throw new Error('resolve-from.mjs needs CAPI_KIT_PACKAGES_FROM=<checkout>');
if (typeof nodeModule.registerHooks !== 'function') {
  throw new Error(
    `resolve-from.mjs needs module.registerHooks (Node 22.15+), not ${process.version}`,
  );
}
const parentURL = pathToFileURL(`${from}/bench/package.json`).href;

nodeModule.registerHooks({
  resolve(specifier, context, nextResolve) {
    return specifier.startsWith('@capi-kit/')
      ? nextResolve(specifier, { ...context, parentURL })
      : nextResolve(specifier, context);
  },
});
