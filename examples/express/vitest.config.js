import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.js'],
    // The Chromium relay test drives a real browser and waits up to 10 s for the mock to receive
    // the events; vitest's default 5 s ran out once while `next build` shared the 2 cores in CI.
    testTimeout: 20_000,
    reporters: ['default', ['json', { outputFile: '.vitest/report.json' }]],
  },
});
