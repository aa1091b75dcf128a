#!/usr/bin/env node
// `npm test`: lint, then build + typecheck + package lint + every package's tests through turbo,
// then one closing line with the suite's totals (`N passed, N failed[, N skipped]`), which CI reads.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const workspaces = ['packages', 'examples']
  .flatMap((dir) =>
    existsSync(join(root, dir))
      ? readdirSync(join(root, dir)).map((name) => join(root, dir, name))
      : [],
  )
  .concat(join(root, 'smoke'))
  .filter((ws) => existsSync(join(ws, 'package.json')));
const reports = workspaces.map((ws) => join(ws, '.vitest', 'report.json'));
for (const report of reports) rmSync(report, { force: true });

const run = (cmd, args) => spawnSync(cmd, args, { cwd: root, stdio: 'inherit' }).status ?? 1;
const extra = process.argv.slice(2);
let status = run('npx', ['biome', 'ci', '.']);
if (status === 0) {
  status = run('npx', [
    'turbo',
    'run',
    'typecheck',
    'lint:package',
    'test',
    '--output-logs=new-only',
    '--concurrency=2',
    ...extra,
  ]);
}

let passed = 0;
let failed = 0;
let skipped = 0;
for (const report of reports) {
  if (!existsSync(report)) continue;
  const json = JSON.parse(readFileSync(report, 'utf8'));
  passed += json.numPassedTests;
  failed += json.numFailedTests;
  skipped += json.numPendingTests + json.numTodoTests;
}
// A failure outside the test files (lint, build, typecheck, an unhandled rejection) still fails.
if (status !== 0 && failed === 0) failed = 1;
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(status);
