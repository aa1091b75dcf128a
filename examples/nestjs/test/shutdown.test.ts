import { fileURLToPath } from 'node:url';
import { describeGracefulShutdown } from 'capi-kit-example-contract';

// `node dist/main.js`, the built example as it ships (turbo builds it before the tests), on both
// Nest HTTP platforms. main.ts asks Nest to end with process.exit(0) once it has shut down.
const cwd = fileURLToPath(new URL('..', import.meta.url));
for (const platform of ['express', 'fastify']) {
  describeGracefulShutdown(`nestjs (${platform})`, {
    args: ['dist/main.js'],
    cwd,
    env: { NEST_PLATFORM: platform },
    exit: { code: 0, signal: null },
  });
}
