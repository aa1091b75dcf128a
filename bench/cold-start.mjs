// Cold start, part of the footprint bench: what a fresh process (a serverless cold start) pays to
// load capi-kit and to track its first event, next to Meta's Node SDK, on the running Node.
// - Import: a fresh `node` process per measurement times `await import(name)` (ESM) or
//   `require(name)` (CommonJS). An adapter is timed with its framework already loaded in that
//   process (the app loads its framework anyway), so only what the adapter adds is counted.
// - First event: a fresh process imports @capi-kit/core (not timed), then times `createCapi` +
//   `getRequestContext` of a first visit from an ad on a `.co.uk` host (cookies to write: the
//   registrable-domain lookup) + `track()` of a Purchase whose phone number is in national format
//   (the numbering-plan parser), and on until the batch body reaches `fetch` (a stub).
// Contenders alternate within each round (the first one rotates); medians with min–max.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { fmt, fmtRange, printTable, recordTarget, summarize } from './lib.mjs';

const BENCH = fileURLToPath(new URL('.', import.meta.url));
const SDK = 'facebook-nodejs-business-sdk';
const IMPORT_TARGET_MS = 20;

/** What is timed, and what the process loads first (untimed): the framework the adapter plugs into. */
export const MODULES = [
  { name: 'node:path', label: 'node:path (baseline: an empty import)', preload: [] },
  { name: '@capi-kit/core', preload: [], target: true },
  { name: '@capi-kit/express', preload: ['express'], target: true },
  { name: '@capi-kit/fastify', preload: ['fastify'], target: true },
  {
    name: '@capi-kit/nestjs',
    preload: ['reflect-metadata', '@nestjs/common', '@nestjs/core', 'rxjs'],
    target: true,
  },
  { name: '@capi-kit/next', preload: ['next/server.js'], target: true },
  { name: '@capi-kit/outbox-sqlite', preload: [] },
  { name: '@capi-kit/outbox-bullmq', preload: [] },
  { name: SDK, preload: [] },
];
export const SYSTEMS = ['esm', 'cjs'];

// Page faults beside the time: on the virtual machines these benches run on, a fault costs about
// 11 µs (a C loop touching fresh pages), so what an import touches weighs as much as what it runs
// (docs/architecture.md, fourteenth session). The count hardly depends on the machine's load.
const faults = 'process.resourceUsage().minorPageFault';
// Both are read once before the span (`performance` loads lazily, ~65 faults), and both results
// are taken before `process.stdout` is touched: its first use sets the stream up (~5 ms, ~250
// faults), which the span must not hold.
const span = (load) => `performance.now(); ${faults};
const f = ${faults};
const t = performance.now();
${load}
const ms = performance.now() - t;
const added = ${faults} - f;
process.stdout.write(JSON.stringify({ ms, faults: added }));`;
const esmImport = ({ name, preload }) =>
  `for (const p of ${JSON.stringify(preload)}) await import(p);
${span(`await import(${JSON.stringify(name)});`)}`;
const cjsRequire = ({ name, preload }) =>
  `for (const p of ${JSON.stringify(preload)}) require(p);
${span(`require(${JSON.stringify(name)});`)}`;

/** The first event's script, after `core` is loaded (`await import` or `require`). */
const firstEventBody = `
const t0 = performance.now();
let sentAt;
const capi = core.createCapi({
  pixelId: '1234567890',
  accessToken: 'EAAbenchTOKEN0123456789',
  env: false,
  fetch: async () => {
    sentAt ??= performance.now();
    return new Response('{"events_received":1,"fbtrace_id":"A"}', {
      status: 200,
      headers: { 'content-type': 'application/json' },
    });
  },
});
const context = core.getRequestContext(
  {
    method: 'GET',
    url: '/landing?fbclid=IwAR2F4-dbP0l7Mn1IawQQGCINEz7PYXQvwjNwB_qa2ofrHyiLjcbCRxTDMgk',
    headers: {
      host: 'shop.example.co.uk',
      'user-agent': 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
      accept: 'text/html',
      'sec-fetch-dest': 'document',
      'sec-fetch-mode': 'navigate',
      'x-forwarded-for': '203.0.113.7',
      'x-forwarded-proto': 'https',
    },
    remoteAddress: '127.0.0.1',
  },
  { trustProxy: 'loopback' },
);
const result = capi.track(
  {
    event_name: 'Purchase',
    user_data: { em: 'Mary.Smith@Example.com', ph: '030 1234567', country: 'DE' },
    custom_data: { value: 42.5, currency: 'EUR' },
  },
  { context },
);
const tracked = performance.now();
await capi.flush();
const out = {
  trackMs: tracked - t0,
  sentMs: sentAt - t0,
  accepted: result.accepted,
  issues: result.issues.map((i) => i.code ?? i.message),
  cookies: context.cookiesToSet.map((c) => c.header.split(';').find((a) => /domain=/i.test(a))?.trim()),
};
await capi.close({ timeoutMs: 1000 });
process.stdout.write(JSON.stringify(out));`;

