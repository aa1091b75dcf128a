import { packageBuild, withExecutable } from '../../scripts/tsdown-preset.ts';

const executable = withExecutable('bin');

// `bin` is the executable package.json `bin` runs: ESM only, no declarations. `adapter-kit` is the
// conformance kit (`@capi-kit/testing/adapter-kit`) and `destination-kit` the destinations' one,
// each its own entry so the mock never loads vitest.
export default packageBuild({
  ...executable,
  entry: {
    ...(executable.entry as Record<string, string>),
    'adapter-kit': 'src/adapter-kit/index.ts',
    'destination-kit': 'src/destination-kit/index.ts',
  },
});
