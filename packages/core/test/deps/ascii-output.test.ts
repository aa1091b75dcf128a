import { execFileSync } from 'node:child_process';
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

  /** Builds `source` and imports both it and the build: their exports, and the built text. */
  const bothWays = async (source: string) => {
    const code = await built(source);
    const name = `module${n++}`;
    writeFileSync(join(dir, `${name}.original.mjs`), source);
    writeFileSync(join(dir, `${name}.built.mjs`), code);
    // Each imported by a fresh Node, as users load it (vite's import analysis cannot read every
    // identifier Node can), its exports back as JSON.
    const load = (file: string) =>
      JSON.parse(
        execFileSync(
          process.execPath,
          [
            '--input-type=module',
            '-e',
            `process.stdout.write(JSON.stringify({ ...(await import(${JSON.stringify(pathToFileURL(join(dir, file)).href)})) }))`,
          ],
          { encoding: 'utf8' },
        ),
      ) as Record<string, unknown>;
    return {
      code,
      original: load(`${name}.original.mjs`),
      escaped: load(`${name}.built.mjs`),
    };
  };

  it('escapes strings, templates, regular expressions and comments to the same program', async () => {
    const { code, original, escaped } = await bothWays(`// São Paulo → sãopaulo, 女性 😀
export const strings = ['Curaçao', 'женщина', '😀', \`\${'a'}…é\`];
export const matches = [/😀/u.test('x😀'), /^.$/u.test('😀'), /[é–]/.test('–'), /😀/.test('😀')];
export const lengths = strings.map((s) => s.length);
`);
    expect(nonAscii.test(code)).toBe(false);
    // Inside a pattern, an astral character is its surrogate pair (`/😀/` has no `u` flag).
    expect(code).toContain('/\\ud83d\\ude00/.test');
    expect(escaped.strings).toEqual(['Curaçao', 'женщина', '😀', 'a…é']);
    expect(escaped).toEqual(original);
    expect(escaped.matches).toEqual([true, true, true, true]);
  });

  it('writes an astral character in an identifier as one code point escape', async () => {
    const { code, original, escaped } = await bothWays(`export const 𝒜 = 41;
export function get𝒜() { return 𝒜; }
export const result = get𝒜() + 1;
`);
    expect(code).toContain('\\u{1d49c}');
    expect(escaped).toEqual(original);
    expect(escaped.result).toBe(42);
  });

  it('accepts a tagged template whose non-ASCII is only in a substitution', async () => {
    const { original, escaped } =
      await bothWays(`const tag = (s, ...v) => s.raw.join('|') + v.join(',');
export const result = tag\`name=\${'José'}\`;
`);
    expect(escaped).toEqual(original);
    expect(escaped.result).toBe('name=|José');
  });

  it('refuses a tagged template whose raw text holds one (String.raw would change)', async () => {
    await expect(built('export const raw = String.raw`→`;\n')).rejects.toThrow(
      /a tagged template holds a non-ASCII character/,
    );
  });

  it('refuses a hashbang line that holds one (the kernel reads it, not JavaScript)', async () => {
    await expect(
      built('#!/usr/bin/env -S node --title=café\nexport const a = 1;\n'),
    ).rejects.toThrow(/the hashbang line holds a non-ASCII character/);
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
