// Shared bits of the benches: loading the built packages, the event used, stats, the tables (and
// what run.mjs writes to RESULTS.md), and child processes for servers.
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cpuPlan, describeCpus, pinHelper, pinMeasured } from './cpus.mjs';

/**
 * True when the module at `url` (its `import.meta.url`) is the script node was started with.
 * Compared as paths, not as `file://` + argv: a URL percent-encodes a space in the checkout's path.
 */
export const isMain = (url) =>
  process.argv[1] !== undefined && fileURLToPath(url) === resolve(process.argv[1]);

/**
 * The built @capi-kit/core. `CAPI_CORE=/path/to/index.mjs` points at another build (to compare two
 * builds, or while src/index.ts does not export the delivery client yet).
 */
export const loadCore = async () => {
  const core = await import(process.env.CAPI_CORE ?? '@capi-kit/core');
  if (typeof core.createCapi !== 'function') {
    throw new Error(
      '@capi-kit/core (dist) does not export createCapi: run `npm run build` after src/index.ts re-exports ./delivery/index.js, or set CAPI_CORE to a build that does.',
    );
  }
  return core;
};

/** A fully populated Purchase: every user_data key the engine hashes, plus IP, UA, fbp, fbc and contents. */
const EVENT_NAME = Buffer.from('"event_name"');

/**
 * The copy Node's `fetch` (undici, "extract a body") makes of a request body: a string UTF-8
 * encoded, a typed array's bytes copied with `ArrayBuffer.prototype.slice`. Not `Buffer.from` for
 * bytes: it took ten times as long as undici's copy in a process's first few hundred calls (2 ms
 * against 0.1 for a 700 kB batch, Node 26, December 2026).
 * @see https://github.com/nodejs/undici/blob/main/lib/web/fetch/body.js (extractBody)
 */
const extractBody = (body) =>
  typeof body === 'string'
    ? Buffer.from(body)
    : Buffer.from(body.buffer.slice(body.byteOffset, body.byteOffset + body.byteLength));

/**
 * A stub `fetch` that acknowledges every event at once, like Meta's 200 answer: for benches that
 * time the client, not the network. It charges the sender what a real `fetch` does with the body
 * (Fetch's "extract a body": a string is UTF-8 encoded, bytes are copied) and nothing of the
 * receiver's work: the events are counted in the bytes, which are never decoded. (It decoded
 * them until December 2026, which charged a client that hands `fetch` bytes, capi-kit, for
 * turning them back into text, and one that hands it a string for nothing.)
 */
export const okFetch = async (_url, init) => {
  const sent = extractBody(init.body);
  let events = 0;
  for (let at = sent.indexOf(EVENT_NAME); at !== -1; at = sent.indexOf(EVENT_NAME, at + 1))
    events++;
  return new Response(`{"events_received":${events},"fbtrace_id":"B"}`, {
    status: 200,
    headers: { 'content-type': 'application/json' },
  });
};

export const fullEvent = (i, nowMs) => ({
  event_name: 'Purchase',
  event_id: `order-${i}`,
  event_time: Math.floor(nowMs / 1000),
  action_source: 'website',
  event_source_url: 'https://shop.example.com/checkout/complete?step=3',
  user_data: {
    em: `Customer.${i}@Example.com`,
    ph: '+1 (650) 555-1212',
    fn: 'Mary',
    ln: 'Smith',
    ct: 'New York',
    st: 'NY',
    zp: '10001',
    country: 'US',
    external_id: `user-${i}`,
    client_ip_address: '2001:db8::1',
    client_user_agent:
      'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15',
    fbp: 'fb.1.1700000000000.1234567890',
    fbc: 'fb.1.1700000000000.IwAR2F4-dbP0l7Mn1IawQQGCINEz7PYXQvwjNwB_qa2ofrHyiLjcbCRxTDMgk',
  },
  custom_data: {
    currency: 'USD',
    value: 142.5,
    content_type: 'product',
    content_ids: ['SKU-1', 'SKU-2'],
    contents: [
      { id: 'SKU-1', quantity: 2, item_price: 50 },
      { id: 'SKU-2', quantity: 1, item_price: 42.5 },
    ],
    num_items: 3,
    order_id: `order-${i}`,
  },
});

/** Sorted-sample percentile. */
export const percentile = (sorted, p) =>
  sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];

export const mean = (values) => values.reduce((a, b) => a + b, 0) / values.length;

export const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

