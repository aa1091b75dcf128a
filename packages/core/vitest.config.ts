import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    alias: {
      '#sha256': fileURLToPath(new URL('./src/hash/sha256.node.ts', import.meta.url)),
      '#deps': fileURLToPath(new URL('./src/deps/lazy.node.ts', import.meta.url)),
    },
  },
  test: {
    include: ['test/**/*.test.ts'],
    setupFiles: ['test/delivery/no-unhandled-rejections.setup.ts'],
    reporters: ['default', ['json', { outputFile: '.vitest/report.json' }]],
    typecheck: { enabled: false },
  },
});
