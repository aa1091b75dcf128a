import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    reporters: ['default', ['json', { outputFile: '.vitest/report.json' }]],
    // Packing, one `npm install` and the apps: minutes, not the seconds of a unit test (80 s alone,
    // more than 4 minutes on a slow machine beside the examples' tests). The install is killed
    // after 4 minutes and run once more (temp-app.ts), so 10 minutes is a ceiling for both.
    hookTimeout: 600_000,
    testTimeout: 120_000,
  },
});
