import { type ChildProcess, fork } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type MockGraph, startMockGraph } from '@capi-kit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deleteKeys, needsRedis, requireRedis, uniquePrefix, waitFor } from './helpers.js';

const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
const DIST = fileURLToPath(new URL('../dist/index.mjs', import.meta.url));
const EVENTS = 20_000;

interface WorkerMessage {
  type: 'ready' | 'active' | 'completed' | 'stats';
  id?: string;
  events?: number;
  stats?: { rerun: number; rerunEvents: number; sent: number; completed: number };
}

describe('two producers, two workers, one worker SIGKILLed', needsRedis, () => {
  const url = needsRedis.skip ? '' : requireRedis();
  const prefix = uniquePrefix('multi');
  let mock: MockGraph;
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    if (!existsSync(DIST)) throw new Error('build first: the child processes run dist/');
    mock = await startMockGraph({ accessToken: 'EAAtest-token-0123456789' });
  });
  afterAll(async () => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
    await mock.close();
    await deleteKeys(url, prefix);
  });

  const start = (name: string, args: string[]) => {
    const child = fork(fixture(name), args, {
      execArgv: [],
      stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
    });
    child.stderr?.on('data', (chunk: Buffer) => process.stderr.write(chunk));
    child.once('exit', (code, signal) => {
      if (code !== 0 && signal !== 'SIGKILL')
        console.error(`[multi] ${name} exited with ${code ?? signal}`);
    });
    children.push(child);
    return child;
  };

  it(`delivers all ${EVENTS} events; duplicates only from jobs BullMQ re-ran after the kill`, async () => {
    // Meta answers after 80 ms but records the events on arrival: a worker killed while waiting
    // has delivered its job's events, and BullMQ runs that stalled job again.
    mock.outage({ kind: 'latency', latencyMs: 80 });
    const workers = [0, 1].map(() => start('worker.mjs', [url, prefix, mock.url]));
    const active = [0, 0];
    const completedEvents = [0, 0];
    const survivorMessages: WorkerMessage[] = [];
    workers.forEach((worker, n) => {
      worker.on('message', (message: WorkerMessage) => {
        if (message.type === 'active') active[n] = (active[n] ?? 0) + 1;
        if (message.type === 'completed') {
          active[n] = (active[n] ?? 0) - 1;
          completedEvents[n] = (completedEvents[n] ?? 0) + (message.events ?? 0);
        }
        if (n === 1) survivorMessages.push(message);
      });
    });

    const half = EVENTS / 2;
    const producers = [0, 1].map((n) =>
      start('producer.mjs', [url, prefix, mock.url, String(n * half), String(half)]),
    );
    const producerReports = producers.map(
      (child) =>
        new Promise<{
          producer: {
            enqueuedEvents: number;
            enqueuedJobs: number;
            fallbackEvents: number;
            mode: string;
          };
        }>((resolve) => child.once('message', resolve as never)),
    );

    // Kill worker 0 mid-run, while it has a job in flight.
    await waitFor(() => mock.events().length >= EVENTS / 5 && (active[0] ?? 0) > 0, 30_000);
    const deliveredBeforeKill = mock.events().length;
    const victim = workers[0] as ChildProcess;
    victim.kill('SIGKILL');
    const jobsInFlightAtKill = active[0];

    const reports = await Promise.all(producerReports);
    await waitFor(() => mock.uniqueEventIds().length >= EVENTS, 40_000);
    mock.recover();

    const survivor = workers[1] as ChildProcess;
    const statsMessage = new Promise<WorkerMessage>((resolve) =>
      survivor.on('message', (m: WorkerMessage) => {
        if (m.type === 'stats') resolve(m);
      }),
    );
    survivor.send('close');
    const { stats } = await statsMessage;

    const duplicates = mock.duplicates();
    const extraDeliveries = duplicates.reduce((sum, d) => sum + d.count - 1, 0);
    const enqueuedJobs = reports.reduce((sum, r) => sum + r.producer.enqueuedJobs, 0);
    console.log(
      `[multi] ${EVENTS} events from 2 producers in ${enqueuedJobs} jobs (modes: ${reports.map((r) => r.producer.mode).join(', ')}); ` +
        `worker 0 SIGKILLed after ${deliveredBeforeKill} events arrived, with ${jobsInFlightAtKill} job(s) in flight; ` +
        `survivor re-ran ${stats?.rerun} stalled job(s) holding ${stats?.rerunEvents} events; ` +
        `duplicates: ${duplicates.length} event_ids, ${extraDeliveries} extra deliveries; ` +
        `events delivered by worker 0 / worker 1: ${completedEvents[0]} (acknowledged before the kill) / ${stats?.sent}; ` +
        `producers' fallback: ${reports.map((r) => r.producer.fallbackEvents).join(', ')}`,
    );

    // Every event went to Redis or, when a write was too slow (a loaded machine), to the producer's
    // in-memory fallback, which that process delivered itself before its close() resolved.
    for (const { producer } of reports) {
      expect(producer.enqueuedEvents + producer.fallbackEvents).toBe(half);
    }
    const fallbackEvents = reports.reduce((sum, r) => sum + r.producer.fallbackEvents, 0);
    const ids = new Set(mock.uniqueEventIds());
    expect(ids.size).toBe(EVENTS);
    for (let i = 0; i < EVENTS; i++) {
      if (!ids.has(`mp-${i}`)) throw new Error(`mp-${i} never arrived`);
    }
    // Duplicates come from jobs re-run after the kill, and from a write given up as too slow that
    // still reached Redis (its events are then the fallback's and a worker's).
    expect(extraDeliveries).toBeLessThanOrEqual((stats?.rerunEvents ?? 0) + fallbackEvents);
  });
});
