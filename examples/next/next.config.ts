import path from 'node:path';
import type { NextConfig } from 'next';

const config: NextConfig = {
  // npm workspaces hoist node_modules to the monorepo root: let Turbopack read from there.
  turbopack: { root: path.join(import.meta.dirname, '../..') },
  outputFileTracingRoot: path.join(import.meta.dirname, '../..'),
  // The repository type-checks the example with `npm run typecheck`; the build need not repeat it.
  typescript: { ignoreBuildErrors: true },
  poweredByHeader: false,
};

export default config;
