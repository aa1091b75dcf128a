import { createRequire } from 'node:module';
import { describeExampleContract } from 'capi-kit-example-contract';

// The example as it ships: the CommonJS build (`npm run build`, which turbo runs before tests),
// loaded with `require` like `node dist/main.js` does, on both Nest HTTP platforms.
type Start = (env: Record<string, string>) => Promise<{
  url: string;
  flush(): Promise<void>;
  close(): Promise<void>;
}>;
const { start } = createRequire(import.meta.url)('../dist/start.js') as { start: Start };

describeExampleContract('nestjs (express)', (env) => start({ ...env, NEST_PLATFORM: 'express' }));
describeExampleContract('nestjs (fastify)', (env) => start({ ...env, NEST_PLATFORM: 'fastify' }));
