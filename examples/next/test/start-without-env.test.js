// @ts-check
import { fileURLToPath } from 'node:url';
import { describeStartRefused, describeStartWithoutEnv } from 'capi-kit-example-contract';
import { beforeAll } from 'vitest';
import { ensureBuilt, nextBin } from './next-server.js';

// `next start` on the built app: instrumentation.ts checks the environment when the server starts.
beforeAll(ensureBuilt);
const nextStart = {
  args: [nextBin, 'start', '-H', '127.0.0.1'],
  cwd: fileURLToPath(new URL('..', import.meta.url)),
  env: { NEXT_TELEMETRY_DISABLED: '1' },
};
describeStartWithoutEnv('next', nextStart);
// A taken port is `next start`'s own to report (it binds the port before instrumentation runs).
describeStartRefused('next', nextStart, { port: false });
