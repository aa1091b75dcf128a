import { packageBuild } from '../../scripts/tsdown-preset.ts';

// tsconfig.build.json has no `experimentalDecorators`: src applies Nest's decorators as functions.
export default packageBuild({ tsconfig: 'tsconfig.build.json' });
