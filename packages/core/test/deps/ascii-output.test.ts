import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'tsdown';
import { afterAll, describe, expect, it } from 'vitest';
import { asciiOutput } from '../../../../scripts/tsdown-preset.ts';

// Every package is built with `asciiOutput` (scripts/tsdown-preset.ts): one character above U+00FF
// in a file makes Node hand V8 the whole source as a two-byte string, which cost importing core
// about 3 ms here (docs/architecture.md, fourteenth session).

const nonAscii = /\P{ASCII}/u;

describe('the built package', () => {
  it.each(
    readdirSync(new URL('../../dist/', import.meta.url), {
      recursive: true,
      encoding: 'utf8',
    }).filter((file) => /\.[cm]?js$/.test(file)),
  )('%s is ASCII', (file) => {
    const code = readFileSync(new URL(`../../dist/${file}`, import.meta.url), 'utf8');
    expect(code.split('\n').filter((line) => nonAscii.test(line))).toEqual([]);
  });
});

describe('asciiOutput', () => {
  const dir = mkdtempSync(join(tmpdir(), 'capi-kit-ascii-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  let n = 0;
  /** Builds `source` as one ESM entry with the plugin; the output file's text. */
  const built = async (source: string): Promise<string> => {
    const name = `entry${n++}`;
    writeFileSync(join(dir, `${name}.js`), source);
    await build({
      config: false,
      entry: { [name]: join(dir, `${name}.js`) },
      outDir: join(dir, 'dist'),
      format: ['esm'],
      dts: false,
      clean: false,
      fixedExtension: true,
      logLevel: 'silent',
      plugins: [asciiOutput],
    });
    return readFileSync(join(dir, 'dist', `${name}.mjs`), 'utf8');
  };

  it('escapes strings, templates, regular expressions and comments to the same program', async () => {
    const source = `// São Paulo → sãopaulo, 女性 😀
export const strings = ['Curaçao', 'женщина', '😀', \`\${'a'}…é\`];
export const matches = [/😀/u.test('x😀'), /^.$/u.test('😀'), /[é–]/.test('–'), /😀/.test('😀')];
export const lengths = strings.map((s) => s.length);
`;
    const code = await built(source);
    expect(nonAscii.test(code)).toBe(false);
    expect(code).toContain('\\ud83d\\ude00');
    const file = join(dir, 'check.mjs');
    writeFileSync(file, code);
    const escaped = await import(pathToFileURL(file).href);
    writeFileSync(join(dir, 'original.mjs'), source);
    const original = await import(pathToFileURL(join(dir, 'original.mjs')).href);
    expect(escaped.strings).toEqual(['Curaçao', 'женщина', '😀', 'a…é']);
    expect({ ...escaped }).toEqual({ ...original });
    expect(escaped.matches).toEqual([true, true, true, true]);
  });

  it('refuses a tagged template whose raw text holds one (String.raw would change)', async () => {
    await expect(built('export const raw = String.raw`→`;\n')).rejects.toThrow(
      /a tagged template holds a non-ASCII character/,
    );
  });

  // String literals are printed again by the bundler (an identity escape `'\é'` comes out `"é"`);
  // a regular expression literal keeps its text, so that is where a backslash can reach the plugin.
  it('refuses a character already escaped by a backslash', async () => {
    await expect(built('export const r = /\\é/;\n')).rejects.toThrow(
      /a backslash escape holds a non-ASCII character/,
    );
  });

  it('escapes the character after an even run of backslashes', async () => {
    const code = await built('export const r = /\\\\é/;\n');
    writeFileSync(join(dir, 'even.mjs'), code);
    const { r } = await import(pathToFileURL(join(dir, 'even.mjs')).href);
    expect([r.test('\\é'), r.test('é')]).toEqual([true, false]);
  });
});
