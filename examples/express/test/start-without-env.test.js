// @ts-check
import { fileURLToPath } from 'node:url';
import { describeStartRefused, describeStartWithoutEnv } from 'capi-kit-example-contract';

describeStartWithoutEnv('express', {
  args: ['src/server.js'],
  cwd: fileURLToPath(new URL('..', import.meta.url)),
});

describeStartRefused('express', {
  args: ['src/server.js'],
  cwd: fileURLToPath(new URL('..', import.meta.url)),
});
