import { packageBuild } from '../../scripts/tsdown-preset.ts';

export default packageBuild();
