#!/usr/bin/env node
// What a tracked request costs the library itself, without HTTP: the middleware's per-request work
// and one ViewContent `track()` (email + request context), with delivery included (batches of up
// to 1000 serialized and handed to a `fetch` that answers at once, in the same process). capi-kit
// (`forRequest(fromIncomingMessage(req))` + `req.capi.track`) against the naive hand-written
// middleware of naive-middleware.mjs doing the same for the same visitors, and capi-kit mounted
// with nothing tracked. CPU µs per request, alternating contenders over rounds.
// The in-server figures (middleware.mjs) add the framework, HTTP and the kernel, the same for
// every contender, and on a shared 2-core machine they carry tens of µs of noise per request:
// this isolates the part the library decides.
//
// The rounds run in several fresh processes in turn, all the contenders in each as before, and a
// figure is the median over those processes (each process's own figure the median of its
// rounds). One process measured its own luck as much as the code: three runs of the one-process
// bench on the same build read the naive middleware at 3.1, 6.0 and 3.4 µs, so capi-kit ÷ naive
// at 2.62, 2.04 and 2.54 (December 2026, twentieth session), and the same capi-kit build in ten
// fresh processes, pinned to one CPU and warmed alike, cost 7.6 to 11.7 µs. What V8 compiled, and
// when, differs from process to process; a median over processes does not rest on one of them.
// The contenders still share each process, as they always did: alone in a process of its own the
// naive middleware cost more (4.4-4.9 µs against 3.1-3.4 beside capi-kit), which put the ratio at
// 1.67 for a reason that has nothing to do with capi-kit.
//   node bench/request-path.mjs [--quick] [--before=<checkout>]
// `--before`: the same on another checkout's built core too (`git worktree add`, `cp -al
// node_modules`, `npx tsdown` in its packages/core), its processes alternating with this one's,
// and capi-kit's figures side by side: a before/after of a change, a median over processes each.
import { fork } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { getHeapStatistics } from 'node:v8';
import {
  benchArgs,
  fmtRange,
  isMain,
  median,
  okFetch,
  printTable,
  recordTarget,
  summarize,
} from './lib.mjs';
import { BROWSER_HEADERS, FBCLID, SUBREQUEST_HEADERS } from './middleware.mjs';
import { createNaiveTracker, naiveContext, setCookieHeader } from './naive-middleware.mjs';

const { cookie: _none, ...FIRST_HEADERS } = BROWSER_HEADERS;
/** The synthetic requests: a returning visitor's page view, a first visit from an ad, a fetch(). */
export const VISITORS = {
  returning: { url: '/product/42', query: {}, headers: BROWSER_HEADERS },
  first: { url: `/product/42?fbclid=${FBCLID}`, query: { fbclid: FBCLID }, headers: FIRST_HEADERS },
  fetch: { url: '/api/cart', query: {}, headers: SUBREQUEST_HEADERS },
};
/** What each tracked ViewContent carries beside the email. */
export const custom_data = {
  content_type: 'product',
  content_ids: ['SKU-1'],
  value: 42.5,
  currency: 'USD',
};
/** The socket of every synthetic request: a proxy on loopback. */
export const socket = { remoteAddress: '127.0.0.1', encrypted: false };

const SELF = fileURLToPath(import.meta.url);

/**
 * One fresh process's rounds: CPU µs per request of each run, one figure per round. `core`: a
 * built `@capi-kit/core` to load instead of this checkout's (`--before`).
 */
const inFreshProcess = (requests, rounds, core) =>
  new Promise((resolve, reject) => {
    const args = ['--worker', `--requests=${requests}`, `--rounds=${rounds}`];
    const child = fork(SELF, core === undefined ? args : [...args, `--core=${core}`]);
    child.once('message', resolve);
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`request-path worker exited (${code})`)));
  });

/** A worker process: every contender's rounds in this process, sent to the parent. */
const serve = async ({ requests, rounds, core: path }) => {
  const core = await import(path ?? '@capi-kit/core');
  // Both contenders' batches go to the same in-process fetch, which charges each what a real fetch
  // does with its body (the naive middleware calls the global one).
  globalThis.fetch = okFetch;
  const cpu = await measureRequestPath(core, { requests, rounds });
  process.send(cpu, () => process.exit(0));
};

export const benchRequestPath = async ({ quick = false, before } = {}) => {
  const requests = quick ? 10_000 : 40_000;
  const rounds = quick ? 3 : 5;
  const processes = quick ? 2 : 6;
  const perProcess = [];
  const beforeProcesses = [];
  // One after another, never side by side: each on this process's CPU (children inherit it). With
  // `before`, that build's processes alternate with this one's.
  for (let p = 0; p < processes; p++) {
    if (before !== undefined && p % 2 === 1)
      beforeProcesses.push(await inFreshProcess(requests, rounds, before));
    perProcess.push(await inFreshProcess(requests, rounds));
    if (before !== undefined && p % 2 === 0)
      beforeProcesses.push(await inFreshProcess(requests, rounds, before));
  }
  if (before !== undefined) compare(beforeProcesses, perProcess, before);
  return report(perProcess, { requests, rounds, processes });
};

