import { packageBuild } from '../../scripts/tsdown-preset.ts';

// The entry exports `capiPlugin` and the same plugin as `default` (what `fastify.register(import(…))`
// and most Fastify plugins offer). In CJS both become properties of `exports`
// (`require('@capi-kit/fastify').capiPlugin` or `.default`); `exports: 'named'` states that choice,
// which rolldown already made, and so drops its MIXED_EXPORTS warning.
export default packageBuild({ outputOptions: { exports: 'named' } });
