import { fileURLToPath } from 'node:url';
import { describeStartRefused, describeStartWithoutEnv } from 'capi-kit-example-contract';

// `node dist/main.js`, the built example as it ships (turbo builds it before the tests).
describeStartWithoutEnv('nestjs', {
  args: ['dist/main.js'],
  cwd: fileURLToPath(new URL('..', import.meta.url)),
});

// Nest's ExceptionHandler logs a failed module set-up (a refused META_PIXEL_ID) itself, with its
// stack, before main.ts sees it: only the taken port is checked here. Nest logs the failed listen
// too (one `listen EADDRINUSE` line), before the example's own line.
describeStartRefused(
  'nestjs',
  { args: ['dist/main.js'], cwd: fileURLToPath(new URL('..', import.meta.url)) },
  { config: false, frameworkPortLine: true },
);
