import { type ChildProcess, fork, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createCapi } from '@capi-kit/core';
import type { MockGraph } from '@capi-kit/testing';
import { Redis } from 'ioredis';
import {
  type BullmqOutboxOptions,
  bullmqOutbox,
  type CapiWorkerOptions,
  createCapiWorker,
} from '../../src/index.js';

/** A free loopback port (bound once by us, then released). */
export const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });

/**
 * A redis-server of our own (not the shared one on 6379): loopback, no RDB snapshots, an
 * append-only file in a temporary directory, fsynced on every write (`appendfsync always`), so a
 * restart (even after SIGKILL) finds every write Redis acknowledged. With the default `everysec`,
 * Redis postpones its AOF write (up to 2 s) while the previous fsync is still running and answers
 * anyway: on a loaded CI machine a kill -9 then lost 400 events of acknowledged jobs, which the
 * test read as capi-kit's loss (the README's "at most about a second of jobs").
 */
export const ownRedis = async () => {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'capi-redis-'));
  const url = `redis://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;
  const start = async () => {
    child = spawn(
      '/usr/bin/redis-server',
      [
        ...['--port', String(port), '--bind', '127.0.0.1', '--save', ''],
        ...['--appendonly', 'yes', '--appendfsync', 'always'],
      ],
      { cwd: dir, stdio: 'ignore' },
    );
    for (let tries = 0; ; tries++) {
      const probe = new Redis(url, {
        lazyConnect: true,
        maxRetriesPerRequest: 0,
        retryStrategy: () => null,
      });
      probe.on('error', () => {});
      try {
        await probe.connect();
        await probe.ping();
        return;
      } catch {
        if (tries > 100) throw new Error(`redis-server on ${port} did not start`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      } finally {
        probe.disconnect();
      }
    }
  };
  const kill = async () => {
    const dying = child;
    if (!dying || dying.exitCode !== null || dying.signalCode !== null) return;
    const gone = new Promise((resolve) => dying.once('exit', resolve));
    dying.kill('SIGKILL');
    await gone;
  };
  /** SIGSTOP / SIGCONT: Redis keeps its connections open and answers nothing meanwhile (a hung server). */
  const signal = (name: 'SIGSTOP' | 'SIGCONT') => {
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    child.kill(name);
  };
  await start();
  return {
    url,
    port,
    start,
    kill,
    stall: () => signal('SIGSTOP'),
    resume: () => signal('SIGCONT'),
    /** Stops the server and removes its directory. */
    stop: async () => {
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
};

const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

/** A forked fixture with its IPC messages collected. */
export const startChild = (name: string, args: string[]) => {
  const child = fork(fixture(name), args, {
    execArgv: [],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const messages: Record<string, unknown>[] = [];
  const listeners = new Set<() => void>();
  child.on('message', (message) => {
    messages.push(message as Record<string, unknown>);
    for (const listener of listeners) listener();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  /** Resolves with the first message (already received or future) that `match` accepts. */
  const waitFor = <T>(match: (m: Record<string, unknown>) => boolean, timeoutMs = 30_000) =>
    new Promise<T>((resolve, reject) => {
      const check = () => {
        const found = messages.find(match);
        if (!found) return false;
        listeners.delete(check);
        clearTimeout(timer);
        resolve(found as T);
        return true;
      };
      const timer = setTimeout(() => {
        listeners.delete(check);
        reject(new Error(`${name}: no such message in ${timeoutMs} ms`));
      }, timeoutMs);
      if (!check()) listeners.add(check);
      void exited.then(() => {
        if (check()) return;
        listeners.delete(check);
        clearTimeout(timer);
        reject(new Error(`${name} exited before the message`));
      });
    });
  return { child, messages, exited, waitFor };
};

/** Per event id, how many times the mock accepted it. */
export const deliveries = (mock: MockGraph): Map<string, number> => {
  const seen = new Map<string, number>();
  for (const { event } of mock.events()) {
    const id = String(event.event_id ?? '');
    seen.set(id, (seen.get(id) ?? 0) + 1);
  }
  return seen;
};

/** Polls until `done()` or `timeoutMs`; returns whether it became true. */
export const until = async (done: () => boolean, timeoutMs: number): Promise<boolean> => {
  const end = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > end) return false;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return true;
};

const PIXEL = '1234567890';
const TOKEN = 'worker-token';

/**
 * An app's producer on the mock: `createCapi` with `bullmqOutbox(options)`, the messages of its
 * error hook collected, and `track(label, count)` for `count` Lead events (one per address).
 */
export const producerWithErrors = (mock: MockGraph, options: BullmqOutboxOptions) => {
  const outbox = bullmqOutbox(options);
  const client = createCapi({
    pixelId: PIXEL,
    accessToken: TOKEN,
    graphUrl: mock.url,
    env: false,
    logger: false,
    outbox,
  });
  const errors: string[] = [];
  client.on('error', (info) => {
    errors.push(info.error.message);
  });
  const track = (label: string, count = 1) => {
    for (let i = 0; i < count; i++) {
      client.track({
        event_name: 'Lead',
        action_source: 'system_generated',
        user_data: { em: `${label}.${i}@example.com` },
      });
    }
  };
  return { client, outbox, errors, track };
};

/** What a worker's logger was told at level error. */
export type LoggedError = { msg: string; obj: Record<string, unknown> };

/**
 * A worker on the mock with its error log lines collected (other levels are dropped) and
 * `raw()`, how many times BullMQ's worker emitted `error`.
 */
export const workerWithErrors = (
  mock: MockGraph,
  options: Pick<CapiWorkerOptions, 'connection' | 'prefix'>,
) => {
  const lines: LoggedError[] = [];
  const worker = createCapiWorker({
    ...options,
    pixelId: PIXEL,
    accessToken: TOKEN,
    graphUrl: mock.url,
    env: false,
    logger: { debug() {}, info() {}, warn() {}, error: (obj, msg) => lines.push({ obj, msg }) },
  });
  let raw = 0;
  worker.worker.on('error', () => {
    raw++;
  });
  return { worker, lines, raw: () => raw };
};
