#!/usr/bin/env node
// Event build throughput on one core: a fully populated Purchase (em, ph, fn, ln, ct, st, zp,
// country, external_id, IP, UA, fbp, fbc, custom_data with contents) validated, normalized, hashed
// and serialized. capi-kit (`buildEvent` + `JSON.stringify`) vs Meta's facebook-nodejs-business-sdk
// (ServerEvent + UserData + CustomData + Content, `.normalize()`) vs the raw limit (`crypto.hash`
// of the values Meta wants hashed + `JSON.stringify` of the same shape). Each run is a fresh
// process (build-worker.mjs); contenders alternate, several rounds. The figure is events per CPU
// second of that process, which does not depend on what else the machine is running; events per
// wall second are shown next to it.
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { benchArgs, fmt, fmtRange, isMain, printTable, recordTarget, summarize } from './lib.mjs';

const WORKER = fileURLToPath(new URL('./build-worker.mjs', import.meta.url));
const CONTENDERS = ['capi', 'sdk', 'raw'];

const sdkVersion = () =>
  createRequire(import.meta.url)('facebook-nodejs-business-sdk/package.json').version;

export const benchBuild = async ({ quick = false } = {}) => {
  const rounds = quick ? 3 : 7;
  const [warmupMs, measureMs] = quick ? [300, 700] : [700, 2000];
  const runs = Object.fromEntries(CONTENDERS.map((c) => [c, []]));
  for (let round = 0; round < rounds; round++) {
    for (let i = 0; i < CONTENDERS.length; i++) {
      const contender = CONTENDERS[(i + round) % CONTENDERS.length];
      const out = execFileSync(process.execPath, [
        WORKER,
        contender,
        String(warmupMs),
        String(measureMs),
      ]);
      runs[contender].push(JSON.parse(out.toString()));
    }
  }
  const label = {
    capi: 'capi-kit buildEvent + JSON.stringify',
    sdk: `facebook-nodejs-business-sdk ${sdkVersion()} normalize + JSON.stringify`,
    raw: 'raw limit: crypto.hash × 9 + JSON.stringify',
  };
  const cpu = Object.fromEntries(
    CONTENDERS.map((c) => [c, summarize(runs[c].map((r) => r.perCpuSecond))]),
  );
  // Ratios pair the runs of the same round.
  const ratio = (a, b) =>
    summarize(runs[a].map((r, i) => r.perCpuSecond / runs[b][i].perCpuSecond));
  const rows = CONTENDERS.map((c) => {
    const r = runs[c];
    return [
      label[c],
      fmtRange(cpu[c], (n) => fmt(n, 0)),
      `${(cpu[c].spread * 100).toFixed(1)} %`,
      fmt(1e6 / cpu[c].median),
      fmt(summarize(r.map((x) => x.perWallSecond)).median, 0),
      summarize(r.map((x) => x.cores)).median.toFixed(2),
      r[0].hashes,
      r[0].bytes,
      c === 'capi' ? '1' : fmtRange(ratio('capi', c), (n) => n.toFixed(2)),
    ];
  });
  printTable(
    `Event build throughput (fully populated Purchase, one process, ${rounds} rounds × ${measureMs} ms per contender after ${warmupMs} ms warm-up, alternating; Node ${process.version})`,
    [
      'builder',
      'events per CPU-second, median (min–max)',
      'spread',
      'µs/event',
      'events per wall-second',
      'cores used',
      'hashed values',
      'JSON bytes',
      'capi-kit ÷ this (paired)',
    ],
    rows,
    'Per CPU-second: events divided by the process’s own CPU time (user + system, GC threads included), so another job on the machine does not change it; per wall-second is the same run’s events over elapsed time. The SDK (npm latest, 24.0.1) sends `external_id` unhashed, hence 8 hashes (js-sha256, pure JS); capi-kit hashes 9 with `node:crypto`.',
  );
  const vsSdk = ratio('capi', 'sdk');
  const vsRaw = ratio('capi', 'raw');
  const rawVsSdk = ratio('raw', 'sdk');
  recordTarget({
    figure: 'Event build: capi-kit ÷ Meta SDK (events per CPU-second)',
    value: `${fmtRange(vsSdk, (n) => n.toFixed(2))}×`,
    target: '≥ 5×',
    pass: vsSdk.median >= 5,
    note:
      vsSdk.median < 5 && rawVsSdk.median < 5
        ? `unreachable here: the raw limit itself is only ${rawVsSdk.median.toFixed(2)}× the SDK`
        : undefined,
  });
  recordTarget({
    figure: 'Event build: capi-kit ÷ raw limit (events per CPU-second)',
    value: `${fmtRange(vsRaw, (n) => `${(n * 100).toFixed(0)} %`)}`,
    // Issue 20: keep or raise the 56 % measured on Node 20 (November 2026).
    target: '≥ 56 %',
    pass: vsRaw.median >= 0.56,
  });
  return runs;
};

if (isMain(import.meta.url)) await benchBuild(benchArgs());
