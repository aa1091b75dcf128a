import { defineConfig, type UserConfig } from 'tsdown';

/** The build every publishable package shares: dual ESM + CJS with declarations, Node 20 target. */
export const packageBuild = (overrides: UserConfig = {}) =>
  defineConfig({
    entry: { index: 'src/index.ts' },
    format: ['esm', 'cjs'],
    dts: true,
    fixedExtension: true,
    platform: 'node',
    target: 'node20',
    clean: true,
    ...overrides,
  });
