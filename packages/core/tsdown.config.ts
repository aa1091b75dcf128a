import { fileURLToPath } from 'node:url';
import { defineConfig } from 'tsdown';

const hashFor = (runtime: 'node' | 'web') =>
  fileURLToPath(new URL(`./src/hash/sha256.${runtime}.ts`, import.meta.url));

// Two builds that differ only in the SHA-256 implementation: `node:crypto` for Node, a pure-JS
// digest for edge/worker/browser runtimes. package.json `exports` conditions pick one, so no
// runtime sniffing happens on the hot path.
export default defineConfig([
  {
    entry: { index: 'src/index.ts' },
    format: ['esm', 'cjs'],
    dts: true,
    fixedExtension: true,
    platform: 'node',
    target: 'node20',
    alias: { '#sha256': hashFor('node') },
    clean: true,
    tsconfig: 'tsconfig.build.json',
  },
  {
    entry: { 'web/index': 'src/index.ts' },
    format: ['esm', 'cjs'],
    dts: false,
    fixedExtension: true,
    platform: 'neutral',
    target: 'es2022',
    alias: { '#sha256': hashFor('web') },
    clean: false,
    tsconfig: 'tsconfig.build.json',
  },
]);
