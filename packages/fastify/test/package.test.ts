import { expect, it } from 'vitest';
import * as checks from '../../../scripts/test-support/package-checks.ts';

// The built package, resolved by name through its `exports` the way users get it (tests run after
// the build).
it('has this public API (a change here is an API change); the default export is the plugin', async () => {
  expect(await checks.exportNames('@capi-kit/fastify')).toMatchInlineSnapshot(`
    [
      "capiPlugin",
      "default",
      "routeConversion",
    ]
  `);
  const api = (await import(/* @vite-ignore */ '@capi-kit/fastify')) as Record<string, unknown>;
  expect(api.default).toBe(api.capiPlugin);
});

checks.describeCommonJsConsumer(new URL('./consumers/app.cjs', import.meta.url), [
  'fastify5',
  'fastify4',
]);
