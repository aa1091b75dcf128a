// @ts-check
import { fileURLToPath } from 'node:url';
import { describeStartRefused, describeStartWithoutEnv } from 'capi-kit-example-contract';

describeStartWithoutEnv('fastify', {
  args: ['src/server.js'],
  cwd: fileURLToPath(new URL('..', import.meta.url)),
});

describeStartRefused('fastify', {
  args: ['src/server.js'],
  cwd: fileURLToPath(new URL('..', import.meta.url)),
});
