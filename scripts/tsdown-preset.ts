import { defineConfig, type Rolldown, type UserConfig } from 'tsdown';

/**
 * Build warnings every package turns off, and why. `pluginTimings`: rolldown reports when plugins
 * (here tsdown's dependency check and declaration emit) take a large share of a build; on two
 * shared cores that is every build, it says nothing about the output, and it buried real warnings.
 */
export const buildChecks = { pluginTimings: false } as const;

/** `\u` and four hex digits: one UTF-16 code unit. */
const unitEscape = (unit: number): string => `\\u${unit.toString(16).padStart(4, '0')}`;

/**
 * Writes every non-ASCII character of the built JavaScript as an escape that means the same: `\uXXXX`,
 * and for a character beyond U+FFFF `\u{XXXXX}` (the only form an identifier accepts) or, inside a
 * regular expression literal, its surrogate pair (a pattern without the `u` flag has no `\u{}`).
 * One character above U+00FF anywhere in a file, comments included, makes Node hand V8 the whole
 * source as a two-byte string: twice the memory to read, scan and keep, which on these machines (a
 * page fault costs about 11 µs) made importing core about 3 ms slower (docs/architecture.md,
 * fourteenth session). The program is the same; its text is not where code reads it back
 * (`regex.source`, `Function.prototype.toString` show the escapes). Refuses, as a build error, what
 * an escape would change: a tagged template's text (its raw strings), a character escaped by a
 * backslash, a hashbang line, a source map (its columns would move); and checks the result parses.
 */
export const asciiOutput: Rolldown.Plugin = {
  name: 'capi-kit:ascii-output',
  // `generateBundle`, not `renderChunk`: rolldown prints the code once more after the chunk hooks
  // (dead-code elimination), and that writes string literals back as the characters they hold.
  generateBundle(_options, bundle) {
    for (const file of Object.values(bundle)) {
      if (file.type !== 'chunk' || /\.d\.[cm]?ts$/.test(file.fileName)) continue;
      if (!/\P{ASCII}/u.test(file.code)) continue;
      if (file.map) {
        throw new Error(`${file.fileName}: asciiOutput cannot move a source map's columns`);
      }
      file.code = asciiEscaped(file.code, file.fileName, this);
    }
  },
};

/** `code` with each non-ASCII character escaped, or a build error where that would change it. */
function asciiEscaped(code: string, fileName: string, context: Rolldown.PluginContext): string {
  const refuse = (what: string) => {
    throw new Error(`${fileName}: ${what} holds a non-ASCII character; write it as an escape`);
  };
  if (/^#!.*\P{ASCII}/u.test(code)) refuse('the hashbang line');
  // Regular expression literals (their spans), where an astral character becomes a surrogate pair.
  const patterns: [start: number, end: number][] = [];
  const visit = (node: unknown): void => {
    if (node === null || typeof node !== 'object') return;
    if (Array.isArray(node)) {
      for (const child of node) visit(child);
      return;
    }
    const record = node as {
      type?: string;
      start: number;
      end: number;
      regex?: unknown;
      quasi?: { quasis: { start: number; end: number }[] };
    };
    if (record.type === 'TaggedTemplateExpression' && record.quasi !== undefined) {
      for (const text of record.quasi.quasis) {
        if (/\P{ASCII}/u.test(code.slice(text.start, text.end))) refuse('a tagged template');
      }
    }
    if (record.type === 'Literal' && record.regex !== undefined) {
      patterns.push([record.start, record.end]);
    }
    for (const value of Object.values(record)) visit(value);
  };
  visit(context.parse(code));
  if (/(?<!\\)(?:\\\\)*\\\P{ASCII}/u.test(code)) refuse('a backslash escape');
  const inPattern = (offset: number) =>
    patterns.some(([start, end]) => offset > start && offset < end);
  const escaped = code.replace(/\P{ASCII}/gu, (character, offset: number) => {
    if (character.length === 1) return unitEscape(character.charCodeAt(0));
    if (inPattern(offset)) {
      return unitEscape(character.charCodeAt(0)) + unitEscape(character.charCodeAt(1));
    }
    return `\\u{${(character.codePointAt(0) as number).toString(16)}}`;
  });
  context.parse(escaped);
  return escaped;
}

/** The build every publishable package shares: dual ESM + CJS with declarations, Node 22 target (the oldest supported major). */
export const packageBuild = (overrides: UserConfig = {}) =>
  defineConfig({
    entry: { index: 'src/index.ts' },
    format: ['esm', 'cjs'],
    dts: true,
    fixedExtension: true,
    platform: 'node',
    target: 'node22',
    clean: true,
    checks: buildChecks,
    plugins: [asciiOutput],
    ...overrides,
  });

/**
 * Build options for a package with an executable entry `name` (what package.json `bin` runs):
 * only `<name>.mjs` is kept. Its CommonJS copy and its declarations would ship as dead files, since
 * nothing imports an executable. Built with `index`, the code both use stays in one shared chunk.
 */
export const withExecutable = (name: string): UserConfig => {
  const deadFiles = new Set([`${name}.cjs`, `${name}.d.mts`, `${name}.d.cts`]);
  const plugin: Rolldown.Plugin = {
    name: 'capi-kit:executable-entry',
    generateBundle(_options, bundle) {
      for (const file of Object.keys(bundle)) if (deadFiles.has(file)) delete bundle[file];
    },
  };
  return {
    entry: { index: 'src/index.ts', [name]: `src/${name}.ts` },
    // `inputOptions`, not `plugins`: tsdown leaves user plugins out of the `.d.cts` pass.
    inputOptions: (options) => ({ ...options, plugins: [options.plugins, plugin] }),
  };
};