const firstEvent = (system) =>
  system === 'esm'
    ? `const core = await import('@capi-kit/core');${firstEventBody}`
    : `(async () => { const core = require('@capi-kit/core');${firstEventBody} })();`;

const runNode = (system, script) =>
  JSON.parse(
    execFileSync(
      process.execPath,
      system === 'esm' ? ['--input-type=module', '-e', script] : ['-e', script],
      { cwd: BENCH },
    ).toString(),
  );

/** Runs every measurement `rounds` times, alternating; prints the table and records the targets. */
export const coldStart = async ({ quick = false } = {}) => {
  const rounds = process.env.COLD_ROUNDS ? Number(process.env.COLD_ROUNDS) : quick ? 7 : 11;
  const jobs = [
    ...MODULES.flatMap((m) =>
      SYSTEMS.map((system) => ({
        key: `${m.name}/${system}`,
        run: () => runNode(system, (system === 'esm' ? esmImport : cjsRequire)(m)),
      })),
    ),
    ...SYSTEMS.map((system) => ({
      key: `first-event/${system}`,
      run: () => runNode(system, firstEvent(system)),
    })),
  ];
  const samples = Object.fromEntries(jobs.map((j) => [j.key, []]));
  for (let round = 0; round < rounds; round++) {
    for (let i = 0; i < jobs.length; i++) {
      const job = jobs[(i + round) % jobs.length];
      samples[job.key].push(job.run());
    }
  }
  const cell = (values) => fmtRange(summarize(values), (n) => fmt(n, 1));
  const rows = MODULES.map((m) => [
    m.label ?? m.name,
    m.preload.length > 0 ? m.preload.join(', ') : '',
    ...SYSTEMS.map((s) => cell(samples[`${m.name}/${s}`].map((x) => x.ms))),
    SYSTEMS.map((s) => summarize(samples[`${m.name}/${s}`].map((x) => x.faults)).median).join(
      ' / ',
    ),
  ]);
  const first = Object.fromEntries(SYSTEMS.map((s) => [s, samples[`first-event/${s}`]]));
  for (const s of SYSTEMS) {
    const bad = first[s].find((x) => !x.accepted || x.issues.length > 0 || !(x.sentMs > 0));
    if (bad) throw new Error(`first-event check failed (${s}): ${JSON.stringify(bad)}`);
  }
  rows.push(
    [
      'first event after importing @capi-kit/core: `createCapi` + `getRequestContext` + `track()`',
      '@capi-kit/core',
      ...SYSTEMS.map((s) => cell(first[s].map((x) => x.trackMs))),
      '',
    ],
    [
      'first event, on until its batch body reaches `fetch` (`flush()`)',
      '@capi-kit/core',
      ...SYSTEMS.map((s) => cell(first[s].map((x) => x.sentMs))),
      '',
    ],
  );
  printTable(
    `Cold start (a fresh \`node\` process per figure, ${rounds} each, alternating; Node ${process.version})`,
    [
      'module',
      'loaded first (untimed)',
      'ESM `import()` ms',
      'CJS `require()` ms',
      'page faults (ESM / CJS)',
    ],
    rows,
    `Medians (min–max) over ${rounds} fresh processes; page faults are the median count of minor faults during the import (\`process.resourceUsage()\`), each about 11 µs on the machines of December 2026. An adapter is timed with its framework already loaded in the same process (the "loaded first" column): an app loads its framework anyway, so the figure is what the adapter adds, @capi-kit/core included. The first-event rows time, in a process that has just imported @capi-kit/core, the first Purchase tracked with a national-format phone number (\`030 1234567\`, DE: a shape the fast path leaves to libphonenumber-js) and the request context of a first visit from an ad on \`shop.example.co.uk\` (cookies to write: the registrable-domain lookup): what the first request pays for dependencies loaded when first needed; \`fetch\` is a stub. The cookies it set carry \`${first.esm[0].cookies.join(', ')}\`.`,
  );
  for (const m of MODULES.filter((x) => x.target)) {
    for (const s of SYSTEMS) {
      const ms = summarize(samples[`${m.name}/${s}`].map((x) => x.ms));
      recordTarget({
        figure: `Cold ${s === 'esm' ? 'ESM import()' : 'CJS require()'} of ${m.name}${m.preload.length > 0 ? ` (${m.preload.at(-1) === 'rxjs' ? 'Nest' : m.preload[0].split('/')[0]} loaded)` : ''}`,
        value: `${fmtRange(ms, (n) => fmt(n, 1))} ms`,
        target: `≤ ${IMPORT_TARGET_MS} ms`,
        pass: ms.median <= IMPORT_TARGET_MS,
      });
    }
  }
  return samples;
};