/** Median and spread of repeated measurements: `{ median, min, max, spread }`, spread = (max − min) / median. */
export const summarize = (values) => {
  const m = median(values);
  const min = Math.min(...values);
  const max = Math.max(...values);
  return { median: m, min, max, spread: m === 0 ? 0 : (max - min) / m, n: values.length };
};

/** `median (min–max)` with the given formatter. */
export const fmtRange = (s, f = (n) => fmt(n)) => `${f(s.median)} (${f(s.min)}–${f(s.max)})`;

/** Command-line flags shared by run.mjs and every bench run on its own: `--quick`, `--only=a,b`. */
export const benchArgs = (argv = process.argv.slice(2)) => {
  // Every bench entry parses its arguments first: the moment to move this process to the measured
  // CPU (bench/cpus.mjs), before anything is timed.
  cpuPlan();
  return parseBenchArgs(argv);
};

const parseBenchArgs = (argv) => ({
  quick: argv.includes('--quick'),
  only: argv
    .find((a) => a.startsWith('--only='))
    ?.slice('--only='.length)
    .split(',')
    .filter(Boolean),
});

/** Every table printed in this process, in order: run.mjs writes them to RESULTS.md. */
export const tables = [];
/** Every figure with a target, in order: run.mjs writes them first in RESULTS.md. */
export const targets = [];

/**
 * Records a figure against its target (shown in the console and in RESULTS.md's first table).
 * @param {{ figure: string, value: string, target: string, pass: boolean, note?: string }} t
 */
export const recordTarget = (t) => {
  targets.push(t);
  console.log(
    `${t.pass ? 'PASS' : 'MISS'}  ${t.figure}: ${t.value} (target ${t.target})${t.note ? `: ${t.note}` : ''}`,
  );
};

const markdownTable = (header, rows) => {
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => String(r[c]).length)));
  const line = (cells) =>
    `| ${cells.map((cell, c) => String(cell).padEnd(widths[c])).join(' | ')} |`;
  return [line(header), `| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`, ...rows.map(line)];
};

/** Prints rows (arrays of cells) as an aligned Markdown table, and keeps it for RESULTS.md. */
export const printTable = (title, header, rows, note) => {
  tables.push({ title, header, rows, note });
  console.log(`\n${title}\n`);
  for (const line of markdownTable(header, rows)) console.log(line);
  if (note) console.log(`\n${note}`);
};

/** The machine, for RESULTS.md: CPU model and count, memory, OS, Node. */
export const machine = () => {
  const cpus = os.cpus();
  return `${cpus.length} × ${cpus[0]?.model ?? 'unknown CPU'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB RAM, ${os.type()} ${os.release()}, Node ${process.version}`;
};

const NOTES_MARKER = '<!-- Notes below this line are kept when run.mjs rewrites this file. -->';

/**
 * RESULTS.md: machine, date, the targets table, then every table. Hand-written notes after
 * NOTES_MARKER in the existing file are kept.
 */
export const resultsMarkdown = ({ previous = '', command, seconds }) => {
  const at = previous.indexOf(NOTES_MARKER);
  const notes = at === -1 ? '' : previous.slice(at + NOTES_MARKER.length).trim();
  const out = [
    '# Bench results',
    '',
    `Written by \`${command}\` on ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC in ${Math.round(seconds)} s.`,
    '',
    `Machine: ${machine()}${commit() ? `. Commit: ${commit()} (plus the working tree)` : ''}. CPUs: ${describeCpus()}.`,
    '',
  ];
  if (targets.length > 0) {
    out.push('## Targets', '');
    out.push(
      ...markdownTable(
        ['figure', 'measured', 'target', 'result'],
        targets.map((t) => [
          t.figure,
          t.value,
          t.target,
          `${t.pass ? 'pass' : '**miss**'}${t.note ? ` (${t.note})` : ''}`,
        ]),
      ),
      '',
    );
  }
  for (const t of tables) {
    out.push(`## ${t.title}`, '', ...markdownTable(t.header, t.rows), '');
    if (t.note) out.push(t.note, '');
  }
  out.push(NOTES_MARKER, '', notes, '');
  return out.join('\n');
};

const commit = () => {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], {
      cwd: new URL('.', import.meta.url),
      stdio: ['ignore', 'pipe', 'ignore'],
    })
      .toString()
      .trim();
  } catch {
    return '';
  }
};

/** CPU seconds (user + system) a process has used so far, from /proc (Linux); NaN elsewhere. */
export const processCpuSeconds = (pid) => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may contain spaces) start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / clockTicks();
  } catch {
    return Number.NaN;
  }
};

let ticks;
const clockTicks = () => {
  if (ticks === undefined) {
    try {
      ticks = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
    } catch {
      ticks = 100;
    }
  }
  return ticks;
};

