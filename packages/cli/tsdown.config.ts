import { packageBuild, withExecutable } from '../../scripts/tsdown-preset.ts';

// `bin` is the executable package.json `bin` runs: ESM only, no declarations.
export default packageBuild(withExecutable('bin'));
