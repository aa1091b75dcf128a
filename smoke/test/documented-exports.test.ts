/**
 * Every public export of every package carries TSDoc in the types users get (STYLE.md: "every
 * public export documented in one line of TSDoc"). Read from the built declaration files each
 * `exports` entry names, through TypeScript's own checker, so re-exports and shared chunks count
 * as users' editors see them: a comment that drifted away from its declaration in the source (as
 * `createNextCapi`'s did, above two helper constants) is not in the `.d.mts`, and fails here.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const packagesDir = new URL('../../packages/', import.meta.url);

interface Conditions {
  types?: string;
}
type ExportEntry = string | { import?: Conditions; require?: Conditions };

/** `[package name, entry point, declaration file]` for every `types` condition of every package. */
const entries = readdirSync(packagesDir).flatMap((dir) => {
  const root = new URL(`${dir}/`, packagesDir);
  const manifest = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as {
    name: string;
    private?: boolean;
    exports?: Record<string, ExportEntry>;
  };
  if (manifest.private === true || manifest.exports === undefined) return [];
  return Object.entries(manifest.exports).flatMap(([entry, target]) => {
    if (typeof target === 'string') return [];
    return [target.import?.types, target.require?.types]
      .filter((types): types is string => types !== undefined)
      .map((types) => [manifest.name, entry, fileURLToPath(new URL(types, root))] as const);
  });
});

/** One program for every declaration file (one per file took ten times as long). */
let program: ts.Program | undefined;

/** The exports of `file` (a declaration file) that have no documentation comment. */
function undocumentedExports(file: string): string[] {
  program ??= ts.createProgram(
    entries.map(([, , types]) => types),
    {
      noEmit: true,
      skipLibCheck: true,
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
    },
  );
  const checker = program.getTypeChecker();
  const source = program.getSourceFile(file);
  const moduleSymbol = source === undefined ? undefined : checker.getSymbolAtLocation(source);
  if (moduleSymbol === undefined) throw new Error(`${file}: not a module`);
  const missing: string[] = [];
  for (const exported of checker.getExportsOfModule(moduleSymbol)) {
    const symbol =
      exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
    // An overloaded function or a merged declaration needs one comment, on any of its parts.
    const documented =
      symbol.getDocumentationComment(checker).length > 0 ||
      (symbol.declarations ?? []).some((declaration) => ts.getJSDocTags(declaration).length > 0);
    if (!documented) missing.push(exported.name);
  }
  return missing;
}

describe('every public export is documented in the published types', () => {
  it('finds the packages’ declaration files', () => {
    expect(entries.length).toBeGreaterThan(10);
  });

  it.each(entries)('%s %s (%s)', (_name, _entry, file) => {
    expect(undocumentedExports(file)).toEqual([]);
  });
});
