#!/usr/bin/env node
// Delivery memory during an outage: a client with default queue limits (10,000 events / 16 MiB per
// pixel) tracks fully populated events at 2,000/s; after a healthy baseline the mock Graph API goes
// down for 60 s (HTTP 503, or hanging every request until the client's timeout), then recovers for
// 60 s. RSS and heap are sampled throughout, the live heap (after a full GC) every 2 s. The two
// scenarios run side by side, each with its own client process and mock process.
// The healthy phase lasts 40 s because the client's bounded caches fill at this rate first (the
// diagnostics recorder keeps up to 50,000 event_ids: 25 s at 2,000/s); a baseline taken before
// that would count their growth as outage memory. `--quick`: 30 s baseline, 15 s outage, 15 s
// recovery.
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { unpin } from './cpus.mjs';
import {
  benchArgs,
  fmt,
  isMain,
  median,
  printTable,
  recordTarget,
  startMockProcess,
} from './lib.mjs';

const WORKER = fileURLToPath(new URL('./outage-worker.mjs', import.meta.url));
const MiB = 1024 * 1024;
const LIMIT_MIB = 16; // the default maxQueuedBytes per pixel
const ALLOWANCE_MIB = 25;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const mib = (bytes) => (bytes / MiB).toFixed(1);
const signed = (bytes) => `${bytes >= 0 ? '+' : ''}${mib(bytes)}`;

