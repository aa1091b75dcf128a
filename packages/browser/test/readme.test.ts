import { describeReadmeSnippets } from '../../../scripts/test-support/package-checks.ts';

// README code blocks are the files in test/readme-snippets, which `tsc -p tsconfig.json` checks
// against src (the relay set-up against the adapters' and the core's src): code shown there compiles.
describeReadmeSnippets(import.meta.url);