/** One process's capi-kit ÷ naive for `visitor`: the median of its rounds' paired ratios. */
const pairedRatio = (cpu, visitor) =>
  median(cpu[`${visitor}/capi`].map((v, i) => v / cpu[`${visitor}/naive`][i]));

/** `--before`: capi-kit's figures on the other build beside this one's, process by process. */
const compare = (beforeProcesses, afterProcesses, before) => {
  const rows = ['returning', 'first'].map((visitor) => {
    const capi = (cpu) => median(cpu[`${visitor}/capi`]);
    const perNaive = (cpu) => pairedRatio(cpu, visitor);
    const b = beforeProcesses.map(capi);
    const a = afterProcesses.map(capi);
    return [
      visitor,
      fmtRange(summarize(b)),
      fmtRange(summarize(a)),
      (median(a) / median(b)).toFixed(3),
      fmtRange(summarize(beforeProcesses.map(perNaive))),
      fmtRange(summarize(afterProcesses.map(perNaive))),
    ];
  });
  printTable(
    `Before (${before}) and after (this checkout): capi-kit CPU µs per tracked request, medians over fresh processes`,
    ['visitor', 'before µs', 'after µs', 'after ÷ before', 'before ÷ naive', 'after ÷ naive'],
    rows,
  );
};

/**
 * V8's count of the bytes it has allocated on the JavaScript heap so far (`undefined` before Node
 * 26, whose `v8.getHeapStatistics()` lacks it). Unlike CPU time it does not move with the machine's
 * load, and it is likely part of why the time ratio exceeds the instruction ratio: every allocated byte is
 * written to memory the caches have not seen (bench/README.md, "Allocation").
 */
const allocatedBytes = () => getHeapStatistics().total_allocated_bytes;

const measureRequestPath = async (core, { requests, rounds }) => {
  const naive = createNaiveTracker({
    graphUrl: 'http://mock.invalid',
    pixelId: '1',
    accessToken: 'EAAbenchTOKEN0123456789',
  });
  const adapter = core.createCapiAdapter({
    pixelId: '1',
    accessToken: 'EAAbenchTOKEN0123456789',
    fetch: okFetch,
    env: false,
    logger: false,
    trustProxy: 'loopback',
  });
  let seq = 0;
  const email = () => `Customer.${seq++}@Example.com`;
  const contenders = {
    naive: (visitor) => {
      const req = { headers: visitor.headers, url: visitor.url };
      const context = naiveContext(req.headers, socket.remoteAddress, req.url, visitor.query);
      const cookies = context.newCookies.map((pair) => setCookieHeader(pair, context.secure));
      naive.track('ViewContent', context, { email: email(), custom_data });
      return cookies;
    },
    capi: (visitor) => {
      const req = { method: 'GET', url: visitor.url, headers: visitor.headers, socket };
      const bound = adapter.forRequest(core.fromIncomingMessage(req));
      const cookies = bound.cookiesToSet.map((cookie) => cookie.header);
      const result = bound.capi.track('ViewContent', { user_data: { em: email() }, custom_data });
      if (!result.accepted) throw new Error(`not accepted: ${JSON.stringify(result.issues)}`);
      return cookies;
    },
    mounted: (visitor) => {
      const req = { method: 'GET', url: visitor.url, headers: visitor.headers, socket };
      return adapter.forRequest(core.fromIncomingMessage(req)).cookiesToSet;
    },
  };
  const drain = {
    naive: () => naive.drain(),
    capi: () => adapter.client.flush(),
    mounted: () => {},
  };
  const runs = [
    ['returning', 'naive'],
    ['returning', 'capi'],
    ['first', 'naive'],
    ['first', 'capi'],
    ['fetch', 'mounted'],
  ];
  const cpu = Object.fromEntries(runs.map((run) => [run.join('/'), []]));
  const measure = async (visitorName, name, n) => {
    const visitor = VISITORS[visitorName];
    const one = contenders[name];
    const a0 = allocatedBytes();
    const c0 = process.cpuUsage();
    for (let i = 0; i < n; i++) {
      one(visitor);
      // Give the event loop its turn as a server would between requests: deliveries go out.
      if ((i & 255) === 255) await new Promise((resolve) => setImmediate(resolve));
    }
    await drain[name]();
    const c = process.cpuUsage(c0);
    const a = allocatedBytes();
    if (a !== undefined) cpu[`${visitorName}/${name}/bytes`] = (a - a0) / n;
    return (c.user + c.system) / n;
  };
  for (const [visitor, name] of runs) await measure(visitor, name, requests / 4); // warm-up
  for (let round = 0; round < rounds; round++) {
    const order = runs.slice(round % runs.length).concat(runs.slice(0, round % runs.length));
    for (const [visitor, name] of order)
      cpu[`${visitor}/${name}`].push(await measure(visitor, name, requests));
  }
  await adapter.close({ timeoutMs: 1000 });
  await naive.close();
  return cpu;
};