const control = (mock, method, path, body) =>
  fetch(`${mock.url}/_mock/${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  }).then((r) => r.arrayBuffer());

const runScenario = async (fault, plan) => {
  const mock = await startMockProcess();
  const worker = fork(WORKER, [], {
    execArgv: ['--expose-gc'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  // The two scenarios run side by side and measure memory, not CPU: every CPU, as before pinning.
  unpin(worker.pid);
  try {
    const ready = new Promise((resolve) => worker.once('message', resolve));
    worker.send({ graphUrl: mock.url, rate: plan.rate, sampleMs: 250, liveEveryMs: 2000 });
    await ready;
    // The mock keeps every event it accepts: forget them every few seconds while it is healthy.
    const healthyFor = async (seconds) => {
      for (let left = seconds; left > 0; left -= 5) {
        await sleep(Math.min(5, left) * 1000);
        await control(mock, 'POST', 'reset');
      }
    };
    await healthyFor(plan.baseline);
    await control(mock, 'POST', 'outage', { fault });
    worker.send({ phase: 'outage' });
    await sleep(plan.outage * 1000);
    await control(mock, 'DELETE', 'outage');
    worker.send({ phase: 'recovery' });
    await healthyFor(plan.recovery);
    const result = new Promise((resolve) => worker.once('message', resolve));
    worker.send({ stop: true });
    return await result;
  } finally {
    if (worker.exitCode === null) worker.kill();
    await mock.stop();
  }
};

const analyze = (name, r, plan) => {
  const { samples } = r;
  const inPhase = (p) => samples.filter((s) => s.phase === p);
  // Baseline: the last 10 s of the healthy phase, once the JIT, the pools and the caches are warm.
  const base = inPhase('baseline').filter((s) => s.t >= plan.baseline - 10);
  const baseRss = median(base.map((s) => s.rss));
  const baseHeap = median(base.map((s) => s.heapUsed));
  const baseLive = median(base.filter((s) => s.live !== undefined).map((s) => s.live));
  const outage = inPhase('outage');
  const recovery = inPhase('recovery');
  const later = [...outage, ...recovery];
  const peakRss = Math.max(...later.map((s) => s.rss));
  const peakRssSample = later.find((s) => s.rss === peakRss);
  const baseYoung = median(base.map((s) => s.young));
  const peakHeap = Math.max(...later.map((s) => s.heapUsed));
  const baseExternal = median(base.map((s) => s.external));
  const peakExternal = Math.max(...later.map((s) => s.external));
  const outageStart = outage[0].t;
  const recoveryStart = recovery[0].t;
  // Back to baseline: the live heap within 10 % (at least 2 MiB) of the baseline's.
  const liveOk = (s) => s.live <= Math.max(baseLive * 1.1, baseLive + 2 * MiB);
  const backAt = recovery.find((s) => s.live !== undefined && liveOk(s));
  // Drained: no more waiting than the steady state's second of traffic.
  const drainedAt = recovery.find((s) => s.queued + s.inFlight <= plan.rate);
  const last = recovery.at(-1);
  const lastLive = recovery.filter((s) => s.live !== undefined).at(-1);
  const droppedInOutage = (recovery[0]?.dropped ?? 0) - (outage[0]?.dropped ?? 0);
  return {
    name,
    baseRss,
    baseHeap,
    baseLive,
    peakRssDelta: peakRss - baseRss,
    peakRssAt: `${Math.round(peakRssSample.t)} s, ${peakRssSample.phase}`,
    peakRssYoungDelta: peakRssSample.young - baseYoung,
    peakRssExternalDelta: peakRssSample.external - baseExternal,
    peakHeapDelta: peakHeap - baseHeap,
    peakExternalDelta: peakExternal - baseExternal,
    maxQueued: Math.max(...later.map((s) => s.queued + s.inFlight)),
    droppedInOutage,
    drainedAfter: drainedAt === undefined ? undefined : drainedAt.t - recoveryStart,
    backAfter: backAt === undefined ? undefined : backAt.t - recoveryStart,
    endRssDelta: last.rss - baseRss,
    endLiveDelta: lastLive.live - baseLive,
    outageStart,
    recoveryStart,
  };
};

export const benchOutage = async ({ quick = false } = {}) => {
  const plan = quick
    ? { rate: 2000, baseline: 30, outage: 15, recovery: 15 }
    : { rate: 2000, baseline: 40, outage: 60, recovery: 60 };
  const scenarios = [
    ['503 (HTTP 503 page)', 503],
    ['hang (no answer; client timeout 1.5 s)', 'hang'],
  ];
  const results = await Promise.all(scenarios.map(([, fault]) => runScenario(fault, plan)));
  const rows = [];
  const series = [];
  const budget = (LIMIT_MIB + ALLOWANCE_MIB) * MiB;
  scenarios.forEach(([name], i) => {
    const r = results[i];
    const a = analyze(name, r, plan);
    rows.push([
      name,
      `${mib(a.baseRss)} / ${mib(a.baseHeap)} / ${mib(a.baseLive)}`,
      `${signed(a.peakRssDelta)} (${a.peakRssAt})`,
      `${signed(a.peakRssYoungDelta)} / ${signed(a.peakRssExternalDelta)}`,
      signed(a.peakHeapDelta),
      signed(a.peakExternalDelta),
      fmt(a.maxQueued, 0),
      fmt(a.droppedInOutage, 0),
      a.drainedAfter === undefined ? 'not within the run' : `${a.drainedAfter.toFixed(1)} s`,
      a.backAfter === undefined ? 'not within the run' : `${a.backAfter.toFixed(1)} s`,
      `${signed(a.endRssDelta)} / ${signed(a.endLiveDelta)}`,
      r.unhandled,
      r.accounted ? 'yes' : `no (${JSON.stringify(r.after)})`,
    ]);
    const short = name.split(' ')[0];
    recordTarget({
      figure: `Outage ${short}: peak RSS over baseline`,
      value: `${signed(a.peakRssDelta)} MiB`,
      target: `≤ ${LIMIT_MIB} MiB queue limit + ${ALLOWANCE_MIB} MiB`,
      pass: a.peakRssDelta <= budget,
    });
    recordTarget({
      figure: `Outage ${short}: peak heap over baseline`,
      value: `${signed(a.peakHeapDelta)} MiB`,
      target: `≤ ${LIMIT_MIB} MiB queue limit + ${ALLOWANCE_MIB} MiB`,
      pass: a.peakHeapDelta <= budget,
    });
    recordTarget({
      figure: `Outage ${short}: live heap back to baseline after recovery`,
      value:
        a.backAfter === undefined ? `not within ${plan.recovery} s` : `${a.backAfter.toFixed(1)} s`,
      target: '≤ 60 s',
      pass: a.backAfter !== undefined && a.backAfter <= 60,
    });
    recordTarget({
      figure: `Outage ${short}: every event accounted for, 0 unhandled rejections`,
      value: `${r.accounted ? 'accounted' : 'not accounted'}, ${r.unhandled} unhandled`,
      target: 'accounted, 0',
      pass: r.accounted && r.unhandled === 0,
    });
    // A sample every 10 s (5 s in --quick) for the time series table.
    const step = quick ? 5 : 10;
    for (let t = step; t <= plan.baseline + plan.outage + plan.recovery; t += step) {
      const s = r.samples.findLast((x) => x.t <= t && x.live !== undefined);
      const raw = r.samples.findLast((x) => x.t <= t);
      if (!s || !raw) continue;
      series[t] ??= [`${t}`, raw.phase];
      series[t].push(
        `${mib(raw.rss)} / ${mib(raw.heapUsed)} / ${mib(s.live)}`,
        `${fmt(raw.queued + raw.inFlight, 0)} / ${fmt(raw.dropped, 0)}`,
      );
    }
  });
  printTable(
    `Delivery memory during a ${plan.outage} s outage and ${plan.recovery} s of recovery, ${fmt(plan.rate, 0)} events/s, default limits (10,000 events / ${LIMIT_MIB} MiB per pixel); Node ${process.version}`,
    [
      'outage',
      'baseline RSS / heap / live heap MiB',
      'peak RSS Δ MiB (when)',
      'of which young gen / external Δ MiB',
      'peak heap Δ MiB',
      'peak external Δ MiB',
      'max queued + in flight',
      'dropped (oldest) in outage',
      'queue drained after recovery',
      'live heap back to baseline',
      'end RSS Δ / live heap Δ MiB',
      'unhandled rejections',
      'every event accounted',
    ],
    rows,
    'Baseline: medians over the last 10 s of the healthy phase. External: memory outside the JS heap (request bodies as bytes, sockets). Live heap: heapUsed right after a forced full GC (every 2 s). Peaks are over the outage and the recovery. Young gen: V8\'s new space (committed semi-spaces, resized by V8 with the allocation rate) at the peak-RSS sample, against the baseline\'s; external likewise (request bodies in flight during the drain). "Accounted": sent + dropped + dead-lettered + still queued equals tracked, after close().',
  );
  printTable(
    'Outage time series (RSS / heap / live heap MiB; queued + in flight / dropped so far)',
    [
      't s',
      'phase',
      ...scenarios.flatMap(([name]) => [
        `${name.split(' ')[0]}: memory`,
        `${name.split(' ')[0]}: queue / dropped`,
      ]),
    ],
    series.filter(Boolean),
  );
  return results;
};

if (isMain(import.meta.url)) await benchOutage(benchArgs());
