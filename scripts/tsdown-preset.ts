import { defineConfig, type Rolldown, type UserConfig } from 'tsdown';

/**
 * Build warnings every package turns off, and why. `pluginTimings`: rolldown reports when plugins
 * (here tsdown's dependency check and declaration emit) take a large share of a build; on two
 * shared cores that is every build, it says nothing about the output, and it buried real warnings.
 */
export const buildChecks = { pluginTimings: false } as const;

/** The escape of UTF-16 code unit `unit`: `\u` and four hex digits. */
const unitEscape = (unit: number): string => `\\u${unit.toString(16).padStart(4, '0')}`;

/**
 * Writes every non-ASCII character of the built JavaScript as a `\uXXXX` escape (astral ones as a
 * surrogate pair, which means the same code point in strings, templates and both kinds of regular
 * expression). One character above U+00FF anywhere in a file, comments included, makes Node hand
 * V8 the whole source as a two-byte string: twice the memory to read, scan and keep, which on these
 * machines (a page fault costs about 11 µs) made importing core about 3 ms slower
 * (docs/architecture.md, fourteenth session). Refuses the two places where an escape would change
 * the program: a tagged template's raw text and a character already escaped by a backslash.
 */
export const asciiOutput: Rolldown.Plugin = {
  name: 'capi-kit:ascii-output',
  // `generateBundle`, not `renderChunk`: rolldown prints the code once more after the chunk hooks
  // (dead-code elimination), and that writes string literals back as the characters they hold.
  generateBundle(_options, bundle) {
    for (const file of Object.values(bundle)) {
      if (file.type !== 'chunk' || /\.d\.[cm]?ts$/.test(file.fileName)) continue;
      if (/\P{ASCII}/u.test(file.code)) file.code = asciiEscaped(file.code, file.fileName, this);
    }
  },
};

/** `code` with each non-ASCII character escaped, or a build error where that would change it. */
function asciiEscaped(code: string, fileName: string, context: Rolldown.PluginContext): string {
  const refuse = (what: string) => {
    throw new Error(`${fileName}: ${what} holds a non-ASCII character; write it as an escape`);
  };
  const visit = (node: unknown): void => {
    if (node === null || typeof node !== 'object') return;
    if (Array.isArray(node)) {
      for (const child of node) visit(child);
      return;
    }
    const record = node as { type?: string; quasi?: { start: number; end: number } };
    if (record.type === 'TaggedTemplateExpression' && record.quasi !== undefined) {
      if (/\P{ASCII}/u.test(code.slice(record.quasi.start, record.quasi.end))) {
        refuse('a tagged template');
      }
    }
    for (const value of Object.values(record)) visit(value);
  };
  visit(context.parse(code));
  if (/(?<!\\)(?:\\\\)*\\\P{ASCII}/u.test(code)) refuse('a backslash escape');
  return code.replace(/\P{ASCII}/gu, (character) => {
    if (character.length === 1) return unitEscape(character.charCodeAt(0));
    return unitEscape(character.charCodeAt(0)) + unitEscape(character.charCodeAt(1));
  });
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
