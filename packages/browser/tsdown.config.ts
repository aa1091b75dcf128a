import { packageBuild } from '../../scripts/tsdown-preset.ts';

// Browser code, but dual like the other packages: CommonJS consumers that never see a bundler
// load it too (Jest, as `next/jest` sets it up, requiring `@capi-kit/next/client`; Node < 20.19).
export default packageBuild({ platform: 'browser', target: 'es2022' });
