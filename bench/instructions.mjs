#!/usr/bin/env node
// The request path in instructions, not seconds: the in-process loop of request-path.mjs (one
// ViewContent per request, email + request context, batches of 256 handed to an in-process fetch)
// run under valgrind's callgrind, which counts the instructions the process executes whatever else
// the machine is doing. Per request: (instructions of an N2-request run − those of an N1-request
// run) ÷ (N2 − N1), so start-up and warm-up cancel out. `node --predictable` keeps V8's compiler
// and GC on the main thread and off wall-clock heuristics (the memory reducer), so the count
// hardly moves with the machine's load; what still does is work on a timer or the wall clock,
// which the load speeds up or slows down (see WARM below for the spread). For before/after of a
// change on a shared machine, where the timed benches carry tens of percent of noise. Needs
// valgrind (Debian's `valgrind`); not part of `npm run bench`.
//   node bench/instructions.mjs [--visitor=returning|first] [--before=<checkout>] [--n1=25000] [--n2=45000] [--steady-gc]
//   node bench/instructions.mjs --profile=<capi|naive> [--misses=I1mr|D1mr|D1mw] [--top=40]
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
// long (default 30,000 → 60,000 requests) because one full GC of the server's heap is tens of
// millions of instructions: in a window of a few thousand requests it adds thousands per request
// to whichever variant it happened to fall in.
//
// `--import`: what importing each module of the cold-start bench costs in instructions, the same
// modules with the same frameworks loaded first, in both module systems: a fresh `node
// --predictable --single-threaded` per count (V8 compiles on the main thread only), minus the same
// process loading only the framework. The timed cold start (cold-start.mjs) follows the machine;
// this does not, so it says whether a change made importing run less. It is not the import's time:
// on the virtual machines of December 2026 a page fault costs about 11 µs, and the memory an import
// touches weighs as much as what it runs (cold-start.mjs prints the faults). A collection that
// falls inside one count and not its base adds tens of millions: Nest's CommonJS row read 110M
// against 49M as ESM in December 2026 with no other file loaded, most likely for that reason.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { MODULES, SYSTEMS } from './cold-start.mjs';
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
// An unknown flag (a typo, `--help`) stops here, before minutes of callgrind on the defaults.
const KNOWN_FLAGS = [
  'before',
  'import',
  'in-server',
  'misses',
  'n1',
  'n2',
  'profile',
  'steady-gc',
  'top',
  'variants',
  'visitor',
  'worker',
];
const unknownFlags = Object.keys(flags).filter((name) => !KNOWN_FLAGS.includes(name));
if (unknownFlags.length > 0) {
  console.error(
    `bench/instructions.mjs: unknown ${unknownFlags.map((name) => `--${name}`).join(', ')}; the flags are ${KNOWN_FLAGS.map((name) => `--${name}`).join(', ')} (see the header of this file)`,
  );
  process.exit(2);
}

// Windows start warm. V8 optimizes a function only after it has run hot for a while (one on the
// flush path, run once per 256 requests, much later), and until then each request pays the slower
// tiers and the optimizing compiler itself: in a 2,000 → 20,000 window, the default until December
// 2026, compilation alone was 43k of capi-kit's 135k instructions per request and 4k of the naive
// middleware's 39k (callgrind with --perf-basic-prof symbols, Node 26), so the ratio measured how
// much code each had to compile as much as what a request costs. The timed benches measure warm
// servers (their saturation rounds run before the fixed-rate ones), and so does this from 25,000
// requests on. What warming up costs is a figure of its own, printed beside: the instructions the
// first n1 requests took beyond n1 warm ones (start-up, the 0-request run, excluded). Warm
// windows repeat less exactly than the old ones did: one build counted 75.5k and 78.0k per request
// in two runs and 84.4k in a copy of this loop (returning visitor, in process; in a server, the
// naive middleware 43.1k and 41.0k), as V8 still tiers up the odd function, and the wall clock (slowed fifty-fold under
// callgrind) decides when the diagnostics' and the delivery's timed work falls. Differences of a
// few thousand are decided with `--profile`, which says which functions moved.
const WARM = { n1: 25_000, n2: 45_000, inServerN1: 30_000, inServerN2: 60_000 };
/** `x` instructions as millions, one decimal. */
const millions = (x) => `${(x / 1e6).toFixed(1)}M`;

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
  args.push('--predictable', ...STEADY_GC, fileURLToPath(new URL(import.meta.url)));
  args.push(`--worker=${contender}`, visitorName, String(n), ...(corePath ? [corePath] : []));
  const { stderr } = await run('valgrind', args, { maxBuffer: 1 << 24 });
  const match = /Collected : (\d+)/.exec(stderr);
  if (!match) throw new Error(`callgrind printed no total:\n${stderr.slice(-2000)}`);
  return Number(match[1]);
};

