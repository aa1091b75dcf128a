#!/usr/bin/env node
// The request path in instructions, not seconds: the in-process loop of request-path.mjs (one
// ViewContent per request, email + request context, batches of 256 handed to an in-process fetch)
// run under valgrind's callgrind, which counts the instructions the process executes whatever else
// the machine is doing. Per request: (instructions of an N2-request run − those of an N1-request
// run) ÷ (N2 − N1), so start-up and warm-up cancel out. `node --predictable` keeps V8's compiler
// and GC on the main thread and off wall-clock heuristics (the memory reducer), so the count does
// not move with the machine's load: the same within 0.1 % alone and beside another callgrind run. For before/after of a change on a shared machine, where the timed benches
// carry tens of percent of noise. Needs valgrind (Debian's `valgrind`); not part of `npm run bench`.
//   node bench/instructions.mjs [--visitor=returning|first] [--before=<checkout>] [--n1=2000] [--n2=20000] [--steady-gc]
// `--before`: also the same loop on another checkout's built core (`git worktree add`, then
// `npx tsdown` in its packages/core), run beside this one.
// Worker mode (what callgrind runs): node bench/instructions.mjs --worker=<capi|naive> <visitor> <n> [core]
//
// `--in-server=<express|fastify> [--variants=plain,noop,mounted] [--visitor=fetch]`: the same in a
// real server, framework and HTTP included: middleware-server.mjs variants (default: plain, a no-op
// middleware, what the framework charges for any, and capi-kit mounted, for a returning visitor's
// fetch() that tracks nothing; `--variants=plain,naive,capi --visitor=returning|first` for the
// issue-20 ratio of tracked requests, deliveries going to the null sink outside callgrind), each
// under callgrind, answering N sequential keep-alive requests from this process. Windows are
// long (default 5,000 → 45,000 requests) because one full GC of the server's heap is tens of
// millions of instructions: in a window of a few thousand requests it adds thousands per request
// to whichever variant it happened to fall in.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { promisify } from 'node:util';
import { okFetch, printTable, startServerProcess, startSinkProcess } from './lib.mjs';
import { VISITORS as SERVER_VISITORS } from './middleware.mjs';
import { createNaiveTracker, naiveContext, setCookieHeader } from './naive-middleware.mjs';
import { custom_data, socket, VISITORS } from './request-path.mjs';

const flags = Object.fromEntries(
  process.argv
    .slice(2)
    .filter((arg) => arg.startsWith('--'))
    .map((arg) => arg.slice(2).split('=')),
);
const positional = process.argv.slice(2).filter((arg) => !arg.startsWith('--'));

// Batches are flushed every 256 requests by the loop: a timer's flush would depend on how fast
// the machine runs the loop, and so would the instruction count.
const HOUR = 3_600_000;

/** The loop callgrind measures: `n` requests of one contender, batches flushed every 256. */
const work = async (contender, visitor, n, corePath) => {
  globalThis.fetch = okFetch;
  let seq = 0;
  if (contender === 'naive') {
    const naive = createNaiveTracker({
      graphUrl: 'http://mock.invalid',
      pixelId: '1',
      accessToken: 'x',
      flushIntervalMs: HOUR,
    });
    for (let i = 0; i < n; i++) {
      const context = naiveContext(
        visitor.headers,
        socket.remoteAddress,
        visitor.url,
        visitor.query,
      );
      context.newCookies.map((pair) => setCookieHeader(pair, context.secure));
      naive.track('ViewContent', context, { email: `Customer.${seq++}@Example.com`, custom_data });
      if ((i & 255) === 255) await naive.drain();
    }
    await naive.close();
    return;
  }
  const core = await import(corePath ?? '@capi-kit/core');
  const adapter = core.createCapiAdapter({
    pixelId: '1',
    accessToken: 'EAAbenchTOKEN0123456789',
    fetch: okFetch,
    env: false,
    logger: false,
    trustProxy: 'loopback',
    flushIntervalMs: HOUR,
  });
  for (let i = 0; i < n; i++) {
    const req = { method: 'GET', url: visitor.url, headers: visitor.headers, socket };
    const bound = adapter.forRequest(core.fromIncomingMessage(req));
    bound.cookiesToSet.map((cookie) => cookie.header);
    bound.capi.track('ViewContent', {
      user_data: { em: `Customer.${seq++}@Example.com` },
      custom_data,
    });
    if ((i & 255) === 255) await adapter.client.flush();
  }
  await adapter.close({ timeoutMs: 1000 });
};

const run = promisify(execFile);

// `--steady-gc`: young and old generations large enough that almost no collection runs in the
// window. Which request a collection lands on moves with every allocation a change adds or removes,
// and a full one is tens of millions of instructions: the difference between two builds in the
// same window moved by 5-12k per request from one window to another without it (December 2026,
// first visit), and by 0.6k with it (the count itself still moves with the window, as the JIT
// tiers up at other points). It leaves most of the collector's work out, so a change that
// allocates more looks cheaper than it is: decide with it, then check without.
const STEADY_GC = !('steady-gc' in flags)
  ? []
  : ['--min-semi-space-size=128', '--max-semi-space-size=128', '--initial-old-space-size=1024'];
