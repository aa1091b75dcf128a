import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    reporters: ['default', ['json', { outputFile: '.vitest/report.json' }]],
    // Packing, one `npm install` and the apps: minutes, not the seconds of a unit test. The pack
    // and install took more than 4 minutes on a slow machine while turbo ran the examples' tests
    // beside them (2026-12-05): 10 is a ceiling, not an expectation.
    hookTimeout: 600_000,
    testTimeout: 120_000,
  },
});
