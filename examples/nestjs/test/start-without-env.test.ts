import { fileURLToPath } from 'node:url';
import { describeStartWithoutEnv } from 'capi-kit-example-contract';

// `node dist/main.js`, the built example as it ships (turbo builds it before the tests).
describeStartWithoutEnv('nestjs', {
  args: ['dist/main.js'],
  cwd: fileURLToPath(new URL('..', import.meta.url)),
});
