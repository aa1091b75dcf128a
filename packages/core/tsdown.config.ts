import { defineConfig, type UserConfig } from 'tsdown';
import { asciiOutput, buildChecks } from '../../scripts/tsdown-preset.ts';

// One build of the library plus the two SHA-256 implementations: `node:crypto` for Node, a pure-JS
// digest for edge/worker/browser runtimes. The library imports `#sha256`, which stays an import in
// dist: package.json `imports` conditions pick the implementation when the app (or its bundler)
// resolves it, so no runtime sniffing happens on the hot path and the ~270 KB library ships once
// per format instead of once per runtime and format.
export default defineConfig([
  {
    entry: { index: 'src/index.ts' },
    format: ['esm', 'cjs'],
    dts: true,
    fixedExtension: true,
    platform: 'neutral',
    target: 'es2022',
    deps: { neverBundle: ['#sha256', '#deps'] },
    clean: true,
    checks: buildChecks,
    plugins: [asciiOutput],
    tsconfig: 'tsconfig.build.json',
  },
  // One build per implementation: built together, they would share a chunk (CJS interop), and
  // the web digest would load the file that imports `node:crypto`. The same for `#deps`: the
  // heavy dependencies loaded on first use on Node, imported statically elsewhere.
  ...(['node', 'web'] as const).flatMap((runtime): UserConfig[] =>
    (['hash/sha256', 'deps/lazy'] as const).map((file) => ({
      entry: { [`${file}.${runtime}`]: `src/${file}.${runtime}.ts` },
      format: ['esm', 'cjs'],
      dts: false,
      fixedExtension: true,
      // `node`: the Node flavors import `node:crypto` and `node:module`, builtins there (neutral
      // warns them unresolved).
      platform: runtime === 'node' ? 'node' : 'neutral',
      target: 'es2022',
      clean: false,
      checks: buildChecks,
      plugins: [asciiOutput],
      tsconfig: 'tsconfig.build.json',
    })),
  ),
]);
