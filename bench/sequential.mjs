#!/usr/bin/env node
// Server CPU per request under one connection, back to back: the next request leaves when the
// last answer arrives, so every server, fast or slow, wakes once per request and reads one
// request per wake. The fixed-rate phase of `npm run bench` (50 connections, a paced client
// whose timer ticks send one or two requests at a time) lets that pattern vary from round to
// round, and with it a server's kernel and event-loop cost per request. Here a middleware that does
// nothing read a median of -0.2 to +0.8 µs over plain in five runs of 6-10 rounds (2.1 in one run
// beside another job), where the fixed rate gave +3.8 and +5; single rounds still stray by up to
// 9 µs either way, so compare medians (docs/architecture.md, sixteenth session). Not part of
// `npm run bench`, and not the fixed-rate method: each server runs at its own pace.
//   node bench/sequential.mjs [--rounds=6] [--seconds=3] [--visitor=returning|first|fetch]
//     <express|fastify> [variants, default plain,naive,capi]
// Variants are middleware-server.mjs's (plain, naive, capi, sdk, mounted, noop); each one's CPU µs
// per request (user and system), and paired per round: what it adds to plain's, and capi ÷ naive.
import { fileURLToPath } from 'node:url';
import { cpuPlan } from './cpus.mjs';
import { fmtRange, printTable, startMockProcess, startServerProcess, summarize } from './lib.mjs';
import { cpuSeconds, serverStats, startLoad, VISITORS } from './middleware.mjs';

const flags = Object.fromEntries(
  process.argv
    .slice(2)
    .filter((arg) => arg.startsWith('--'))
    .map((arg) => arg.slice(2).split('=')),
);
const [framework = 'express', list = 'plain,naive,capi'] = process.argv
  .slice(2)
  .filter((arg) => !arg.startsWith('--'));
const variants = list.split(',');
if (!variants.includes('plain')) variants.unshift('plain');
const rounds = Number(flags.rounds ?? 6);
const seconds = Number(flags.seconds ?? 3);
const visitorName = flags.visitor ?? 'returning';
const { label, path, headers } = VISITORS[visitorName];
const job = { mode: 'saturate', connections: 1, seconds };

cpuPlan(); // the servers on the measured CPU, the load and the mock beside them (bench/cpus.mjs)
const mock = await startMockProcess();
const load = startLoad();
const servers = {};
try {
  for (const v of variants) {
    servers[v] = await startServerProcess(
      fileURLToPath(new URL('./middleware-server.mjs', import.meta.url)),
      [framework, v, mock.url],
      { cpu: 'measured' },
    );
  }
  const url = (v) => `${servers[v].url}${path}`;
  for (const v of variants) await load.run({ ...job, seconds: 1, url: url(v), headers }); // warm-up
  const total = Object.fromEntries(variants.map((v) => [v, []]));
  const system = Object.fromEntries(variants.map((v) => [v, []]));
  for (let round = 0; round < rounds; round++) {
    for (const v of variants.map((_, i) => variants[(i + round) % variants.length])) {
      const before = await serverStats(servers[v].url);
      const { requests } = await load.run({ ...job, url: url(v), headers });
      const after = await serverStats(servers[v].url, { drain: true });
      total[v].push(((cpuSeconds(after) - cpuSeconds(before)) * 1e6) / requests);
      system[v].push((after.cpu.system - before.cpu.system) / requests);
    }
    console.error(`  round ${round + 1}/${rounds}`);
  }
  const added = (v) => total[v].map((us, i) => us - total.plain[i]);
  const ratio =
    total.capi && total.naive
      ? total.capi.map((_, i) => added('capi')[i] / added('naive')[i])
      : undefined;
  printTable(
    `Server CPU per request, one connection back to back: ${framework}, ${label}, ${rounds} rounds × ${seconds} s, alternating`,
    ['server', 'CPU µs/request', 'of which system', 'added to plain (paired)'],
    variants.map((v) => [
      v,
      fmtRange(summarize(total[v])),
      fmtRange(summarize(system[v])),
      v === 'plain' ? '—' : fmtRange(summarize(added(v))),
    ]),
    ratio ? `capi ÷ naive, added µs (paired): ${fmtRange(summarize(ratio))}` : undefined,
  );
} finally {
  for (const server of Object.values(servers)) await server.stop();
  await mock.stop();
  load.stop();
}
