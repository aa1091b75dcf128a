import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    reporters: ['default', ['json', { outputFile: '.vitest/report.json' }]],
    // The crash test runs two child processes over 10 000 events.
    testTimeout: 60_000,
    hookTimeout: 30_000,
  },
});