/** The table and targets from each process's rounds: medians over processes, ratios paired by process. */
const report = (perProcess, { requests, rounds, processes }) => {
  // A process's figure for a run: the median of its rounds; its ratio: the median of its paired ones.
  const figure = (key) => perProcess.map((cpu) => median(cpu[key]));
  const ratio = (visitor) => perProcess.map((cpu) => pairedRatio(cpu, visitor));
  const rows = [];
  // Heap bytes allocated per request in each process's last round: the same in every process
  // within a few bytes, so the median is enough.
  const bytes = (key) => {
    const all = perProcess.map((cpu) => cpu[`${key}/bytes`]).filter((b) => b !== undefined);
    return all.length === 0 ? '—' : Math.round(median(all)).toLocaleString('en-US');
  };
  for (const visitor of ['returning', 'first']) {
    const naiveCpu = summarize(figure(`${visitor}/naive`));
    const capiCpu = summarize(figure(`${visitor}/capi`));
    const ratios = summarize(ratio(visitor));
    rows.push([
      visitor,
      fmtRange(naiveCpu),
      fmtRange(capiCpu),
      fmtRange(ratios),
      bytes(`${visitor}/naive`),
      bytes(`${visitor}/capi`),
    ]);
    recordTarget({
      figure: `in-process request path, ${visitor === 'first' ? 'first visit' : 'returning visitor'}: capi-kit ÷ naive CPU per tracked request`,
      value: `${fmtRange(ratios)} (${capiCpu.median.toFixed(1)} vs ${naiveCpu.median.toFixed(1)} µs)`,
      target: '≤ 2.0',
      pass: ratios.median <= 2,
    });
  }
  const mounted = summarize(figure('fetch/mounted'));
  rows.push([
    'fetch() (capi-kit mounted, no track)',
    '',
    fmtRange(mounted),
    '',
    '',
    bytes('fetch/mounted'),
  ]);
  recordTarget({
    figure: 'in-process request path: capi-kit mounted without tracking, CPU per request',
    value: `${fmtRange(mounted)} µs`,
    target: '≤ 2 µs',
    pass: mounted.median <= 2,
  });
  printTable(
    `Request path without HTTP: CPU µs per request of the library's own work, delivery included (${processes} fresh processes one after another, each ${rounds} alternating rounds × ${requests} requests after a warm-up; medians over the processes of each one's median, min–max over the processes; Node ${process.version})`,
    [
      'visitor',
      'naive µs/req',
      'capi-kit µs/req',
      'capi-kit ÷ naive (paired within each process)',
      'naive heap B/req',
      'capi-kit heap B/req',
    ],
    rows,
    "What the middleware and one ViewContent track() cost per request in-process: the naive middleware of naive-middleware.mjs and capi-kit on the same synthetic Node requests, batches serialized and handed to an in-process fetch that takes the body as fetch does (a string encoded, bytes copied), counts its events without decoding it and answers at once. Framework, HTTP parsing and the kernel are left out (the same for every contender; middleware.mjs measures them in-server). Mounted: the page's fetch() of a returning visitor, nothing tracked. Heap B/req: bytes V8 allocated on the JavaScript heap per request (Node 26's `total_allocated_bytes`, the last round of each process, median), the request objects of the loop included; a batch's body bytes live outside the heap and are not in it.",
  );
  return rows;
};

// The workers `npm run bench` forks must know they were started, whatever the checkout's path.
if (isMain(import.meta.url)) {
  const flag = (name) =>
    process.argv.find((arg) => arg.startsWith(`--${name}=`))?.slice(name.length + 3);
  if (process.argv.includes('--worker')) {
    await serve({
      requests: Number(flag('requests')),
      rounds: Number(flag('rounds')),
      core: flag('core'),
    });
  } else {
    const before = flag('before');
    const beforeCore =
      before === undefined ? undefined : resolve(before, 'packages/core/dist/index.mjs');
    if (beforeCore !== undefined && !existsSync(beforeCore)) {
      throw new Error(`no built core at ${beforeCore}`);
    }
    await benchRequestPath({
      ...benchArgs(),
      // A file URL from a path resolved against the working directory (not against bench/).
      before: beforeCore === undefined ? undefined : pathToFileURL(beforeCore).href,
    });
  }
}