export const fmt = (n, digits = 2) =>
  n >= 1000 ? Math.round(n).toLocaleString('en-US') : n.toFixed(digits);

/**
 * Starts the mock Graph API in its own process (its bin), so its JSON parsing and validation do not
 * share the event loop with the client under test. Resolves with its URL and a stop function.
 */
export const startMockProcess = (args = []) =>
  startServerProcess(fileURLToPath(new URL('../packages/testing/dist/bin.mjs', import.meta.url)), [
    '--port',
    '0',
    '--quiet',
    ...args,
  ]);

/** Starts the null sink (bench/sink.mjs) in its own process. */
export const startSinkProcess = () =>
  startServerProcess(fileURLToPath(new URL('./sink.mjs', import.meta.url)), []);

/**
 * Servers started by {@link startServerProcess} and not yet exited. A bench that throws, exits or
 * is signalled before stopping them would leave them listening (the mock, a server under test),
 * holding this process's stderr and loading the machine under the next run: they get SIGTERM when
 * this process exits or gets SIGINT, SIGTERM or SIGHUP (re-raised afterwards, so the exit status
 * stays the signal's). SIGKILL leaves them.
 */
const running = new Set();
const stopRunning = () => {
  for (const child of running) child.kill('SIGTERM');
};
process.once('exit', stopRunning);
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.once(signal, () => {
    stopRunning();
    process.kill(process.pid, signal);
  });
}

/**
 * Starts a Node script that prints `listening on http://…` once it is ready; resolves with its URL,
 * pid, and a stop function (SIGTERM, then waits for the exit). `wrapper` runs Node under another
 * command (`['valgrind', '--tool=callgrind', …]`); its stderr is then kept for `stderr()` instead
 * of shown. `cpu`: `'measured'` for a server under test, `'helper'` (default) for the rest.
 */
export const startServerProcess = async (
  script,
  args,
  { nodeArgs = [], wrapper = [], cpu = 'helper' } = {},
) => {
  const [command, ...prefix] = [...wrapper, process.execPath];
  const child = spawn(command, [...prefix, ...nodeArgs, script, ...args], {
    stdio: ['ignore', 'pipe', wrapper.length > 0 ? 'pipe' : 'inherit'],
  });
  // A server under test on the measured CPU, the mock and the sink beside it (bench/cpus.mjs).
  if (cpu === 'measured') pinMeasured(child.pid);
  else pinHelper(child.pid);
  running.add(child);
  let stderr = '';
  child.stderr?.on('data', (chunk) => {
    stderr += chunk;
  });
  // 'close', not 'exit': stderr may still be arriving when the process has exited.
  const exited = new Promise((resolve) => child.once('close', resolve));
  child.once('exit', () => running.delete(child));
  const url = await new Promise((resolve, reject) => {
    child.once('error', reject); // the command itself could not start (a missing wrapper)
    let out = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
      const match = /listening on (http\S+)/.exec(out);
      if (match) resolve(match[1]);
    });
    exited.then((code) =>
      reject(new Error(`${script} exited with ${code}${stderr && `:\n${stderr.slice(-2000)}`}`)),
    );
  });
  return {
    url,
    pid: child.pid,
    stderr: () => stderr,
    reset: () => fetch(`${url}/_mock/reset`, { method: 'POST' }).then((r) => r.arrayBuffer()),
    stop: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
};

/** CPU seconds the whole machine has spent busy since boot, from /proc/stat (Linux); NaN elsewhere. */
export const machineBusySeconds = () => {
  try {
    const [, ...fields] = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/);
    const [user, nice, system, , , irq, softirq, steal] = fields.map(Number);
    return (user + nice + system + irq + softirq + steal) / clockTicks();
  } catch {
    return Number.NaN;
  }
};

/**
 * Waits (up to `timeoutMs`) until the rest of the machine uses less than `maxCores` over a one
 * second window, so a run does not start while another job hogs the CPU. Resolves with the cores
 * the machine used in the last window.
 */
export const waitForQuiet = async ({ maxCores = 0.25, timeoutMs = 30_000 } = {}) => {
  const deadline = Date.now() + timeoutMs;
  let busy = Number.NaN;
  do {
    const b0 = machineBusySeconds();
    const own0 = process.cpuUsage();
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const own = process.cpuUsage(own0);
    busy = machineBusySeconds() - b0 - (own.user + own.system) / 1e6;
    if (!(busy >= maxCores)) return busy;
  } while (Date.now() < deadline);
  return busy;
};
