import { defineConfig, type Rolldown, type UserConfig } from 'tsdown';

/**
 * Build warnings every package turns off, and why. `pluginTimings`: rolldown reports when plugins
 * (here tsdown's dependency check and declaration emit) take a large share of a build; on two
 * shared cores that is every build, it says nothing about the output, and it buried real warnings.
 */
export const buildChecks = { pluginTimings: false } as const;

/** The build every publishable package shares: dual ESM + CJS with declarations, Node 22 target (the oldest supported major). */
export const packageBuild = (overrides: UserConfig = {}) =>
  defineConfig({
    entry: { index: 'src/index.ts' },
    format: ['esm', 'cjs'],
    dts: true,
    fixedExtension: true,
    platform: 'node',
    target: 'node22',
    clean: true,
    checks: buildChecks,
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
