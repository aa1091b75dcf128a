import { expect, it } from 'vitest';
import * as checks from '../../../scripts/test-support/package-checks.ts';

// The built package, resolved by name through its `exports` the way users get it (tests run after
// the build).
it('has this public API (a change here is an API change)', async () => {
  expect(await checks.exportNames('@capi-kit/express')).toMatchInlineSnapshot(`
    [
      "capi",
      "trackConversion",
    ]
  `);
});

checks.describeCommonJsConsumer(new URL('./consumers/app.cjs', import.meta.url), [
  'express5',
  'express4',
]);
