import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    reporters: ['default', ['json', { outputFile: '.vitest/report.json' }]],
    // Packing, one `npm install` and the apps: minutes, not the seconds of a unit test.
    hookTimeout: 240_000,
    testTimeout: 120_000,
  },
});
