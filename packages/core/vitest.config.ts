import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  // src/deps/lazy.node.ts: the tests run the ESM shape (tsdown.config.ts defines it per format).
  define: { __CAPI_KIT_CJS__: 'false' },
  resolve: {
    alias: {
      '#platform': fileURLToPath(new URL('./src/platform/node.ts', import.meta.url)),
    },
  },
  test: {
    include: ['test/**/*.test.ts'],
    setupFiles: ['test/delivery/no-unhandled-rejections.setup.ts'],
    reporters: ['default', ['json', { outputFile: '.vitest/report.json' }]],
    typecheck: { enabled: false },
  },
});
