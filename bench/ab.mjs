#!/usr/bin/env node
// Before/after of the middleware cost in one run: this checkout's hello-world server
// (middleware-server.mjs) on another checkout's built @capi-kit packages ("before", loaded through
// resolve-from.mjs, so both sides serve the same code and track the same event) and on this one's
// ("after"), plus the plain server, alternating within every round so that machine drift hits all
// three alike. Reports the server's CPU µs per request (its own CPU time over the requests it
// answered), median over the rounds, and the paired plain ÷ contender ratio.
//   node bench/ab.mjs --before=/path/to/other/checkout [--rounds=5] [--rate=<req/s>]
//     [--request=first-visit|subrequest] <express|fastify> <capi|mounted|naive|sdk>
// The load sends a returning visitor's page navigation (VISITORS.returning), with
// --request=first-visit a first visit from an ad (`?fbclid=`, no cookie), or with
// --request=subrequest the returning visitor's fetch() from that page. `mounted` tracks nothing;
// `naive` and `sdk` use no capi-kit package (a control: before and after should agree).
// `--rate=N` measures at N req/s with the paced client (load.mjs) instead of at saturation: at
// saturation a faster server spends less CPU per request, so a fixed rate below both servers'
// ceilings compares like with like (as `npm run bench` does).
// Make the other checkout with `git worktree add /tmp/before <commit>`, give it node_modules
// (`cp -al node_modules /tmp/before/`: the workspace links are relative) and build its core and
// adapters (`npx tsdown` in packages/core, packages/express, packages/fastify).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { cpuPlan, pinHelper } from './cpus.mjs';
import {
  fmt,
  fmtRange,
  median,
  printTable,
  startMockProcess,
  startServerProcess,
  summarize,
} from './lib.mjs';
import { cpuSeconds, serverStats, startLoad, VISITORS } from './middleware.mjs';

const flags = Object.fromEntries(
  process.argv
    .slice(2)
    .filter((arg) => arg.startsWith('--'))
    .map((arg) => arg.slice(2).split('=')),
);
const [framework, variant] = process.argv.slice(2).filter((arg) => !arg.startsWith('--'));
const rounds = Number(flags.rounds ?? 5);
const rate = flags.rate === undefined ? undefined : Number(flags.rate);
const visitor = { 'first-visit': 'first', subrequest: 'fetch' }[flags.request] ?? 'returning';
const { path, headers } = VISITORS[visitor];
if (
  !flags.before ||
  !existsSync(`${flags.before}/packages/core/dist`) ||
  !['express', 'fastify'].includes(framework)
) {
  console.error(
    'usage: node bench/ab.mjs --before=<checkout> [--rounds=5] [--rate=<req/s>] [--request=first-visit|subrequest] <express|fastify> <capi|mounted|naive|sdk>',
  );
  process.exit(2);
}
// The servers under test on the measured CPU; this process, which runs autocannon, beside the mock.
cpuPlan();
pinHelper(process.pid);
const SERVER = fileURLToPath(new URL('./middleware-server.mjs', import.meta.url));
const BEFORE = ['--import', fileURLToPath(new URL('./resolve-from.mjs', import.meta.url))];
process.env.CAPI_KIT_PACKAGES_FROM = flags.before; // read by resolve-from.mjs only
const contenders = {
  plain: ['plain', []],
  before: [variant, BEFORE],
  after: [variant, []],
};
const names = Object.keys(contenders);
const cpu = Object.fromEntries(names.map((name) => [name, []]));
const rps = Object.fromEntries(names.map((name) => [name, []]));

const SECONDS = 6;
const mock = await startMockProcess();
const paced = rate === undefined ? undefined : startLoad();
try {
  for (let round = 0; round < rounds; round++) {
    const order = names.slice(round % names.length).concat(names.slice(0, round % names.length));
    for (const name of order) {
      const [serverVariant, nodeArgs] = contenders[name];
      const server = await startServerProcess(SERVER, [framework, serverVariant, mock.url], {
        nodeArgs,
        cpu: 'measured',
      });
      const load = { url: `${server.url}${path}`, connections: 100, headers };
      await autocannon({ ...load, duration: 2 }); // warm-up: JIT and connections
      const s0 = await serverStats(server.url);
      const requests = paced
        ? (await paced.run({ ...load, mode: 'paced', rate, seconds: SECONDS })).requests
        : (await autocannon({ ...load, duration: SECONDS })).requests.total;
      const s1 = await serverStats(server.url);
      cpu[name].push(((cpuSeconds(s1) - cpuSeconds(s0)) * 1e6) / requests);
      rps[name].push(requests / SECONDS);
      await server.stop();
      await mock.reset();
    }
  }
} finally {
  paced?.stop();
  await mock.stop();
}

const paired = (name) => median(cpu[name].map((value, i) => cpu.plain[i] / value));
printTable(
  `Before/after: ${framework} ${variant} (${VISITORS[visitor].label}), ${rounds} alternating rounds × ${SECONDS} s (${rate === undefined ? 'autocannon, 100 connections' : `paced at ${fmt(rate, 0)} req/s`}); Node ${process.version}`,
  [
    'server',
    'server CPU µs/req, median (min–max)',
    'added µs/req',
    'req/s median',
    'plain ÷ this (paired)',
  ],
  names.map((name) => [
    name,
    fmtRange(summarize(cpu[name]), (n) => fmt(n, 1)),
    name === 'plain' ? '' : fmt(median(cpu[name]) - median(cpu.plain), 1),
    fmt(median(rps[name]), 0),
    name === 'plain' ? '1' : fmt(paired(name), 3),
  ]),
);
