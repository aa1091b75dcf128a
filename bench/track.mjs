#!/usr/bin/env node
// track() cost per event on the request path: build + validate + normalize + hash 9 PII fields +
// serialize once + enqueue. Sends go to a stub fetch that answers at once, so the queue drains
// between rounds and what is timed is track() itself.
import {
  benchArgs,
  fmt,
  fullEvent,
  isMain,
  loadCore,
  mean,
  okFetch,
  percentile,
  printTable,
} from './lib.mjs';

export const benchTrack = async ({
  quick = false,
  events = quick ? 10_000 : 50_000,
  warmup = quick ? 2000 : 10_000,
  round = 1000,
} = {}) => {
  const core = await loadCore();
  const client = core.createCapi({
    pixelId: '1234567890',
    accessToken: 'EAAbenchTOKEN0123456789',
    fetch: okFetch,
    env: false,
    maxQueuedEvents: 1_000_000,
  });
  const now = Date.now();
  // Inputs are built before the clock starts: only the call itself is timed.
  let seq = 0;
  const time = (fn, n) => {
    const inputs = Array.from({ length: n }, () => fullEvent(seq++, now));
    const samples = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const input = inputs[i];
      const t0 = process.hrtime.bigint();
      fn(input);
      samples[i] = Number(process.hrtime.bigint() - t0) / 1000;
    }
    return samples;
  };
  const run = async (fn, n) => {
    const all = [];
    for (let done = 0; done < n; done += round) {
      all.push(...time(fn, Math.min(round, n - done)));
      // Let the engine send what it queued (off the measured path), like a server between requests.
      await new Promise((resolve) => setImmediate(resolve));
    }
    return all.sort((a, b) => a - b);
  };
  const trackOnce = (input) => {
    const result = client.track(input);
    if (!result.accepted) throw new Error(`not accepted: ${JSON.stringify(result.issues)}`);
  };
  const buildOnce = (input) => core.buildEvent(input, { now: Date.now });
  const built = core.buildEvent(fullEvent(0, now)).event;
  const stringifyOnce = () => JSON.stringify(built);
  // hrtime's own cost, to read the figures against.
  const emptyOnce = () => {};

  await run(trackOnce, warmup);
  await run(buildOnce, warmup);
  await run(stringifyOnce, warmup);
  const rows = [];
  for (const [name, fn] of [
    ['track() (full event)', trackOnce],
    ['buildEvent() alone', buildOnce],
    ['JSON.stringify(wire event)', stringifyOnce],
    ['(empty call: timer overhead)', emptyOnce],
  ]) {
    const s = await run(fn, events);
    rows.push([
      name,
      events,
      fmt(percentile(s, 50)),
      fmt(percentile(s, 99)),
      fmt(mean(s)),
      fmt(1e6 / mean(s), 0),
    ]);
  }
  await client.flush();
  const stats = client.stats();
  await client.close({ timeoutMs: 1000 });
  printTable(
    `track() cost per event (µs, single call timed with hrtime; Node ${process.version})`,
    ['operation', 'calls', 'p50 µs', 'p99 µs', 'mean µs', 'calls/s'],
    rows,
  );
  console.log(`\n(sent ${stats.sent}, dropped ${JSON.stringify(stats.dropped)})`);
  return rows;
};

if (isMain(import.meta.url)) await benchTrack(benchArgs());
