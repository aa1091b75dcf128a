#!/usr/bin/env node
// Before/after of the middleware cost in one run: the same hello-world server (middleware-server.mjs)
// from another checkout ("before", its packages built) and from this one ("after"), plus the plain
// server, alternating within every round so that machine drift hits all three alike. Reports the
// server's CPU µs per request (its own CPU time over the requests it answered), median over the
// rounds, and the paired plain ÷ contender ratio.
//   node bench/ab.mjs --before=/path/to/other/checkout [--rounds=5] [--request=subrequest]
//     <express|fastify> <capi|capi-pii|mounted>
// The load sends a page navigation (BROWSER_HEADERS) or, with --request=subrequest, the same
// visitor's fetch() from that page (SUBREQUEST_HEADERS). `mounted` tracks nothing.
// Make the other checkout with `git worktree add /tmp/before <commit>`, give it node_modules
// (`cp -al node_modules /tmp/before/`: the workspace links are relative) and build its core and
// adapters (`npx tsdown` in packages/core, packages/express, packages/fastify).
import { existsSync } from 'node:fs';
import autocannon from 'autocannon';
import {
  fmt,
  fmtRange,
  median,
  printTable,
  startMockProcess,
  startServerProcess,
  summarize,
} from './lib.mjs';
import { BROWSER_HEADERS, cpuSeconds, SUBREQUEST_HEADERS, serverStats } from './middleware.mjs';

const flags = Object.fromEntries(
  process.argv
    .slice(2)
    .filter((arg) => arg.startsWith('--'))
    .map((arg) => arg.slice(2).split('=')),
);
const [framework, variant] = process.argv.slice(2).filter((arg) => !arg.startsWith('--'));
const rounds = Number(flags.rounds ?? 5);
const headers = flags.request === 'subrequest' ? SUBREQUEST_HEADERS : BROWSER_HEADERS;
const beforeServer = `${flags.before}/bench/middleware-server.mjs`;
if (!flags.before || !existsSync(beforeServer) || !['express', 'fastify'].includes(framework)) {
  console.error(
    'usage: node bench/ab.mjs --before=<checkout> [--rounds=5] [--request=subrequest] <express|fastify> <capi|capi-pii|mounted>',
  );
  process.exit(2);
}
const afterServer = new URL('./middleware-server.mjs', import.meta.url).pathname;
const contenders = {
  plain: [afterServer, 'plain'],
  before: [beforeServer, variant],
  after: [afterServer, variant],
};
const names = Object.keys(contenders);
const cpu = Object.fromEntries(names.map((name) => [name, []]));
const rps = Object.fromEntries(names.map((name) => [name, []]));

const mock = await startMockProcess();
try {
  for (let round = 0; round < rounds; round++) {
    const order = names.slice(round % names.length).concat(names.slice(0, round % names.length));
    for (const name of order) {
      const [script, serverVariant] = contenders[name];
      const server = await startServerProcess(script, [framework, serverVariant, mock.url]);
      const load = { url: `${server.url}/`, connections: 100, headers };
      await autocannon({ ...load, duration: 2 }); // warm-up: JIT and connections
      const s0 = await serverStats(server.url);
      const result = await autocannon({ ...load, duration: 6 });
      const s1 = await serverStats(server.url);
      cpu[name].push(((cpuSeconds(s1) - cpuSeconds(s0)) * 1e6) / result.requests.total);
      rps[name].push(result.requests.total / 6);
      await server.stop();
      await mock.reset();
    }
  }
} finally {
  await mock.stop();
}

const paired = (name) => median(cpu[name].map((value, i) => cpu.plain[i] / value));
printTable(
  `Before/after: ${framework} ${variant} (${flags.request ?? 'navigation'}), ${rounds} alternating rounds × 6 s (autocannon, 100 connections); Node ${process.version}`,
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