/** Instructions callgrind collected for one worker run. */
const collected = async (contender, visitorName, n, corePath) => {
  const args = ['--tool=callgrind', '--callgrind-out-file=/dev/null', process.execPath];
  args.push('--predictable', ...STEADY_GC, new URL(import.meta.url).pathname);
  args.push(`--worker=${contender}`, visitorName, String(n), ...(corePath ? [corePath] : []));
  const { stderr } = await run('valgrind', args, { maxBuffer: 1 << 24 });
  const match = /Collected : (\d+)/.exec(stderr);
  if (!match) throw new Error(`callgrind printed no total:\n${stderr.slice(-2000)}`);
  return Number(match[1]);
};

const SERVER = new URL('./middleware-server.mjs', import.meta.url).pathname;

/**
 * Instructions callgrind collected in a middleware server (`variant`) that answered `n` sequential
 * keep-alive requests of `visitor`, start-up and shutdown included; its deliveries go to `graphUrl`.
 */
const collectedInServer = async (framework, variant, visitor, n, graphUrl) => {
  const server = await startServerProcess(SERVER, [framework, variant, graphUrl], {
    nodeArgs: ['--predictable', ...STEADY_GC],
    wrapper: ['valgrind', '--tool=callgrind', '--callgrind-out-file=/dev/null'],
  });
  const { path, headers } = SERVER_VISITORS[visitor];
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const get = () =>
    new Promise((resolve, reject) => {
      const req = request(`${server.url}${path}`, { agent, headers }, (res) => {
        if (res.statusCode !== 200) reject(new Error(`${framework} ${variant}: ${res.statusCode}`));
        res.resume();
        res.once('end', resolve);
      });
      req.once('error', reject);
      req.end();
    });
  for (let i = 0; i < n; i++) await get();
  agent.destroy();
  await server.stop();
  const match = /Collected : (\d+)/.exec(server.stderr());
  if (!match) throw new Error(`callgrind printed no total:\n${server.stderr().slice(-2000)}`);
  return Number(match[1]);
};

/**
 * The in-server table: per request, each variant (default plain, a no-op middleware and capi-kit
 * mounted, for a returning visitor's fetch()), what it adds to plain, and for capi-kit what it
 * adds over the no-op middleware or, with `naive` among the variants, its added ÷ naive's added.
 */
const inServer = async (framework) => {
  const n1 = Number(flags.n1 ?? 5000);
  const n2 = Number(flags.n2 ?? 45000);
  const visitor = flags.visitor ?? 'fetch';
  const variants = (flags.variants ?? 'plain,noop,mounted').split(',');
  if (variants[0] !== 'plain') throw new Error('--variants: plain comes first');
  // Deliveries (naive, capi) go to the null sink, outside callgrind.
  const sink = await startSinkProcess();
  const perRequest = {};
  try {
    for (const variant of variants) {
      // Two at a time: the counts do not depend on the load, only the wall time does.
      const [a, b] = await Promise.all([
        collectedInServer(framework, variant, visitor, n1, sink.url),
        collectedInServer(framework, variant, visitor, n2, sink.url),
      ]);
      perRequest[variant] = (b - a) / (n2 - n1);
    }
  } finally {
    await sink.stop();
  }
  const k = (x) => `${(x / 1000).toFixed(1)}k`;
  const added = (variant) => perRequest[variant] - perRequest.plain;
  const floor = perRequest.naive === undefined ? 'noop' : 'naive';
  printTable(
    `${framework} in-server, ${SERVER_VISITORS[visitor].label}: instructions per request (callgrind, node --predictable), (${n2} − ${n1} requests); Node ${process.version}`,
    [
      'server',
      'instructions per request',
      '− plain',
      floor === 'naive' ? 'added ÷ naive added' : '− no-op middleware',
    ],
    variants.map((variant) => [
      variant,
      k(perRequest[variant]),
      variant === 'plain' ? '' : k(added(variant)),
      variant === 'plain' || variant === floor || perRequest[floor] === undefined
        ? ''
        : floor === 'naive'
          ? (added(variant) / added('naive')).toFixed(2)
          : k(perRequest[variant] - perRequest.noop),
    ]),
  );
};

if (flags.worker) {
  await work(flags.worker, VISITORS[positional[0]], Number(positional[1]), positional[2]);
} else {
  try {
    await run('valgrind', ['--version']);
  } catch {
    console.error('bench/instructions.mjs needs valgrind (apt-get install valgrind)');
    process.exit(2);
  }
  if (flags['in-server']) {
    await inServer(flags['in-server']);
    process.exit(0);
  }
  const visitorName = flags.visitor ?? 'returning';
  const n1 = Number(flags.n1 ?? 2000);
  const n2 = Number(flags.n2 ?? 20000);
  const contenders = [['naive'], ['capi']];
  if (flags.before) {
    const core = `${flags.before}/packages/core/dist/index.mjs`;
    if (!existsSync(core)) throw new Error(`no built core at ${core}`);
    contenders.push(['capi', core]);
  }
  // Two at a time: the counts do not depend on the load, only the wall time does.
  const perRequest = [];
  for (const [contender, core] of contenders) {
    const [a, b] = await Promise.all([
      collected(contender, visitorName, n1, core),
      collected(contender, visitorName, n2, core),
    ]);
    perRequest.push((b - a) / (n2 - n1));
  }
  const [naive] = perRequest;
  printTable(
    `Request path in instructions (callgrind, node --predictable), ${visitorName} visitor, (${n2} − ${n1} requests); Node ${process.version}`,
    ['contender', 'instructions per request', '÷ naive'],
    contenders.map(([contender, core], i) => [
      core ? `${contender} (--before)` : contender,
      Math.round(perRequest[i]).toLocaleString('en-US'),
      (perRequest[i] / naive).toFixed(2),
    ]),
  );
}
