// @ts-check
import { fileURLToPath } from 'node:url';
import { describeGracefulShutdown } from 'capi-kit-example-contract';

describeGracefulShutdown('express', {
  args: ['src/server.js'],
  cwd: fileURLToPath(new URL('..', import.meta.url)),
  exit: { code: 0, signal: null },
});
