import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    reporters: ['default', ['json', { outputFile: '.vitest/report.json' }]],
    // The end-to-end tests run the built bin as child processes against one mock each.
    testTimeout: 30_000,
  },
});
