#!/usr/bin/env node
// The load generator of the middleware bench, in its own process (forked by middleware.mjs): it
// gets jobs over IPC, runs each, answers its result, and exits when its parent disconnects (one
// process for all runs: no start-up per run).
// - `saturate`: autocannon's API, closed loop (`connections` requests always outstanding).
// - `paced`: open loop at a fixed rate over raw keep-alive sockets. autocannon's own rate limit
//   sends each connection's per-second budget back to back at the start of every second, which
//   measures burst queueing rather than latency at that load, hence this.
// Latencies are kept as floats (autocannon's histogram rounds to whole milliseconds, too coarse for
// a +1 ms target) and summarized here.
import net from 'node:net';
import autocannon from 'autocannon';

const summarizeLatencies = (samples) => {
  const sorted = Float64Array.from(samples).sort();
  const at = (p) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
  let sum = 0;
  for (const v of sorted) sum += v;
  return {
    p50: at(50),
    p90: at(90),
    p99: at(99),
    p999: at(99.9),
    max: sorted[sorted.length - 1],
    mean: sum / sorted.length,
  };
};

const saturate = async ({ url, connections, seconds, headers }) => {
  const latencies = [];
  const instance = autocannon({
    url,
    connections,
    pipelining: 1,
    duration: seconds,
    headers,
  });
  instance.on('response', (_client, statusCode, _bytes, responseTime) => {
    if (statusCode >= 200 && statusCode < 300) latencies.push(responseTime);
  });
  const result = await instance;
  return {
    requests: latencies.length,
    rps: latencies.length / seconds,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    latency: summarizeLatencies(latencies),
  };
};

/**
 * Open loop at `rate` requests/s over raw keep-alive sockets (one request in flight per socket, up to
 * `connections` sockets): prebuilt request bytes and a minimal response parser, so the generator
 * keeps up with a fast server (node:http's client tops out near 10k req/s on one core). Latency runs
 * from the write to the end of the response, like autocannon's; how late the generator itself sent
 * (it shares the cores) is reported apart as `maxSendLagMs`, and a server that cannot keep up shows
 * as an achieved rate below the target.
 */
const paced = async ({ url, rate, seconds, headers, connections }) => {
  const { hostname, port, pathname, search } = new URL(url);
  const head = Object.entries(headers)
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('');
  const request = Buffer.from(`GET ${pathname}${search} HTTP/1.1\r\n${head}\r\n`, 'latin1');
  const total = Math.round(rate * seconds);
  const interval = 1000 / rate;
  const latencies = new Float64Array(total);
  let recorded = 0;
  let non2xx = 0;
  let errors = 0;
  let done = 0;
  let sent = 0;
  let maxSendLagMs = 0;
  const idle = [];
  const backlog = []; // due times of requests waiting for a socket
  let open = 0;
  let finish;
  const finished = new Promise((resolve) => {
    finish = resolve;
  });
  const settle = () => {
    if (++done === total) finish();
  };

  const send = (socket, due) => {
    const now = performance.now();
    maxSendLagMs = Math.max(maxSendLagMs, now - due);
    socket.sentAt = now;
    socket.write(request);
  };
  const release = (socket) => {
    const due = backlog.shift();
    if (due === undefined) idle.push(socket);
    else send(socket, due);
  };
  const connect = () => {
    open++;
    const socket = net.connect({ host: hostname, port: Number(port), noDelay: true });
    let buffered = Buffer.alloc(0);
    socket.on('connect', () => release(socket));
    socket.on('data', (chunk) => {
      buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
      // One response at a time per socket: status line, headers, Content-Length body.
      const end = buffered.indexOf('\r\n\r\n');
      if (end === -1) return;
      const header = buffered.toString('latin1', 0, end);
      const length = /\r\ncontent-length: *(\d+)/i.exec(header);
      if (!length) throw new Error(`paced client needs Content-Length responses: ${header}`);
      const size = end + 4 + Number(length[1]);
      if (buffered.length < size) return;
      buffered = buffered.subarray(size);
      const status = Number(header.slice(9, 12));
      if (status >= 200 && status < 300) latencies[recorded++] = performance.now() - socket.sentAt;
      else non2xx++;
      settle();
      release(socket);
    });
    socket.on('error', () => {
      errors++;
      if (socket.sentAt !== undefined) settle();
    });
    socket.on('close', () => {
      open--;
      const at = idle.indexOf(socket);
      if (at !== -1) idle.splice(at, 1);
    });
  };
  for (let i = 0; i < Math.min(16, connections); i++) connect();
  await new Promise((resolve) => setTimeout(resolve, 100));

  const start = performance.now();
  // Timers fire about every millisecond; each tick dispatches every request that is due by then.
  const tick = () => {
    const due = Math.min(total, Math.floor((performance.now() - start) / interval) + 1);
    while (sent < due) {
      const at = start + sent++ * interval;
      const socket = idle.pop();
      if (socket) send(socket, at);
      else {
        backlog.push(at);
        if (open < connections) connect();
      }
    }
    if (sent < total) setTimeout(tick, 1);
  };
  tick();
  await finished;
  const elapsed = (performance.now() - start) / 1000;
  for (const socket of idle) socket.destroy();
  return {
    requests: recorded,
    rps: recorded / elapsed,
    non2xx,
    errors,
    timeouts: 0,
    maxSendLagMs,
    sockets: open,
    latency: summarizeLatencies(latencies.subarray(0, recorded)),
  };
};

process.on('message', async (job) => {
  const cpu0 = process.cpuUsage();
  const result = job.mode === 'paced' ? await paced(job) : await saturate(job);
  const cpu = process.cpuUsage(cpu0);
  process.send({ ...result, cpuSeconds: (cpu.user + cpu.system) / 1e6 });
});
process.once('disconnect', () => process.exit(0));
