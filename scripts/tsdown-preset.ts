import { defineConfig, type Rolldown, type UserConfig } from 'tsdown';

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

/**
 * Build options for a package with an executable entry `name` (what package.json `bin` runs):
 * only `<name>.mjs` is kept. Its CommonJS copy and its declarations would ship as dead files, since
 * nothing imports an executable. Built with `index`, the code both use stays in one shared chunk.
 */
export const withExecutable = (name: string): UserConfig => {
  const deadFiles = new Set([`${name}.cjs`, `${name}.d.mts`, `${name}.d.cts`]);
  const plugin: Rolldown.Plugin = {
    name: 'capi-kit:executable-entry',
    generateBundle(_options, bundle) {
      for (const file of Object.keys(bundle)) if (deadFiles.has(file)) delete bundle[file];
    },
  };
  return {
    entry: { index: 'src/index.ts', [name]: `src/${name}.ts` },
    // `inputOptions`, not `plugins`: tsdown leaves user plugins out of the `.d.cts` pass.
    inputOptions: (options) => ({ ...options, plugins: [options.plugins, plugin] }),
  };
};
