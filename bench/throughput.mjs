#!/usr/bin/env node
// Delivery throughput: events/s from the client's queue to a Graph endpoint over loopback HTTP,
// 1000-event batches, global fetch. Two endpoints, each in its own process: the mock Graph API
// (parses and validates every event like Meta) and a null sink (reads the body, validates nothing:
// the client's own ceiling). Events are tracked first (timed separately), then delivered.
import {
  benchArgs,
  fmt,
  fullEvent,
  isMain,
  loadCore,
  median,
  printTable,
  startMockProcess,
  startSinkProcess,
} from './lib.mjs';

export const benchThroughput = async ({
  quick = false,
  events = quick ? 20_000 : 100_000,
  rounds = quick ? 2 : 3,
} = {}) => {
  const core = await loadCore();
  const rows = [];
  for (const [target, start] of [
    ['mock (validates)', startMockProcess],
    ['null sink', startSinkProcess],
  ]) {
    const server = await start();
    try {
      for (const concurrency of [1, 4]) {
        const rates = [];
        let trackUs = 0;
        let perRequest = 0;
        for (let r = 0; r < rounds; r++) {
          if (target.startsWith('mock')) await server.reset(); // the mock keeps every event it accepts
          const client = core.createCapi({
            pixelId: '1234567890',
            accessToken: 'EAAbenchTOKEN0123456789',
            graphUrl: server.url,
            env: false,
            maxBatchEvents: 1000,
            // A full event is ~1.4 KB, so 1000 of them exceed the 1 MiB default: lift it to get 1000-event batches.
            maxBatchBytes: 4 * 1024 * 1024,
            maxConcurrency: concurrency,
            maxQueuedEvents: events,
            maxQueuedBytes: 1024 * 1024 * 1024,
            flushIntervalMs: 60_000,
            timeoutMs: 30_000,
          });
          let requests = 0;
          client.on('sent', () => {
            requests++;
          });
          const now = Date.now();
          const inputs = Array.from({ length: events }, (_, i) => fullEvent(r * events + i, now));
          const t0 = performance.now();
          for (const input of inputs) client.track(input);
          // Sends start only now: track() is synchronous and batches go out on a microtask.
          const t1 = performance.now();
          while (client.stats().queued + client.stats().inFlight > 0) await client.flush();
          const t2 = performance.now();
          const stats = client.stats();
          await client.close({ timeoutMs: 1000 });
          if (stats.sent !== events) {
            throw new Error(`sent ${stats.sent} of ${events}: ${JSON.stringify(stats)}`);
          }
          rates.push(events / ((t2 - t1) / 1000));
          perRequest = events / requests;
          trackUs += ((t1 - t0) * 1000) / events / rounds;
        }
        rows.push([
          target,
          concurrency,
          events,
          rounds,
          fmt(median(rates), 0),
          `${fmt(Math.min(...rates), 0)}–${fmt(Math.max(...rates), 0)}`,
          fmt(perRequest, 0),
          fmt(trackUs),
        ]);
      }
    } finally {
      await server.stop();
    }
  }
  const bodyKiB =
    (JSON.stringify(core.buildEvent(fullEvent(0, Date.now())).event).length * 1000) / 1024;
  printTable(
    `Delivery throughput, 1000-event batches (~${Math.round(bodyKiB)} KiB bodies), global fetch over loopback, server in a child process; Node ${process.version}`,
    [
      'endpoint',
      'concurrency',
      'events/run',
      'runs',
      'deliver events/s (median)',
      'range',
      'events/request',
      'track µs/event',
    ],
    rows,
  );
  return rows;
};

if (isMain(import.meta.url)) await benchThroughput(benchArgs());