const SERVER = fileURLToPath(new URL('./middleware-server.mjs', import.meta.url));

/**
 * Instructions callgrind collected in a middleware server (`variant`) that answered `n` sequential
 * keep-alive requests of `visitor`, start-up and shutdown included; its deliveries go to `graphUrl`.
 */
const collectedInServer = async (framework, variant, visitor, n, graphUrl, profile) => {
  const server = await startServerProcess(SERVER, [framework, variant, graphUrl], {
    nodeArgs: ['--predictable', ...STEADY_GC, ...(profile ? perfMapFlags(profile.out) : [])],
    wrapper: [
      'valgrind',
      '--tool=callgrind',
      ...(profile ? CACHE_SIM : []),
      `--callgrind-out-file=${profile?.out ?? '/dev/null'}`,
    ],
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
  if (profile) return server.pid;
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
  const n1 = Number(flags.n1 ?? WARM.inServerN1);
  const n2 = Number(flags.n2 ?? WARM.inServerN2);
  const visitor = flags.visitor ?? 'fetch';
  const variants = (flags.variants ?? 'plain,noop,mounted').split(',');
  if (variants[0] !== 'plain') throw new Error('--variants: plain comes first');
  // Deliveries (naive, capi) go to the null sink, outside callgrind.
  const sink = await startSinkProcess();
  const perRequest = {};
  const warmUp = {};
  try {
    for (const variant of variants) {
      // Side by side: the load moves the wall time, the counts only through timed work (WARM).
      const [z, a, b] = await Promise.all(
        [0, n1, n2].map((n) => collectedInServer(framework, variant, visitor, n, sink.url)),
      );
      perRequest[variant] = (b - a) / (n2 - n1);
      warmUp[variant] = a - z - n1 * perRequest[variant];
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
      `warm-up, once (first ${n1} requests)`,
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
      millions(warmUp[variant]),
    ]),
  );
};

/**
 * `--profile=<contender or variant>`: where the warm requests' instructions go, by function. Two
 * runs under callgrind (n1 and n2 requests) with V8's `--perf-basic-prof`, which names each piece
 * of generated code in /tmp/perf-<pid>.map (callgrind sees JIT code as bare addresses); each
 * function's own instructions in the n2 run minus the n1 run, per request of the window. V8's
 * optimized JavaScript is marked `*`, Maglev's `+`, Sparkplug's `^`. In process by default, in a
 * real server with `--in-server=<framework>`.
 */
const profileOf = async (who) => {
  const framework = flags['in-server'];
  const n1 = Number(flags.n1 ?? (framework ? WARM.inServerN1 : WARM.n1));
  const n2 = Number(flags.n2 ?? (framework ? WARM.inServerN2 : WARM.n2));
  const visitorName = flags.visitor ?? 'returning';
  const dir = await mkdtemp(join(tmpdir(), 'capi-kit-profile-'));
  const sink = framework ? await startSinkProcess() : undefined;
  try {
    const [before, after] = await Promise.all(
      [n1, n2].map((n) =>
        ownInstructions(who, framework, visitorName, n, join(dir, `${n}.out`), sink),
      ),
    );
    const window = n2 - n1;
    const rows = [...new Set([...before.keys(), ...after.keys()])]
      .map((name) => [name, ((after.get(name) ?? 0) - (before.get(name) ?? 0)) / window])
      .sort((a, b) => b[1] - a[1]);
    const total = rows.reduce((sum, [, count]) => sum + count, 0);
    printTable(
      `Where ${who}'s ${MISSES ? `${MISSES} misses` : 'instructions'} go${framework ? ` (${framework} in-server)` : ''}, ${visitorName} visitor: (${n2} − ${n1} requests), ${Math.round(total).toLocaleString('en-US')} per request in all; Node ${process.version}`,
      [`own ${MISSES ? `${MISSES} misses` : 'instructions'} per request`, 'share', 'function'],
      rows
        .slice(0, Number(flags.top ?? 40))
        .map(([name, count]) => [
          Math.round(count).toLocaleString('en-US'),
          `${((100 * count) / total).toFixed(1)} %`,
          name.replaceAll('|', '\\|'),
        ]),
    );
  } finally {
    await sink?.stop();
    await rm(dir, { recursive: true, force: true });
  }
};

/**
 * V8's map of the code it generates, for `--profile`. The flag also turns on V8's log, written to
 * the working directory unless sent elsewhere: next to the callgrind output, removed with it.
 */
const perfMapFlags = (out) => [
  '--perf-basic-prof',
  '--no-logfile-per-isolate',
  `--logfile=${out}.v8.log`,
];

// `--profile --misses=I1mr` (or D1mr, DLmr, …: callgrind's event names): simulated cache misses
// per function instead of instructions. Instructions alone undercount capi-kit: per tracked request
// it runs 1.75× the naive middleware's instructions but misses the 32 kB level-1 instruction cache
// 3× as often (2,850 against 960) and the data cache 3.8× (1,110 against 290) (cachegrind, Node 26,
// December 2026), which is how 1.75× the instructions take about 2.6× the time. The last level is
// set to 32 MB: the virtual machines report an L3 of 512 MB, which would hide every miss there.
const MISSES = flags.misses;
const CACHE_SIM = MISSES ? ['--cache-sim=yes', '--LL=33554432,16,64'] : [];

/** One callgrind run of `n` requests: every function's own instructions (or misses), JIT code named. */
const ownInstructions = async (who, framework, visitorName, n, out, sink) => {
  let pid;
  if (framework) {
    pid = await collectedInServer(framework, who, visitorName, n, sink.url, { out });
  } else {
    const args = ['--tool=callgrind', ...CACHE_SIM, `--callgrind-out-file=${out}`];
    args.push(process.execPath, '--predictable', ...perfMapFlags(out), ...STEADY_GC);
    args.push(fileURLToPath(new URL(import.meta.url)));
    args.push(`--worker=${who}`, visitorName, String(n));
    const { stderr } = await run('valgrind', args, { maxBuffer: 1 << 24 });
    pid = Number(/^==(\d+)==/m.exec(stderr)?.[1]);
  }
  if (!Number.isInteger(pid)) throw new Error('--profile: no process id from the callgrind run');
  // Where node --perf-basic-prof writes its map (--perf-basic-prof-path's default).
  const mapFile = `/tmp/perf-${pid}.map`;
  const text = await readFile(mapFile, 'utf8').finally(() => rm(mapFile, { force: true }));
  // The last range starting at or below an address names it; a range freed and reused by a
  // smaller piece of code can leave an address inside the older one: read as `(generated code)`.
  const ranges = text
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [start, size, ...name] = line.split(' ');
      const at = Number.parseInt(start, 16);
      return { at, end: at + Number.parseInt(size, 16), name: name.join(' ') };
    })
    .sort((a, b) => a.at - b.at);
  const jitName = (address) => {
    let lo = 0;
    let hi = ranges.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (ranges[mid].at <= address) lo = mid + 1;
      else hi = mid - 1;
    }
    const range = ranges[hi];
    // Line and column go: they move with every build, and the name says enough.
    return range && address < range.end
      ? range.name.replace(/^JS:/, '').replace(/:\d+:\d+$/, '')
      : '(generated code)';
  };
  const shown = MISSES ? [`--show=${MISSES}`, `--sort=${MISSES}`] : [];
  const { stdout } = await run(
    'callgrind_annotate',
    ['--threshold=100', '--auto=no', ...shown, out],
    {
      maxBuffer: 1 << 28,
    },
  );
  const own = new Map();
  for (const line of stdout.split('\n')) {
    const match = /^\s*([\d,]+) \([^)]*\)\s+(.*)$/.exec(line);
    if (!match || match[2].startsWith('PROGRAM TOTALS')) continue;
    const jit = /^\?\?\?:0x([0-9a-f]+)(?: |$)/.exec(match[2]);
    const name = (
      jit
        ? jitName(Number.parseInt(jit[1], 16))
        : match[2]
            .replace(/^[^:]*:/, '')
            .replace(/ \[[^\]]*\]$/, '')
            .replace(/'\d+$/, '') // callgrind's recursion depth
            .replace(/ const$/, '')
            .replace(/\((?:[^()]|\([^()]*\))*\)$/, '')
    ).replace(/file:\/\/\S*?\/(packages|bench|node_modules)\//, '$1/');
    own.set(name, (own.get(name) ?? 0) + Number(match[1].replaceAll(',', '')));
  }
  return own;
};

