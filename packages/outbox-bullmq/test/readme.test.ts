import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { describeReadmeSnippets } from '../../../scripts/test-support/package-checks.ts';

// This README's code blocks are the files in test/readme-snippets, which `tsc -p tsconfig.json`
// checks: code shown there compiles.
describeReadmeSnippets(import.meta.url);

// test/root-readme/bullmq.ts is type-checked by `tsc -p tsconfig.json`; this test keeps the root
// README's BullMQ lines identical to it, so the code shown there compiles.
const snippet = readFileSync(new URL('./root-readme/bullmq.ts', import.meta.url), 'utf8');
const shown = snippet.slice(snippet.indexOf('// README below\n') + '// README below\n'.length);

describe('the root README', () => {
  it('shows the type-checked BullMQ outbox lines verbatim', () => {
    const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
    const section = readme.slice(readme.indexOf('## Never lose an event'));
    const block = /```ts\n([\s\S]*?)```/.exec(section)?.[1] ?? '';
    const bullmqLines = block
      .split('\n')
      .filter((line) => !line.includes('sqliteOutbox('))
      .join('\n');
    expect(bullmqLines).toBe(shown);
  });
});
