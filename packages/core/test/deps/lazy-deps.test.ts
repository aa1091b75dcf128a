import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import * as web from '../../src/deps/lazy.web.js';

// The built package (turbo builds it before the tests), in a fresh process per module system: on
// Node, `tldts` and `libphonenumber-js` load when first needed, never at import.
const dist = (file: string) => fileURLToPath(new URL(`../../dist/${file}`, import.meta.url));

const PROBE = `
const { createRequire } = require('node:module');
// The core's own files loaded, by path under dist/ (Node 22.15+ runs these hooks for both systems).
const coreFiles = [];
require('node:module').registerHooks({
  load(url, context, nextLoad) {
    if (url.includes('/packages/core/dist/')) coreFiles.push(url.slice(url.lastIndexOf('/dist/') + 6));
    return nextLoad(url, context);
  },
});
const heavy = () => Object.keys(require('node:module')._cache)
  .map((path) => /node_modules\\/(tldts|libphonenumber-js)\\//.exec(path)?.[1])
  .filter(Boolean).filter((name, i, all) => all.indexOf(name) === i).sort();
const steps = {};
const run = (core) => {
  steps.imported = heavy();
  steps.files = [...coreFiles].sort();
  // A fetch() from a page of a returning visitor: no cookie may change, no domain lookup.
  core.getRequestContext({ url: '/api', headers: { host: 'shop.example.co.uk', cookie: '_fbp=fb.2.1700000000000.42', 'sec-fetch-dest': 'empty' } });
  steps.subrequest = heavy();
  // A page view: the cookies are written on the registrable domain, from the Public Suffix List.
  const context = core.getRequestContext({ url: '/', headers: { host: 'shop.example.co.uk', 'sec-fetch-dest': 'document' } });
  steps.navigation = heavy();
  steps.domain = context.cookiesToSet[0].domain;
  // Common shapes take the fast path (generated numbering-plan tables): no library.
  steps.phones = [core.normalizePhone('020 7946 0958', 'GB'), core.normalizePhone('+1 (650) 555-1212')];
  steps.fastPath = heavy();
  // A shape only the real parser reads (a German national number, with an extension).
  steps.parsed = core.normalizePhone('030 901820 ext. 7', 'DE');
  steps.parser = heavy();
  process.stdout.write(JSON.stringify(steps));
};
`;

const probe = (code: string) =>
  JSON.parse(execFileSync(process.execPath, ['-e', code], { encoding: 'utf8' })) as Record<
    string,
    unknown
  >;

describe('heavy dependencies on Node', () => {
  it.each([
    ['ESM', `${PROBE} import(${JSON.stringify(dist('index.mjs'))}).then(run);`],
    ['CommonJS', `${PROBE} run(require(${JSON.stringify(dist('index.cjs'))}));`],
  ])('load on first use, not at import (%s)', (system, code) => {
    const ext = system === 'ESM' ? 'mjs' : 'cjs';
    expect(probe(code)).toEqual({
      imported: [],
      // Two files at import, the bundle and its `#platform` flavor: each more is ~50 page faults
      // (src/platform/node.ts).
      files: [`index.${ext}`, `platform/node.${ext}`],
      subrequest: [],
      navigation: ['tldts'],
      domain: 'example.co.uk',
      phones: ['442079460958', '16505551212'],
      fastPath: ['tldts'],
      parsed: '4930901820',
      parser: ['libphonenumber-js', 'tldts'],
    });
  });
});

// Node's own lazily loaded builtins: `node:crypto` (with the streams it pulls in) loads on the
// first digest, `perf_hooks` on the first read of the `performance` global. A script file, not
// `-e`: evaluating `-e` loads `node:crypto` itself.
const BUILTINS = `
const loaded = () => new Set(process.moduleLoadList);
const before = loaded();
const added = () => [...loaded()].filter((m) => !before.has(m) && /^NativeModule (crypto|perf_hooks|stream)$/.test(m)).sort();
const run = (core) => {
  const steps = { imported: added() };
  core.sha256Hex('a');
  steps.hashed = added();
  process.stdout.write(JSON.stringify(steps));
};
`;

describe("Node's builtins", () => {
  it.each([
    ['ESM', 'probe.mjs', `${BUILTINS} import(${JSON.stringify(dist('index.mjs'))}).then(run);`],
    ['CommonJS', 'probe.cjs', `${BUILTINS} run(require(${JSON.stringify(dist('index.cjs'))}));`],
  ])('node:crypto and perf_hooks are not loaded at import (%s)', (_system, file, code) => {
    const dir = mkdtempSync(join(tmpdir(), 'capi-kit-builtins-'));
    try {
      writeFileSync(join(dir, file), code);
      const steps = JSON.parse(
        execFileSync(process.execPath, [join(dir, file)], { encoding: 'utf8' }),
      ) as Record<string, unknown>;
      expect(steps).toEqual({
        imported: [],
        hashed: ['NativeModule crypto', 'NativeModule stream'],
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('heavy dependencies elsewhere (edge, workers, browsers)', () => {
  it('are the same libraries, imported statically', () => {
    expect(web.publicSuffixLibrary().getDomain('a.b.example.co.uk')).toBe('example.co.uk');
    expect(web.phoneLibrary().parsePhoneNumberFromString('+44 20 7946 0958')?.number).toBe(
      '+442079460958',
    );
  });
});

// What the parser pays at import. V8 checks a regular expression literal when it parses the file,
// even inside a function that never runs, and a Unicode property class (`\p{L}`) is expanded there
// through ICU: three such literals were about 7.6 million of the 56 million instructions importing
// the package took (docs/architecture.md, fourteenth session). Those patterns are built from strings
// on first use instead.
describe('regular expression literals in the built package', () => {
  it.each(['index.mjs', 'index.cjs'])('use no Unicode property escape (%s)', (file) => {
    const source = ts.createSourceFile(
      file,
      readFileSync(dist(file), 'utf8'),
      ts.ScriptTarget.Latest,
    );
    const literals: string[] = [];
    const visit = (node: ts.Node): void => {
      if (node.kind === ts.SyntaxKind.RegularExpressionLiteral) literals.push(node.getText(source));
      ts.forEachChild(node, visit);
    };
    visit(source);
    expect(literals.length).toBeGreaterThan(20);
    expect(literals.filter((literal) => /\\[pP]\{/.test(literal))).toEqual([]);
  });
});
