#!/usr/bin/env node
// Middleware overhead: a hello-world Express / Fastify app, plain vs with capi-kit and one track()
// per request delivering to the mock Graph API. Three processes share the machine: the server
// (middleware-server.mjs), the load generator (load.mjs: autocannon at saturation, or an open-loop
// paced client at 50 % of the plain server's throughput) and the mock. Contenders alternate within
// each round (the first one rotates), several rounds; medians and spreads are reported, with the
// CPU each process used, since on a small machine they compete for the same cores.
import { fork } from 'node:child_process';
import {
  benchArgs,
  fmt,
  fmtRange,
  machineBusySeconds,
  median,
  printTable,
  processCpuSeconds,
  recordTarget,
  startMockProcess,
  startServerProcess,
  summarize,
  waitForQuiet,
} from './lib.mjs';

/** What a browser sends on a landing page view through a proxy on loopback (trustProxy: 'loopback'). */
export const BROWSER_HEADERS = {
  host: 'shop.example.com',
  'user-agent':
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
  accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8',
  'accept-language': 'en-US,en;q=0.9',
  'accept-encoding': 'gzip, deflate, br, zstd',
  referer: 'https://www.facebook.com/',
  'sec-fetch-dest': 'document',
  'sec-fetch-mode': 'navigate',
  'sec-fetch-site': 'cross-site',
  'upgrade-insecure-requests': '1',
  cookie:
    '_fbp=fb.1.1732000000000.1234567890; _fbc=fb.1.1732000000000.IwAR2F4-dbP0l7Mn1IawQQGCINEz7PYXQvwjNwB_qa2ofrHyiLjcbCRxTDMgk; _ga=GA1.1.1234567890.1732000000; session=s%3A3f9c2a7e-8d41-4b1e-9c1a-2f6b7d8e9a01.abcdefghijklmnopqrstuvwxyz0123456789',
  'x-forwarded-for': '203.0.113.7',
  'x-forwarded-proto': 'https',
};

const { 'upgrade-insecure-requests': _navigationOnly, ...ANY_REQUEST_HEADERS } = BROWSER_HEADERS;
/**
 * The same visitor's `fetch()` from that page (a returning visitor: `_fbp` known, no `fbclid`): no
 * cookie can change, so the middleware defers the request context until something is tracked.
 */
export const SUBREQUEST_HEADERS = {
  ...ANY_REQUEST_HEADERS,
  accept: '*/*',
  referer: 'https://shop.example.com/product/42',
  'sec-fetch-dest': 'empty',
  'sec-fetch-mode': 'cors',
  'sec-fetch-site': 'same-origin',
};

const VARIANTS = ['plain', 'capi', 'capi-pii', 'mounted'];
/** Variants that track one event per request (the contenders); `mounted` tracks none. */
const TRACKING = ['capi', 'capi-pii'];
const LABEL = {
  plain: 'plain',
  capi: 'capi (ViewContent)',
  'capi-pii': 'capi (Purchase, 9 PII)',
  mounted: 'capi mounted, no track (fetch)',
};
/**
 * What the load sends: a page navigation, or for `mounted` the same visitor's `fetch()`, the kind
 * of request that tracks nothing in a real app. Plain is measured with the navigation headers
 * (the frameworks parse both alike).
 */
const HEADERS = {
  plain: BROWSER_HEADERS,
  capi: BROWSER_HEADERS,
  'capi-pii': BROWSER_HEADERS,
  mounted: SUBREQUEST_HEADERS,
};
const SERVER = new URL('./middleware-server.mjs', import.meta.url).pathname;
const LOAD = new URL('./load.mjs', import.meta.url).pathname;

