#!/usr/bin/env node
// The client side of the outage bench (forked by outage.mjs with --expose-gc): tracks fully
// populated events at a steady rate into a client with default queue limits, and samples memory
// every `sampleMs`, plus the live heap (after a full GC) every `liveEveryMs`. The parent says which
// phase it is (baseline, outage, recovery) and when to stop; the samples go back over IPC.
import v8 from 'node:v8';
import { fullEvent, loadCore } from './lib.mjs';

let unhandled = 0;
process.on('unhandledRejection', () => {
  unhandled++;
});

const job = await new Promise((resolve) => process.once('message', resolve));
const core = await loadCore();
const client = core.createCapi({
  pixelId: '1234567890',
  accessToken: 'EAAbenchTOKEN0123456789',
  graphUrl: job.graphUrl,
  env: false,
});

let phase = 'baseline';
let tracked = 0;
const start = performance.now();
const samples = [];
const dropped = () => Object.values(client.stats().dropped).reduce((a, b) => a + b, 0);
// V8's young generation (new space) is committed memory that grows and shrinks with the allocation
// rate (up to 2 × 16 MiB semi-spaces on 64-bit Node 20): part of RSS that no queue limit governs.
const youngGeneration = () =>
  v8.getHeapSpaceStatistics().find((space) => space.space_name === 'new_space')?.space_size ?? 0;
const sample = (live) => {
  const m = process.memoryUsage();
  const s = client.stats();
  samples.push({
    t: (performance.now() - start) / 1000,
    phase,
    rss: m.rss,
    heapUsed: m.heapUsed,
    external: m.external,
    young: youngGeneration(),
    live,
    queued: s.queued,
    inFlight: s.inFlight,
    sent: s.sent,
    dropped: dropped(),
  });
};

// Steady rate: each tick tracks whatever is due since the start, so timer jitter does not change it.
const traffic = setInterval(() => {
  const due = Math.floor(((performance.now() - start) / 1000) * job.rate);
  const now = Date.now();
  while (tracked < due) client.track(fullEvent(tracked++, now));
}, 10);
const sampler = setInterval(() => sample(undefined), job.sampleMs);
const liveSampler = setInterval(() => {
  globalThis.gc();
  sample(process.memoryUsage().heapUsed);
}, job.liveEveryMs);

process.on('message', async (message) => {
  if (message.phase) {
    phase = message.phase;
    sample(undefined);
    return;
  }
  if (message.stop) {
    clearInterval(traffic);
    clearInterval(sampler);
    clearInterval(liveSampler);
    const before = client.stats();
    await client.close({ timeoutMs: 5000 });
    const after = client.stats();
    process.send(
      {
        samples,
        tracked,
        unhandled,
        before,
        after,
        accounted:
          after.sent + dropped() + after.deadLettered + after.queued + after.inFlight === tracked,
      },
      () => process.exit(0),
    );
  }
});
process.send({ ready: true });
