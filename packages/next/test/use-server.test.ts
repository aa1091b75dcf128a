import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

// Next 15's compiler treats every function written at the top level of a `'use server'` file, also
// one passed as an argument (`withConversion`'s `map`), as a Server Action, and `next build` fails
// with "Server Actions must be async functions" when one is not async. Next 16 accepts them, so the
// example's Next 16 build cannot catch it; this check holds our documented code to Next 15's rule.
// (Checked by hand: the example builds and passes its contract and browser tests on Next 15.5.29
// with middleware.ts instead of proxy.ts, and fails to build with a plain-arrow `map`.)

const root = fileURLToPath(new URL('../../..', import.meta.url));
const SOURCES = ['packages/next/test/readme', 'examples/next/src'];

const filesUnder = (dir: string): string[] =>
  readdirSync(join(root, dir), { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && /\.tsx?$/.test(entry.name))
    .map((entry) => join(entry.parentPath, entry.name));

const isUseServer = (file: ts.SourceFile): boolean => {
  const first = file.statements[0];
  return (
    first !== undefined &&
    ts.isExpressionStatement(first) &&
    ts.isStringLiteral(first.expression) &&
    first.expression.text === 'use server'
  );
};

/** Functions written outside any function body that are not `async`, as `line:column`. */
const syncTopLevelFunctions = (file: ts.SourceFile): string[] => {
  const found: string[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isFunctionLike(node) && !ts.isTypeNode(node) && 'body' in node && node.body) {
      const isAsync = ts.getCombinedModifierFlags(node as ts.Declaration) & ts.ModifierFlags.Async;
      if (!isAsync) {
        const { line, character } = file.getLineAndCharacterOfPosition(node.getStart(file));
        found.push(`${line + 1}:${character + 1}`);
      }
      return; // functions nested in a function body are not Server Actions
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  return found;
};

const parse = (path: string, text: string) =>
  ts.createSourceFile(path, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TSX);

describe("'use server' files follow Next 15's rule: every top-level function is async", () => {
  const files = SOURCES.flatMap(filesUnder)
    .map((path) => parse(path, readFileSync(path, 'utf8')))
    .filter(isUseServer);

  it('finds the README and example Server Action files', () => {
    expect(files.map((file) => file.fileName.slice(root.length)).sort()).toEqual([
      'examples/next/src/app/actions.ts',
      'packages/next/test/readme/app/actions.ts',
    ]);
  });

  it.each(files.map((file) => [file.fileName.slice(root.length), file] as const))(
    '%s',
    (_name, file) => {
      expect(syncTopLevelFunctions(file)).toEqual([]);
    },
  );

  it('catches a plain-arrow map, and leaves functions nested in an action alone', () => {
    const source = parse(
      'actions.ts',
      `'use server';
export const signup = withConversion('Lead', async (form) => {
  const clean = (v) => String(v).trim(); // nested: fine
  return { ok: clean(form.get('email')) !== '' };
}, (result, form) => ({ user_data: { em: String(form.get('email')) } }));
export async function lead() {}
export function sync() {}`,
    );
    expect(isUseServer(source)).toBe(true);
    expect(syncTopLevelFunctions(source)).toEqual(['5:4', '7:1']);
  });
});
