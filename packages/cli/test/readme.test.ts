import { describeReadmeSnippets } from '../../../scripts/test-support/package-checks.ts';

// README code blocks are the files in test/readme-snippets, which `tsc -p tsconfig.json` checks
// against src: code shown there compiles.
describeReadmeSnippets(import.meta.url);