/** bench/empty-package.*, through this package's own `exports` (a self-reference, by name). */
const WARM_PACKAGE = 'capi-kit-bench/empty-package';

/** Instructions of a fresh process that loads `preload`, then `name` when given, in `system`. */
const importCount = async (system, preload, name) => {
  const load = (id) =>
    system === 'esm' ? `await import(${JSON.stringify(id)});` : `require(${JSON.stringify(id)});`;
  // An empty package first, by name, in the base count and the measured one alike: resolving the
  // first package by name sets the module loader up (0.8M instructions as CommonJS, 2.7M as ESM),
  // which a framework loaded first would otherwise take out of some rows and not others.
  const script = [WARM_PACKAGE, ...preload, ...(name ? [name] : [])].map(load).join('\n');
  const args = ['--tool=callgrind', '--callgrind-out-file=/dev/null', process.execPath];
  args.push('--predictable', '--single-threaded');
  args.push(...(system === 'esm' ? ['--input-type=module'] : []), '-e', script);
  const cwd = fileURLToPath(new URL('.', import.meta.url));
  const { stderr } = await run('valgrind', args, { cwd, maxBuffer: 1 << 24 });
  const match = /Collected : (\d+)/.exec(stderr);
  if (!match) throw new Error(`callgrind printed no total:\n${stderr.slice(-2000)}`);
  return Number(match[1]);
};

