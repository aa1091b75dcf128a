import { packageBuild } from '../../scripts/tsdown-preset.ts';

// Browser-only code: ESM is all a bundler or a `<script type="module">` needs, so no CJS build.
export default packageBuild({ format: ['esm'], platform: 'browser', target: 'es2022' });