const runLoad = (job) =>
  new Promise((resolve, reject) => {
    const child = fork(LOAD, [], { execArgv: [], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    child.once('message', resolve);
    child.once('error', reject);
    child.once('exit', (code) => {
      if (code !== 0) reject(new Error(`load generator exited with ${code}`));
    });
    child.send(job);
  });

/** The middleware server's `/_stats`: its CPU time, memory and the client's counters. */
export const serverStats = async (url) => (await fetch(`${url}/_stats`)).json();

/** CPU seconds (user + system) in a `/_stats` answer. */
export const cpuSeconds = (s) => (s.cpu.user + s.cpu.system) / 1e6;

/** Waits until the server's client has nothing queued or in flight (the mock acknowledged it all). */
const drained = async (url) => {
  for (let i = 0; i < 100; i++) {
    const s = await serverStats(url);
    if (!s.capi || s.capi.queued + s.capi.inFlight === 0) return s;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return serverStats(url);
};

const measure = async (server, mock, job) => {
  await mock.reset(); // the mock keeps every event it accepts: forget them between runs
  const s0 = await serverStats(server.url);
  const m0 = processCpuSeconds(mock.pid);
  const busy0 = machineBusySeconds();
  const own0 = process.cpuUsage();
  const t0 = performance.now();
  const result = await runLoad({ ...job, url: `${server.url}/` });
  const seconds = (performance.now() - t0) / 1000;
  const own = process.cpuUsage(own0);
  const busy = machineBusySeconds() - busy0;
  const s1 = await serverStats(server.url);
  const m1 = processCpuSeconds(mock.pid);
  await drained(server.url);
  const serverSeconds = cpuSeconds(s1) - cpuSeconds(s0);
  const mockSeconds = m1 - m0;
  // Everything else the machine did meanwhile (other jobs): what makes a run unfair.
  const otherSeconds =
    busy - serverSeconds - mockSeconds - result.cpuSeconds - (own.user + own.system) / 1e6;
  return {
    ...result,
    serverUsPerRequest: (serverSeconds * 1e6) / result.requests,
    cpu: {
      server: serverSeconds / seconds,
      load: result.cpuSeconds / seconds,
      mock: mockSeconds / seconds,
      other: Math.max(0, otherSeconds / seconds),
    },
  };
};

/** Other jobs using more than this many cores during a run make its round count as contended. */
const CONTENDED_CORES = 0.25;

/**
 * `rounds` rounds of every contender (the first one rotates). A round during which other jobs used
 * more than CONTENDED_CORES is run again (at most `rounds` times in all) after waiting for a quiet
 * machine; past that budget it is kept, and the CPU columns show it.
 */
const runRounds = async (rounds, servers, mock, job, quietTimeoutMs) => {
  const results = Object.fromEntries(VARIANTS.map((v) => [v, []]));
  let redone = 0;
  for (let round = 0; round < rounds; ) {
    await waitForQuiet({ maxCores: CONTENDED_CORES, timeoutMs: quietTimeoutMs });
    const order = VARIANTS.map((_, i) => VARIANTS[(i + round) % VARIANTS.length]);
    const r = {};
    for (const v of order) r[v] = await measure(servers[v], mock, { ...job, headers: HEADERS[v] });
    if (Object.values(r).some((x) => x.cpu.other > CONTENDED_CORES) && redone < rounds) {
      redone++;
      continue;
    }
    for (const v of VARIANTS) results[v].push(r[v]);
    round++;
  }
  return { results, redone };
};

/** One GET / through node:http (which sends `host` as given); resolves with its Set-Cookie values. */
const getSetCookies = async (server, headers) => {
  const { hostname, port } = new URL(server.url);
  const http = await import('node:http');
  return new Promise((resolve, reject) => {
    http
      .get({ hostname, port, path: '/', headers }, (res) => {
        res.resume();
        res.once('end', () => resolve(res.headers['set-cookie'] ?? []));
      })
      .once('error', reject);
  });
};

/** One request through the real stack, to check that the context is complete (and the cookies set). */
const checkContext = async (server, mock) => {
  await mock.reset();
  const setCookies = await getSetCookies(server, BROWSER_HEADERS);
  await drained(server.url);
  const events = await (await fetch(`${mock.url}/_mock/events`)).json();
  const event = events.at(-1)?.event ?? events.at(-1);
  const u = event?.user_data ?? {};
  const missing = ['client_ip_address', 'client_user_agent', 'fbp', 'fbc'].filter((k) => !u[k]);
  if (!event?.event_source_url) missing.push('event_source_url');
  if (u.client_ip_address !== '203.0.113.7') missing.push('client_ip_address=203.0.113.7');
  if (missing.length > 0 || setCookies.length !== 2) {
    throw new Error(
      `context check failed: missing ${missing.join(', ')}; Set-Cookie ${JSON.stringify(setCookies)}; event ${JSON.stringify(event)}`,
    );
  }
  return { event, setCookies };
};

const MOUNTED_NOTE =
  "Mounted, no track: the middleware without a `track()`, loaded with a returning visitor's `fetch()` from the page (`_fbp` known, no `fbclid`: no cookie to set), so the request context is deferred and never computed: what API calls and assets pay in a real app. Plain is measured with the navigation headers.";

/** The `mounted` server on a returning visitor's fetch(): no cookie to set and nothing tracked. */
const checkUntracked = async (server, mock) => {
  await mock.reset();
  const setCookies = await getSetCookies(server, SUBREQUEST_HEADERS);
  const s = await drained(server.url);
  const events = await (await fetch(`${mock.url}/_mock/events`)).json();
  if (setCookies.length > 0 || events.length > 0 || s.capi.sent > 0) {
    throw new Error(
      `mounted check failed: Set-Cookie ${JSON.stringify(setCookies)}, ${events.length} events`,
    );
  }
};

export const benchMiddleware = async ({
  quick = false,
  frameworks = ['express', 'fastify'],
} = {}) => {
  const plan = quick
    ? { warmSeconds: 1, rounds: 3, seconds: 3, pacedRounds: 2, pacedSeconds: 3, quietMs: 5000 }
    : { warmSeconds: 3, rounds: 5, seconds: 8, pacedRounds: 3, pacedSeconds: 6, quietMs: 30_000 };
  const connections = 100;
  const mock = await startMockProcess();
  const satRows = [];
  const pacedRows = [];
  const notes = [];
  try {
    for (const framework of frameworks) {
      const servers = {};
      for (const v of VARIANTS)
        servers[v] = await startServerProcess(SERVER, [framework, v, mock.url]);
      try {
        for (const v of TRACKING) await checkContext(servers[v], mock);
        await checkUntracked(servers.mounted, mock);
        for (const v of VARIANTS) {
          await runLoad({
            mode: 'saturate',
            url: `${servers[v].url}/`,
            connections,
            seconds: plan.warmSeconds,
            headers: HEADERS[v],
          });
        }
        const saturated = await runRounds(
          plan.rounds,
          servers,
          mock,
          { mode: 'saturate', connections, seconds: plan.seconds },
          plan.quietMs,
        );
        const sat = saturated.results;
        // 50 % load: half of the plain server's saturated throughput, the same rate for every contender.
        const rate = Math.round(median(sat.plain.map((r) => r.rps)) / 2);
        const pacedRuns = await runRounds(
          plan.pacedRounds,
          servers,
          mock,
          { mode: 'paced', rate, connections, seconds: plan.pacedSeconds },
          plan.quietMs,
        );
        const paced = pacedRuns.results;
        notes.push(
          `${framework}: ${saturated.redone} saturation and ${pacedRuns.redone} 50 %-load rounds run again because other jobs used > ${CONTENDED_CORES} core meanwhile.`,
        );

        for (const v of VARIANTS) {
          const runs = sat[v];
          const rps = summarize(runs.map((r) => r.rps));
          const ratio = summarize(runs.map((r, i) => r.rps / sat.plain[i].rps));
          const p99 = summarize(runs.map((r) => r.latency.p99));
          const p99Delta = summarize(runs.map((r, i) => r.latency.p99 - sat.plain[i].latency.p99));
          const cpu = (k) => median(runs.map((r) => r.cpu[k])).toFixed(2);
          satRows.push([
            framework,
            LABEL[v],
            fmtRange(rps, (n) => fmt(n, 0)),
            `${(rps.spread * 100).toFixed(1)} %`,
            v === 'plain' ? '1' : fmtRange(ratio, (n) => n.toFixed(3)),
            fmt(median(runs.map((r) => r.latency.p50))),
            fmtRange(p99),
            v === 'plain' ? '' : fmtRange(p99Delta),
            fmt(median(runs.map((r) => r.serverUsPerRequest)), 1),
            `${cpu('server')} / ${cpu('load')} / ${cpu('mock')} / ${cpu('other')}`,
            runs.reduce((n, r) => n + r.non2xx + r.errors + r.timeouts, 0),
          ]);
          const pr = paced[v];
          const pp99 = summarize(pr.map((r) => r.latency.p99));
          const pDelta = summarize(pr.map((r, i) => r.latency.p99 - paced.plain[i].latency.p99));
          const pcpu = (k) => median(pr.map((r) => r.cpu[k])).toFixed(2);
          pacedRows.push([
            framework,
            LABEL[v],
            fmt(rate, 0),
            fmt(median(pr.map((r) => r.rps)), 0),
            // How close the rate is to what this server serves at saturation: near 100 %, its
            // latency is queueing, whatever the target calls the load.
            `${Math.round((rate / rps.median) * 100)} %`,
            fmt(median(pr.map((r) => r.latency.p50))),
            fmtRange(pp99),
            v === 'plain' ? '' : fmtRange(pDelta),
            fmt(median(pr.map((r) => r.latency.p999))),
            fmt(median(pr.map((r) => r.serverUsPerRequest)), 1),
            `${pcpu('server')} / ${pcpu('load')} / ${pcpu('mock')} / ${pcpu('other')}`,
            pr.reduce((n, r) => n + r.non2xx + r.errors, 0),
          ]);
          if (TRACKING.includes(v)) {
            const name = `${framework} + ${LABEL[v]}`;
            recordTarget({
              figure: `${name}: throughput ratio at saturation`,
              value: fmtRange(ratio, (n) => n.toFixed(3)),
              target: '≥ 0.97',
              pass: ratio.median >= 0.97,
            });
            // A paced run that fell behind its rate measured a backlog, not the latency at 50 % load.
            const behind = [...pr, ...paced.plain].filter((r) => r.rps < 0.95 * rate).length;
            const why =
              rps.median < rate
                ? `not measurable: this server saturates at ${fmt(rps.median, 0)} req/s, below the 50 % rate`
                : `not measurable: ${behind} of ${pr.length * 2} paced runs fell below 95 % of the rate (machine overloaded)`;
            recordTarget({
              figure: `${name}: p99 added at 50 % load`,
              value: behind === 0 ? `${fmtRange(pDelta)} ms` : 'n/a',
              target: '≤ +1 ms',
              pass: behind === 0 && pDelta.median <= 1,
              note: behind === 0 ? undefined : why,
            });
            recordTarget({
              figure: `${name}: p99 added at saturation`,
              value: `${fmtRange(p99Delta)} ms`,
              target: '≤ +1 ms',
              pass: p99Delta.median <= 1,
            });
          }
        }
        for (const v of VARIANTS.slice(1)) {
          const s = await drained(servers[v].url);
          const { sent, dropped, deadLettered, retried } = s.capi;
          const lost = Object.values(dropped).reduce((a, b) => a + b, 0) + deadLettered;
          notes.push(
            `${framework} ${LABEL[v]}: ${fmt(sent, 0)} events delivered to the mock, ${lost} dropped or dead-lettered, ${retried} retried.`,
          );
        }
      } finally {
        for (const v of VARIANTS) await servers[v].stop();
      }
    }
  } finally {
    await mock.stop();
  }
  const cpuNote =
    "Cores: CPU used by the server / the load generator / the mock Graph API process / everything else on the machine (other jobs), median over the runs, out of 2. Server CPU µs/req is the server process's CPU time divided by the requests answered: the cost that does not depend on how the cores were shared.";
  printTable(
    `Middleware overhead at saturation (autocannon, ${connections} connections, ${plan.rounds} rounds × ${plan.seconds} s per contender, alternating; Node ${process.version})`,
    [
      'framework',
      'server',
      'req/s median (min–max)',
      'spread',
      'ratio vs plain (paired)',
      'p50 ms',
      'p99 ms median (min–max)',
      'p99 Δ ms (paired)',
      'server CPU µs/req',
      'cores: server / load / mock / other',
      'errors',
    ],
    satRows,
    `${cpuNote} ${MOUNTED_NOTE}\n\n${notes.join('\n')}`,
  );
  printTable(
    `Latency at 50 % load (open-loop paced client at half the plain server's saturated req/s, ${plan.pacedRounds} rounds × ${plan.pacedSeconds} s, alternating)`,
    [
      'framework',
      'server',
      'target req/s',
      'achieved req/s (median)',
      "rate ÷ this server's saturated req/s",
      'p50 ms',
      'p99 ms median (min–max)',
      'p99 Δ ms (paired)',
      'p99.9 ms',
      'server CPU µs/req',
      'cores: server / load / mock / other',
      'errors',
    ],
    pacedRows,
    `${cpuNote} ${MOUNTED_NOTE}`,
  );
};

if (import.meta.url === `file://${process.argv[1]}`) await benchMiddleware(benchArgs());
