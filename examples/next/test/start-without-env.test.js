// @ts-check
import { fileURLToPath } from 'node:url';
import { describeStartWithoutEnv } from 'capi-kit-example-contract';
import { beforeAll } from 'vitest';
import { ensureBuilt, nextBin } from './next-server.js';

// `next start` on the built app: instrumentation.ts checks the environment when the server starts.
beforeAll(ensureBuilt);
describeStartWithoutEnv('next', {
  args: [nextBin, 'start', '-H', '127.0.0.1'],
  cwd: fileURLToPath(new URL('..', import.meta.url)),
  env: { NEXT_TELEMETRY_DISABLED: '1' },
});
