import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// README snippets are copies of test/readme/, which `tsc` checks: code in the README compiles.
const root = fileURLToPath(new URL('..', import.meta.url));
const readme = readFileSync(join(root, 'README.md'), 'utf8');
const snippetDir = join(root, 'test/readme');
const snippets = readdirSync(snippetDir, { recursive: true, withFileTypes: true })
  .filter((entry) => entry.isFile())
  .map((entry) => join(entry.parentPath, entry.name));
const blocks = [...readme.matchAll(/```tsx?\n([\s\S]*?)```/g)].map((match) => match[1]);

describe('README', () => {
  it.each(snippets.map((file) => [file.slice(snippetDir.length + 1), file]))(
    'shows test/readme/%s verbatim',
    (_name, file) => {
      expect(blocks).toContain(readFileSync(file, 'utf8'));
    },
  );

  it('has no TypeScript block that is not type-checked', () => {
    const checked = new Set(snippets.map((file) => readFileSync(file, 'utf8')));
    expect(blocks.filter((block) => !checked.has(block ?? ''))).toEqual([]);
  });

  it("the root README's Next.js section shows the same type-checked snippets", () => {
    const rootReadme = readFileSync(join(root, '../../README.md'), 'utf8');
    const section = rootReadme.slice(rootReadme.indexOf('## Next.js'));
    const rootBlocks = [
      ...section.slice(0, section.indexOf('\n## ', 1)).matchAll(/```tsx?\n([\s\S]*?)```/g),
    ];
    const checked = new Set(snippets.map((file) => readFileSync(file, 'utf8')));
    expect(rootBlocks.length).toBe(3);
    for (const [, block] of rootBlocks) expect(checked.has(block ?? '')).toBe(true);
  });

  it('keeps the Next.js quick start (action, form with <MetaPixel/>, proxy) under 30 lines', () => {
    // Non-blank lines, without each snippet's first line (the comment naming its file).
    const quickStart = ['app/actions.ts', 'app/signup-form.tsx', 'proxy.ts'].flatMap((name) =>
      readFileSync(join(snippetDir, name), 'utf8')
        .split('\n')
        .slice(1)
        .filter((line) => line.trim() !== ''),
    );
    expect(quickStart.length).toBeLessThan(30);
  });
});
