import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

// test/root-readme/*.ts are type-checked by `tsc -p tsconfig.json`; each holds, after its
// "// README below" line, a code block of the repository's root README, which must stay identical.
const dir = new URL('./root-readme/', import.meta.url);
const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
const rootBlocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]);
const MARK = '// README below\n';

describe('the root README', () => {
  it.each(readdirSync(dir).filter((f) => f.endsWith('.ts')))('shows %s verbatim', (file) => {
    const text = readFileSync(new URL(file, dir), 'utf8');
    expect(text).toContain(MARK);
    expect(rootBlocks).toContain(text.slice(text.indexOf(MARK) + MARK.length));
  });
});