/** `--import`: each cold-start module's import in instructions, beyond its framework's. */
const imports = async () => {
  const modules = MODULES.filter((m) => !m.name.startsWith('node:'));
  const jobs = [];
  for (const m of modules) {
    for (const system of SYSTEMS) {
      jobs.push({ key: `${m.name}/${system}`, run: () => importCount(system, m.preload, m.name) });
      const base = `${m.preload.join(',')}/${system}`;
      if (!jobs.some((job) => job.key === base)) {
        jobs.push({ key: base, run: () => importCount(system, m.preload) });
      }
    }
  }
  // Two at a time (the counts do not depend on what runs beside them).
  const counts = new Map();
  for (let i = 0; i < jobs.length; i += 2) {
    const pair = jobs.slice(i, i + 2);
    const values = await Promise.all(pair.map((job) => job.run()));
    for (const [j, job] of pair.entries()) counts.set(job.key, values[j]);
  }
  const added = (m, system) =>
    counts.get(`${m.name}/${system}`) - counts.get(`${m.preload.join(',')}/${system}`);
  const sdk = modules.find((m) => m.name === 'facebook-nodejs-business-sdk');
  printTable(
    `Import in instructions (callgrind, node --predictable --single-threaded, a fresh process each, beyond the same process loading only the framework); Node ${process.version}`,
    ['module', 'loaded first', 'ESM import()', 'CJS require()', '÷ SDK (ESM / CJS)'],
    modules.map((m) => [
      m.name,
      m.preload.join(', '),
      millions(added(m, 'esm')),
      millions(added(m, 'cjs')),
      SYSTEMS.map((s) => (added(m, s) / added(sdk, s)).toFixed(2)).join(' / '),
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
  if (flags.profile) {
    await profileOf(flags.profile);
    process.exit(0);
  }
  if ('import' in flags) {
    await imports();
    process.exit(0);
  }
  if (flags['in-server']) {
    await inServer(flags['in-server']);
    process.exit(0);
  }
  const visitorName = flags.visitor ?? 'returning';
  const n1 = Number(flags.n1 ?? WARM.n1);
  const n2 = Number(flags.n2 ?? WARM.n2);
  const contenders = [['naive'], ['capi']];
  if (flags.before) {
    const core = `${flags.before}/packages/core/dist/index.mjs`;
    if (!existsSync(core)) throw new Error(`no built core at ${core}`);
    contenders.push(['capi', core]);
  }
  // Side by side: the load moves the wall time, the counts only through timed work (WARM).
  const perRequest = [];
  const warmUp = [];
  for (const [contender, core] of contenders) {
    const [z, a, b] = await Promise.all(
      [0, n1, n2].map((n) => collected(contender, visitorName, n, core)),
    );
    perRequest.push((b - a) / (n2 - n1));
    warmUp.push(a - z - n1 * perRequest.at(-1));
  }
  const [naive] = perRequest;
  printTable(
    `Request path in instructions (callgrind, node --predictable), ${visitorName} visitor, (${n2} − ${n1} requests); Node ${process.version}`,
    ['contender', 'instructions per request', '÷ naive', `warm-up, once (first ${n1} requests)`],
    contenders.map(([contender, core], i) => [
      core ? `${contender} (--before)` : contender,
      Math.round(perRequest[i]).toLocaleString('en-US'),
      (perRequest[i] / naive).toFixed(2),
      millions(warmUp[i]),
    ]),
  );
}
