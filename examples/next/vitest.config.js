import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.js'],
    // `next start` needs a few seconds; a missing build is made once in the first file.
    hookTimeout: 120_000,
    testTimeout: 30_000,
    fileParallelism: false,
    reporters: ['default', ['json', { outputFile: '.vitest/report.json' }]],
  },
});
