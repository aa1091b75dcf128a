import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    reporters: ['default', ['json', { outputFile: '.vitest/report.json' }]],
    // The multi-process test runs four child processes over 20 000 events.
    testTimeout: 60_000,
    hookTimeout: 30_000,
  },
});
