import { packageBuild } from '../../scripts/tsdown-preset.ts';

// Three entries: the server helpers, the Edge-safe proxy and the client component. The client is
// its own build so no chunk is shared across the `'use client'` boundary; rolldown keeps the
// directive as the module's first statement (test/package.test.ts checks the output).
export default [
  packageBuild({ entry: { index: 'src/index.ts', proxy: 'src/proxy.ts' } }),
  packageBuild({
    entry: { client: 'src/client.ts' },
    platform: 'neutral',
    target: 'es2022',
    clean: false,
  }),
];
