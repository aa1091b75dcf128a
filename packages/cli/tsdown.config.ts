import { packageBuild } from '../../scripts/tsdown-preset.ts';

export default packageBuild({ entry: { index: 'src/index.ts', bin: 'src/bin.ts' } });
