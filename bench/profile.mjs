#!/usr/bin/env node
// Where a tracked request's server CPU goes: runs one middleware-bench server under V8's CPU
// profiler at a fixed rate (the paced client), then prints the server's busy time grouped by the
// core source module it was spent in (the innermost `@capi-kit/core` frame; dist keeps rolldown's
// `//#region src/…` markers), by framework/Node and GC otherwise. Not part of `npm run bench`.
//   node bench/profile.mjs [--rate=1500] [--seconds=10] [--visitor=returning|first|fetch]
//     <express|fastify> <plain|naive|capi|sdk|mounted>
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cpuPlan } from './cpus.mjs';
import { startMockProcess, startServerProcess } from './lib.mjs';
import { serverStats, startLoad, VISITORS } from './middleware.mjs';

const flags = Object.fromEntries(
  process.argv
    .slice(2)
    .filter((arg) => arg.startsWith('--'))
    .map((arg) => arg.slice(2).split('=')),
);
const [framework = 'express', variant = 'capi'] = process.argv
  .slice(2)
  .filter((arg) => !arg.startsWith('--'));
const rate = Number(flags.rate ?? 1500);
const seconds = Number(flags.seconds ?? 10);
const visitor = VISITORS[flags.visitor ?? (variant === 'mounted' ? 'fetch' : 'returning')];

cpuPlan(); // the server on the measured CPU, the mock and the load beside it (bench/cpus.mjs)
const dir = mkdtempSync(join(tmpdir(), 'capi-kit-profile-'));
const mock = await startMockProcess();
const server = await startServerProcess(
  fileURLToPath(new URL('./middleware-server.mjs', import.meta.url)),
  [framework, variant, mock.url],
  { nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${dir}`], cpu: 'measured' },
);
const load = startLoad();
const job = {
  mode: 'paced',
  url: `${server.url}${visitor.path}`,
  rate,
  connections: 50,
  headers: visitor.headers,
};
try {
  await load.run({ ...job, seconds: 3 }); // warm-up (in the profile too; dwarfed by the run)
  const before = await serverStats(server.url);
  const result = await load.run({ ...job, seconds });
  const after = await serverStats(server.url, { drain: true });
  const cpu = (s) => s.cpu.user + s.cpu.system;
  console.log(
    `${framework} ${variant}, ${flags.visitor ?? 'default'} visitor, ${rate} req/s: ${(
      (cpu(after) - cpu(before)) / result.requests
    ).toFixed(1)} µs server CPU per request`,
  );
} finally {
  load.stop();
  await server.stop();
  await mock.stop();
}

// Rolldown's region markers map each line of the core bundle to its source module.
const distFile = fileURLToPath(new URL('../packages/core/dist/index.mjs', import.meta.url));
const regionOfLine = [];
let region = '(core: outside a module)';
for (const line of readFileSync(distFile, 'utf8').split('\n')) {
  const start = /^\/\/#region (\S+)/.exec(line);
  if (start) region = start[1].replace(/^src\//, 'core/');
  regionOfLine.push(region);
  if (line.startsWith('//#endregion')) region = '(core: outside a module)';
}
const file = readdirSync(dir).find((name) => name.endsWith('.cpuprofile'));
const profile = JSON.parse(readFileSync(join(dir, file), 'utf8'));
rmSync(dir, { recursive: true, force: true });
const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
const parentOf = new Map();
for (const node of profile.nodes)
  for (const child of node.children ?? []) parentOf.set(child, node.id);
const groupOf = (id) => {
  const own = nodes.get(id).callFrame;
  for (let at = id; at !== undefined; at = parentOf.get(at)) {
    const frame = nodes.get(at).callFrame;
    if (frame.url.endsWith('/core/dist/index.mjs')) return regionOfLine[frame.lineNumber];
  }
  if (own.functionName === '(garbage collector)') return 'GC';
  if (own.functionName.startsWith('(')) return own.functionName;
  const match = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(own.url);
  if (match) return match[1];
  return own.url.startsWith('node:') || own.url === '' ? 'Node (http, streams, fetch, …)' : 'bench';
};
const busy = new Map();
let total = 0;
for (let i = 0; i < profile.samples.length; i++) {
  const group = groupOf(profile.samples[i]);
  if (group === '(idle)') continue;
  busy.set(group, (busy.get(group) ?? 0) + profile.timeDeltas[i]);
  total += profile.timeDeltas[i];
}
console.log('\n| where | share of busy time |\n| --- | --- |');
for (const [group, micros] of [...busy].sort((a, b) => b[1] - a[1]).slice(0, 25)) {
  console.log(`| ${group} | ${((100 * micros) / total).toFixed(1)} % |`);
}
