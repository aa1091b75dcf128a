#!/usr/bin/env node
// `npm test`: lint, then build + typecheck + package lint + the tests of every package, example
// and smoke/ through turbo, on the Node that runs it. `CAPI_KIT_TEST_NODES` (Node installation
// directories, each with bin/node, separated by `:`; .ci/run sets it) adds a run of the packages'
// own tests on each of those Nodes, against the same build. Then one line per reason a test was
// skipped, one line per failed test (`failed: <run>: <file>: <test>`) and, last and alone, the
// totals of every run (`N passed, N failed[, N skipped]`), which CI reads. A file that fails
// outside its tests (import, hook, unhandled rejection) counts as one failure.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { delimiter, join, relative } from 'node:path';
import { restoreAddons, withAddonsFor } from './native-addons.mjs';

const root = new URL('..', import.meta.url).pathname;
const inDir = (dir) =>
  existsSync(join(root, dir))
    ? readdirSync(join(root, dir))
        .map((name) => join(root, dir, name))
        .filter((ws) => existsSync(join(ws, 'package.json')))
    : [];
const packages = inDir('packages');
// smoke/: the packed tarballs installed into apps outside the workspace (once, on the main Node).
const workspaces = [...packages, ...inDir('examples'), join(root, 'smoke')].filter((ws) =>
  existsSync(join(ws, 'package.json')),
);
const reportOf = (ws) => join(ws, '.vitest', 'report.json');
const extraNodes = (process.env.CAPI_KIT_TEST_NODES ?? '').split(delimiter).filter(Boolean);

const run = (cmd, args, env = process.env) =>
  spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env }).status ?? 1;

/** Totals of every run, and the tests each skip reason covers. */
const totals = { passed: 0, failed: 0, skipped: 0 };
const skips = new Map();
/** One line per failed test (or failed file without a failed test), printed above the totals. */
const failures = [];

/** Whether the workspace has tests of its own (a `test` script), so a run must leave its report. */
const hasTests = (ws) =>
  typeof JSON.parse(readFileSync(join(ws, 'package.json'), 'utf8')).scripts?.test === 'string';

/**
 * Adds one run's reports to the totals; a failure outside the test files counts as one failure.
 * With `expectReports`, a workspace with tests that left no report counts as one failure too: turbo
 * stopped by a signal exits 0 with tasks never run ("Shutting down Turborepo tasks"), and such a
 * run printed "0 failed" over a fraction of the tests.
 */
function collect(label, runWorkspaces, status, expectReports) {
  const counts = { passed: 0, failed: 0, skipped: 0 };
  for (const ws of runWorkspaces) {
    if (!existsSync(reportOf(ws))) {
      if (expectReports && hasTests(ws)) {
        counts.failed += 1;
        failures.push(
          `${label}: ${relative(root, ws)}: its tests left no report (they did not run to the end)`,
        );
      }
      continue;
    }
    const json = JSON.parse(readFileSync(reportOf(ws), 'utf8'));
    counts.passed += json.numPassedTests;
    counts.failed += json.numFailedTests;
    counts.skipped += json.numPendingTests + json.numTodoTests;
    for (const file of json.testResults) {
      const where = relative(root, file.name);
      // One line per failure whatever a test's name holds: the totals line stays last and alone.
      const oneLine = (text) => String(text).replace(/\s*\n\s*/g, ' ');
      let failedHere = 0;
      for (const test of file.assertionResults) {
        if (test.status === 'failed') {
          failedHere += 1;
          failures.push(`${label}: ${where}: ${oneLine(test.fullName)}`);
        }
        if (test.status === 'passed' || test.status === 'failed') continue;
        const reason =
          test.meta?.skipReason ??
          (test.status === 'todo' ? 'marked todo' : `no reason given (${where}: ${test.fullName})`);
        const entry = skips.get(reason) ?? { count: 0, where: new Set(), on: new Set() };
        entry.count += 1;
        entry.where.add(relative(root, ws));
        entry.on.add(label);
        skips.set(reason, entry);
      }
      // A file can fail with no failed test: an error at import, a hook, an unhandled rejection.
      if (file.status === 'failed' && failedHere === 0) {
        const firstLine = String(file.message ?? '').split('\n', 1)[0];
        failures.push(`${label}: ${where}: ${firstLine || 'failed outside its tests'}`);
        counts.failed += 1;
      }
    }
  }
  // Lint, build, typecheck or an unhandled rejection can fail a run with every test passing.
  if (status !== 0 && counts.failed === 0) {
    counts.failed = 1;
    failures.push(
      `${label}: a step outside the tests failed (lint, build, typecheck, a test file's own error); see the log above`,
    );
  }
  for (const key of Object.keys(totals)) totals[key] += counts[key];
  console.log(
    `${label}: ${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped`,
  );
}

const plural = (n, word) => `${n} ${word}${n === 1 ? '' : 's'}`;

restoreAddons(root);
for (const ws of workspaces) rmSync(reportOf(ws), { force: true });

const turbo = ['turbo', 'run', '--output-logs=new-only', '--concurrency=2'];
const lintStatus = run('npx', ['biome', 'ci', '.']);
let status = lintStatus;
if (lintStatus === 0) {
  status = run('npx', [
    ...turbo,
    'typecheck',
    'lint:package',
    'test',
    '--continue=dependencies-successful',
    ...process.argv.slice(2),
  ]);
}
// Arguments (`npm test -- --filter=…`) may leave workspaces out on purpose, and a lint failure
// runs none (it is the failure then): in either case no report is expected.
collect(
  `Node ${process.version}, all tests`,
  workspaces,
  status,
  lintStatus === 0 && process.argv.length <= 2,
);

// The other Nodes run the packages' tests against the build just made (`--only`: no build, no
// typecheck), always executed (`--cache=local:`: turbo's cache key does not include the Node
// version, so a result cached on one Node must not stand in for another). Skipped when lint
// failed, since then nothing was built.
for (const nodeDir of lintStatus === 0 ? extraNodes : []) {
  const node = join(nodeDir, 'bin', 'node');
  const version = spawnSync(node, ['--version'], { encoding: 'utf8' }).stdout?.trim();
  const label = `Node ${version ?? '?'}, packages' tests`;
  for (const ws of packages) rmSync(reportOf(ws), { force: true });
  console.log(`\n${label} (${nodeDir})`);
  const env = { ...process.env, PATH: `${join(nodeDir, 'bin')}${delimiter}${process.env.PATH}` };
  let runStatus = 1;
  try {
    if (!version) throw new Error(`CAPI_KIT_TEST_NODES: no Node at ${node}`);
    runStatus = withAddonsFor(root, nodeDir, () =>
      run(
        'npx',
        [...turbo, 'test', '--filter=./packages/*', '--only', '--cache=local:', '--continue'],
        env,
      ),
    );
  } catch (error) {
    console.error(error instanceof Error ? error.message : error);
  }
  collect(label, packages, runStatus, true);
  if (runStatus !== 0) status = runStatus;
}

for (const [reason, { count, where, on }] of skips) {
  console.log(
    `skipped: ${reason} (${plural(count, 'test')} in ${[...where].join(', ')}; ${[...on].join('; ')})`,
  );
}
// The failures last, next to the totals: a log cut to its tail still names them.
for (const line of failures) console.log(`failed: ${line}`);
console.log(
  `${totals.passed} passed, ${totals.failed} failed${totals.skipped ? `, ${totals.skipped} skipped` : ''}`,
);
process.exit(status);
