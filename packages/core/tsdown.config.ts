import { defineConfig, type UserConfig } from 'tsdown';
import { asciiOutput, buildChecks } from '../../scripts/tsdown-preset.ts';

// One build of the library plus the two flavors of `#platform`: on Node, `node:crypto` for SHA-256
// and the heavy dependencies loaded on first use; on edge/worker/browser runtimes, a pure-JS digest
// and the dependencies imported statically. The library imports `#platform`, which stays an import
// in dist: package.json `imports` conditions pick the flavor when the app (or its bundler) resolves
// it, so no runtime sniffing happens on the hot path and the ~330 KB library ships once per format
// instead of once per runtime and format. One module per flavor, not one per concern: each is one
// more file to resolve and load at `import` (src/platform/node.ts).
export default defineConfig([
  {
    entry: { index: 'src/index.ts' },
    format: ['esm', 'cjs'],
    dts: true,
    fixedExtension: true,
    platform: 'neutral',
    target: 'es2022',
    deps: { neverBundle: ['#platform'] },
    clean: true,
    checks: buildChecks,
    plugins: [asciiOutput],
    tsconfig: 'tsconfig.build.json',
  },
  // One build per flavor: built together, they would share a chunk (CJS interop), and the web
  // flavor would load the file that imports `node:crypto`.
  ...(['node', 'web'] as const).map(
    (runtime): UserConfig => ({
      entry: { [`platform/${runtime}`]: `src/platform/${runtime}.ts` },
      format: ['esm', 'cjs'],
      dts: false,
      fixedExtension: true,
      // `node`: the Node flavor imports `node:module`, a builtin there (neutral warns it unresolved).
      platform: runtime === 'node' ? 'node' : 'neutral',
      // Which module system the build is for (src/deps/lazy.node.ts: how `load` is made).
      inputOptions: (options, format) => ({
        ...options,
        transform: {
          ...options.transform,
          define: { ...options.transform?.define, __CAPI_KIT_CJS__: String(format === 'cjs') },
        },
      }),
      target: 'es2022',
      clean: false,
      checks: buildChecks,
      plugins: [asciiOutput],
      tsconfig: 'tsconfig.build.json',
    }),
  ),
]);
