import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type MockGraph, startMockGraph } from '@capi-kit/testing';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  freePort,
  ownRedis,
  producerWithErrors,
  startChild,
  until,
  workerWithErrors,
} from './helpers.js';

// Redis refusing writes (out of memory, here `maxmemory 1` on a redis-server of our own) while a
// worker has jobs: BullMQ emits `error` on every retry of its Redis calls, and the worker logged
// each one, a line or more per second for as long as the fault lasted.

let mock: MockGraph;
let redis: Awaited<ReturnType<typeof ownRedis>>;
beforeAll(async () => {
  mock = await startMockGraph();
  redis = await ownRedis();
});
afterAll(async () => {
  await mock?.close();
  await redis?.stop();
  for (const dir of scratchDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A temporary directory for a redis-server of a test's own (its files stay out of the package). */
const scratchDirs: string[] = [];
const scratchDir = (): string => {
  const dir = mkdtempSync(join(tmpdir(), 'capi-redis-'));
  scratchDirs.push(dir);
  return dir;
};

it("Redis out of memory: BullMQ's repeated error is logged once, and its repeats are counted in one line at close", async () => {
  const prefix = `capi-oom-${Date.now().toString(36)}`;
  const { worker, lines, raw } = workerWithErrors(mock, { connection: redis.url, prefix });
  const { client, track } = producerWithErrors(mock, { connection: redis.url, prefix });
  const admin = new Redis(redis.url);
  try {
    track('before', 20);
    await client.flush();
    expect(await until(() => mock.events().length === 20, 30_000)).toBe(true);
    await admin.config('SET', 'maxmemory-policy', 'noeviction');
    await admin.config('SET', 'maxmemory', '1');
    // BullMQ retries on its own; wait for several of its errors, however fast the machine is.
    expect(await until(() => raw() >= 3, 60_000)).toBe(true);
    const workerErrors = () =>
      lines.filter((l) => l.msg.startsWith('capi-kit worker: worker error'));
    expect(workerErrors()).toHaveLength(1);
    expect(workerErrors()[0]?.obj.error).toMatch(/^OOM command not allowed/);
    // What to change, beside Redis's own words.
    expect(workerErrors()[0]?.obj.fix).toMatch(/raise its maxmemory/);
    await admin.config('SET', 'maxmemory', '0');
    await worker.close({ timeoutMs: 5000 });
    const told = workerErrors();
    expect(told).toHaveLength(2);
    const counted = raw() - 1;
    expect(told[1]?.msg).toBe(
      `capi-kit worker: worker error (repeated ${counted} more times since it was logged)`,
    );
    expect(told[1]?.obj).toMatchObject({ repeats: counted, error: told[0]?.obj.error });
  } finally {
    admin.disconnect();
    await worker.close({ timeoutMs: 1000 });
    await client.close({ timeoutMs: 1000 });
  }
}, 120_000);

// BullMQ retries a job fetch that Redis refuses with a reply (OOM, READONLY, NOPERM) at once, with
// no delay (its `runRetryDelay` is for connection errors only): a worker on a full Redis with a
// backlog (the usual way to fill it) sent it thousands of scripts a second, at full CPU, for as
// long as the fault lasted.
it('Redis out of memory with jobs waiting: the worker backs off instead of fetching in a hot loop, and delivers once Redis takes writes again', async () => {
  const prefix = `capi-oom-loop-${Date.now().toString(36)}`;
  const { client, track } = producerWithErrors(mock, { connection: redis.url, prefix });
  const admin = new Redis(redis.url);
  const before = mock.events().length;
  track('backlog', 5);
  await client.flush();
  expect(client.stats().queued).toBe(0);
  await admin.config('SET', 'maxmemory-policy', 'noeviction');
  await admin.config('SET', 'maxmemory', '1');
  const { worker, raw } = workerWithErrors(mock, { connection: redis.url, prefix });
  try {
    expect(await until(() => raw() > 0, 30_000)).toBe(true);
    const first = raw();
    await new Promise((resolve) => setTimeout(resolve, 3000));
    // 1 s, 2 s, … between fetches: a few errors, not thousands.
    expect(raw() - first).toBeLessThan(20);
    await admin.config('SET', 'maxmemory', '0');
    expect(await until(() => mock.events().length === before + 5, 30_000)).toBe(true);
  } finally {
    await admin.config('SET', 'maxmemory', '0').catch(() => {});
    admin.disconnect();
    await worker.close({ timeoutMs: 1000 });
    await client.close({ timeoutMs: 1000 });
  }
}, 120_000);

// The backoff pauses the worker and resumes it when its wait is over: an app that paused the
// worker itself meanwhile (worker.worker.pause(), say for maintenance) found it fetching again.
it('an app that pauses the worker during a refusal backoff keeps it paused when the backoff ends', async () => {
  const prefix = `capi-oom-app-pause-${Date.now().toString(36)}`;
  const { client, track } = producerWithErrors(mock, { connection: redis.url, prefix });
  const admin = new Redis(redis.url);
  const before = mock.events().length;
  track('app.pause');
  await client.flush();
  await admin.config('SET', 'maxmemory-policy', 'noeviction');
  await admin.config('SET', 'maxmemory', '1');
  const { worker, raw } = workerWithErrors(mock, { connection: redis.url, prefix });
  try {
    expect(await until(() => raw() > 0, 30_000)).toBe(true);
    await worker.worker.pause();
    await admin.config('SET', 'maxmemory', '0');
    // Past the first backoff waits (1 s, then 2 s).
    await new Promise((resolve) => setTimeout(resolve, 3500));
    expect(worker.worker.isPaused()).toBe(true);
    expect(mock.events().length).toBe(before);
    await worker.worker.resume();
    expect(await until(() => mock.events().length === before + 1, 30_000)).toBe(true);
  } finally {
    await admin.config('SET', 'maxmemory', '0').catch(() => {});
    admin.disconnect();
    await worker.close({ timeoutMs: 1000 });
    await client.close({ timeoutMs: 1000 });
  }
}, 120_000);

// A Redis that answers but refuses the producer's write was reported as "unreachable … Check
// Redis.", which sent the operator looking for a network fault: the message names the refusal and
// what to change, and the events still go to the fallback and are delivered.
it.each([
  {
    fault: 'out of memory',
    set: (admin: Redis) => admin.config('SET', 'maxmemory', '1'),
    reset: (admin: Redis) => admin.config('SET', 'maxmemory', '0'),
    url: () => redis.url,
    says: /^Redis at 127\.0\.0\.1:\d+ is out of memory \(OOM .*\): 2 event\(s\) .* raise its maxmemory, or add workers to drain the queue/,
  },
  {
    fault: 'a read-only replica',
    set: (admin: Redis) => admin.call('REPLICAOF', '127.0.0.1', '1'),
    reset: (admin: Redis) => admin.call('REPLICAOF', 'NO', 'ONE'),
    url: () => redis.url,
    says: /^Redis at 127\.0\.0\.1:\d+ is a read-only replica \(READONLY .*\): .* point `connection` at the primary/,
  },
  {
    fault: 'a password it was not given',
    set: (admin: Redis) => admin.config('SET', 'requirepass', 'sekret'),
    reset: (admin: Redis) => admin.config('SET', 'requirepass', ''),
    url: () => redis.url,
    says: /^Redis at 127\.0\.0\.1:\d+ refused the connection's credentials \(not connected: NOAUTH .*\): .* Put the password \(and user\) in `connection`/,
  },
  {
    fault: 'a wrong password',
    set: (admin: Redis) => admin.config('SET', 'requirepass', 'sekret'),
    reset: (admin: Redis) => admin.config('SET', 'requirepass', ''),
    url: () => `redis://:wrong@127.0.0.1:${redis.port}`,
    says: /^Redis at 127\.0\.0\.1:\d+ refused the connection's credentials \(not connected: WRONGPASS .*\): .* Put the password \(and user\) in `connection`/,
  },
  {
    fault: 'an ACL user without the commands',
    set: (admin: Redis) =>
      admin.call('ACL', 'SETUSER', 'reader', 'on', '>pw', '~*', '+@read', '+@connection', '+info'),
    reset: (admin: Redis) => admin.call('ACL', 'DELUSER', 'reader'),
    url: () => `redis://reader:pw@127.0.0.1:${redis.port}`,
    says: /^Redis at 127\.0\.0\.1:\d+ refused a command to this user \(NOPERM .*\): .* Grant the ACL user BullMQ's commands/,
  },
])(
  'Redis refusing the write ($fault): the producer says what to change, and the fallback delivers the events',
  async ({ set, reset, url, says }) => {
    const admin = new Redis(redis.url);
    const before = mock.events().length;
    await set(admin);
    const { client, errors, track } = producerWithErrors(mock, {
      connection: url(),
      prefix: `capi-refused-${Date.now().toString(36)}`,
    });
    try {
      track('refused', 2);
      await client.flush();
      expect(errors).toHaveLength(1);
      expect(errors[0]).toMatch(says);
      expect(errors[0]).not.toMatch(/unreachable|wrong|sekret/);
      expect(await until(() => mock.events().length === before + 2, 30_000)).toBe(true);
    } finally {
      await client.close({ timeoutMs: 1000 });
      await reset(admin);
      admin.disconnect();
    }
  },
);

// A password rotated on the server (ACL SETUSER) takes effect at the producer's next login. A write
// in flight when its connection dropped waited for a reconnection Redis refused (WRONGPASS), timed
// out, and was reported as "unreachable (addBulk took longer than …) … Check Redis.", which sent
// the operator looking for a network fault instead of the password.
it('a rotated password and a connection dropped under a write: the producer names the refused credentials, and the events are counted and delivered', async () => {
  const admin = new Redis(redis.url);
  await admin.call('ACL', 'SETUSER', 'rotated', 'on', '>old-pw', '~*', '&*', '+@all');
  const before = mock.events().length;
  const { client, outbox, errors, track } = producerWithErrors(mock, {
    connection: `redis://rotated:old-pw@127.0.0.1:${redis.port}`,
    prefix: `capi-rotated-${Date.now().toString(36)}`,
    writeTimeoutMs: 1000,
  });
  try {
    track('before', 2);
    await client.flush();
    expect(outbox.producerStats().enqueuedEvents).toBe(2);
    // Redis holds the next write; meanwhile the password changes and the connection drops.
    await admin.call('CLIENT', 'PAUSE', '5000', 'WRITE');
    track('held');
    const flushed = client.flush();
    await until(() => outbox.producerStats().writing === 1, 5000);
    await admin.call('ACL', 'SETUSER', 'rotated', 'resetpass', '>new-pw');
    await admin.call('CLIENT', 'KILL', 'USER', 'rotated');
    await admin.call('CLIENT', 'UNPAUSE');
    await flushed;
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(
      /^Redis at 127\.0\.0\.1:\d+ refused the connection's credentials \(.*WRONGPASS .*\): 1 event\(s\) .* Put the password \(and user\) in `connection`/,
    );
    expect(errors[0]).not.toMatch(/unreachable|Check Redis|old-pw|new-pw/);
    // Each event once: two in Redis, the held one in the fallback, which this process delivers.
    expect(outbox.producerStats()).toMatchObject({
      buffered: 0,
      writing: 0,
      enqueuedEvents: 2,
      fallbackEvents: 1,
    });
    expect(await until(() => mock.events().length === before + 1, 30_000)).toBe(true);
  } finally {
    await admin.call('CLIENT', 'UNPAUSE');
    await client.close({ timeoutMs: 1000 });
    await admin.call('ACL', 'DELUSER', 'rotated');
    admin.disconnect();
  }
});

// A worker whose login Redis refuses (requirepass set, no password given) said at close "close()
// did not end in time (is Redis reachable?)": Redis was reachable, refusing the login, and the
// operator went looking for a network fault. With its backoff holding it paused, close() did not
// end at all: BullMQ's graceful close waited on a connection that never logs in.
it('a worker refused its login: close() ends by its deadline and names the refusal, not reachability', async () => {
  const admin = new Redis(redis.url);
  await admin.config('SET', 'requirepass', 'sekret');
  const { worker, lines, raw } = workerWithErrors(mock, {
    connection: redis.url,
    prefix: `capi-noauth-${Date.now().toString(36)}`,
  });
  try {
    expect(await until(() => raw() > 0, 10_000)).toBe(true);
    const started = Date.now();
    await worker.close({ timeoutMs: 500 });
    expect(Date.now() - started).toBeLessThan(3000);
    const late = lines.filter((l) => l.msg.includes('close() did not end in time'));
    expect(late).toHaveLength(1);
    expect(late[0]?.msg).toMatch(
      /Redis at 127\.0\.0\.1:\d+ refused the connection's credentials \(NOAUTH\)/,
    );
    expect(late[0]?.msg).not.toMatch(/reachable/);
    expect(late[0]?.obj.fix).toMatch(/Put the password \(and user\) in `connection`/);
    expect(JSON.stringify(lines)).not.toMatch(/sekret/);
  } finally {
    await admin.config('SET', 'requirepass', '');
    admin.disconnect();
    await worker.close({ timeoutMs: 500 });
  }
});

// BullMQ needs `maxmemory-policy noeviction`: any other policy lets a full Redis evict queue keys,
// and the jobs' events vanish without a trace. BullMQ itself only prints a console.warn per
// connection (four for a producer and a worker), past the app's logger and hooks.
it('Redis with an eviction policy: the producer and the worker each say so once, through the logger and the error hook, with the setting to change', async () => {
  const admin = new Redis(redis.url);
  const prefix = `capi-evict-${Date.now().toString(36)}`;
  const said =
    /^Redis at 127\.0\.0\.1:\d+ has maxmemory-policy allkeys-lru: .*evicts .*lost.* set maxmemory-policy noeviction/;
  await admin.config('SET', 'maxmemory-policy', 'allkeys-lru');
  const { client, outbox, track } = producerWithErrors(mock, { connection: redis.url, prefix });
  const producerErrors: string[] = [];
  client.on('error', (info) => {
    producerErrors.push(`${info.kind}: ${info.error.message}`);
  });
  const { worker, lines: workerLines } = workerWithErrors(mock, { connection: redis.url, prefix });
  const workerErrors: string[] = [];
  worker.on('error', (info) => {
    workerErrors.push(`${info.kind}: ${info.error.message}`);
  });
  try {
    track('evict');
    await client.flush();
    expect(await until(() => producerErrors.length > 0 && workerErrors.length > 0, 10_000)).toBe(
      true,
    );
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(producerErrors).toHaveLength(1);
    expect(producerErrors[0]).toMatch(/^outbox: /);
    expect(producerErrors[0]?.slice('outbox: '.length)).toMatch(said);
    expect(workerErrors).toHaveLength(1);
    expect(workerErrors[0]?.slice('outbox: '.length)).toMatch(said);
    expect(workerLines.filter((line) => /maxmemory-policy/.test(line.msg))).toHaveLength(1);
    // Said, not refused: the events still go through the queue.
    expect(outbox.producerStats()).toMatchObject({ mode: 'redis', enqueuedEvents: 1 });
  } finally {
    await admin.config('SET', 'maxmemory-policy', 'noeviction');
    admin.disconnect();
    await worker.close({ timeoutMs: 1000 });
    await client.close({ timeoutMs: 1000 });
  }
});

// The worker called the app's logger bare: one that throws (a log stream closed under it) turned
// its eviction-policy report into an unhandled rejection, which ends a Node process by default,
// and its BullMQ error listener into a throw inside BullMQ's emitter. The producer and core's
// client already kept such a throw to themselves.
it('a worker whose logger throws: its report still reaches the error hook, and nothing ends the process', async () => {
  const admin = new Redis(redis.url);
  await admin.config('SET', 'maxmemory-policy', 'allkeys-lru');
  const child = startChild('throwing-logger-worker.mjs', [
    redis.url,
    `capi-throwing-logger-${Date.now().toString(36)}`,
    mock.url,
  ]);
  try {
    const { code, signal } = await child.exited;
    expect({ code, signal }).toEqual({ code: 0, signal: null });
    expect(child.messages).toHaveLength(1);
    expect(child.messages[0]?.told).toBe(1);
    expect(child.messages[0]?.calls).toBeGreaterThanOrEqual(1);
  } finally {
    child.child.kill('SIGKILL');
    await admin.config('SET', 'maxmemory-policy', 'noeviction');
    admin.disconnect();
  }
}, 30_000);

// A Redis restarted without persistence (or failed over to a replica behind, or flushed) comes
// back without the queue: the jobs the producer wrote before are gone, their events counted as
// enqueued, and nothing said so. BullMQ's job ids come from a counter in Redis, so a write whose
// ids start below the last one this producer got back is the trace of that loss.
it('Redis restarted empty (no persistence): the producer says the queue lost its jobs, once, with how many events it had written and the setting to change', async () => {
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  const cwd = scratchDir();
  const start = () =>
    spawn(
      '/usr/bin/redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      { stdio: 'ignore', cwd },
    );
  let server = start();
  const warnings: string[] = [];
  const { client, outbox, errors, track } = producerWithErrors(mock, {
    connection: url,
    prefix: 'capi-restart',
  });
  client.on('warn', (info) => {
    warnings.push(info.message);
  });
  try {
    await new Promise((resolve) => setTimeout(resolve, 500));
    for (let round = 0; round < 3; round++) {
      track(`before.${round}`, 4);
      await client.flush();
    }
    expect(outbox.producerStats().enqueuedEvents).toBe(12);
    server.kill('SIGKILL');
    await new Promise((resolve) => server.once('exit', resolve));
    server = start();
    // Traffic goes on: to the fallback until ioredis reconnects (its retry waits up to 5 s), then to Redis.
    for (let i = 0; outbox.producerStats().enqueuedEvents === 12; i++) {
      expect(i).toBeLessThan(150);
      track(`during.${i}`, 1);
      await client.flush();
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    track('later', 2);
    await client.flush();
    const lost = errors.filter((message) => /lost queue/.test(message));
    expect(lost).toHaveLength(1);
    expect(lost[0]).toMatch(
      /^Redis at 127\.0\.0\.1:\d+ lost queue "capi-kit-events"'s jobs: .*up to 12 event\(s\) .*appendonly yes/,
    );
  } finally {
    await client.close({ timeoutMs: 1000 });
    server.kill('SIGKILL');
  }
}, 60_000);

// A Redis Cluster refuses BullMQ's scripts unless a queue's keys share one slot (CROSSSLOT): it
// was reported as "unreachable … Check Redis.", though the fix is the producers' and workers'
// prefix.
it('a Redis Cluster node: the producer says to hash-tag the prefix, and with one its jobs go through', async () => {
  const port = await freePort();
  const dir = scratchDir();
  const server = spawn(
    '/usr/bin/redis-server',
    [
      ...['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      ...['--cluster-enabled', 'yes', '--dir', dir],
    ],
    { stdio: 'ignore' },
  );
  const url = `redis://127.0.0.1:${port}`;
  const admin = new Redis(url, { retryStrategy: () => 100 });
  admin.on('error', () => {});
  const capi = (prefix: string) => {
    const producer = producerWithErrors(mock, { connection: url, prefix });
    producer.track('cluster', 2);
    return producer;
  };
  try {
    await admin.call('CLUSTER', 'ADDSLOTSRANGE', '0', '16383');
    for (let tries = 0; ; tries++) {
      if (String(await admin.call('CLUSTER', 'INFO')).includes('cluster_state:ok')) break;
      expect(tries).toBeLessThan(100);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const plain = capi('bull');
    await plain.client.flush();
    expect(plain.errors).toHaveLength(1);
    expect(plain.errors[0]).toMatch(
      /^Redis at 127\.0\.0\.1:\d+ is a Redis Cluster \(CROSSSLOT .*\): .* give producers and workers the same hash-tagged prefix \(prefix: '\{bull\}'\)/,
    );
    await plain.client.close({ timeoutMs: 1000 });
    const tagged = capi('{capi}');
    await tagged.client.flush();
    expect(tagged.outbox.producerStats()).toMatchObject({ mode: 'redis', enqueuedEvents: 2 });
    expect([...plain.errors, ...tagged.errors]).toHaveLength(1);
    await tagged.client.close({ timeoutMs: 1000 });
  } finally {
    admin.disconnect();
    server.kill('SIGKILL');
  }
}, 60_000);

// A managed Redis's failover: the endpoint now leads to the new primary, but a connection opened
// before it stays with the old one, demoted to a read-only replica. ioredis does not reconnect on
// READONLY by itself, so the producer kept every event in memory and the worker got nothing done,
// for as long as the processes lived. Here a proxy stands for the endpoint.
it('a failover that demotes the primary (READONLY): the producer and the worker reconnect through the endpoint and reach the new primary', async () => {
  const start = async () => {
    const port = await freePort();
    // A replica keeps the primary's snapshot on disk: in a directory of its own, not the package's.
    const child = spawn(
      '/usr/bin/redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      { stdio: 'ignore', cwd: scratchDir() },
    );
    const admin = new Redis(`redis://127.0.0.1:${port}`, { retryStrategy: () => 50 });
    admin.on('error', () => {});
    await admin.ping();
    return { port, child, admin };
  };
  const [old, next] = await Promise.all([start(), start()]);
  let target = old.port;
  const sockets = new Set<Socket>();
  const endpoint = createServer((client) => {
    const upstream = connect({ host: '127.0.0.1', port: target });
    sockets.add(client).add(upstream);
    client.pipe(upstream).pipe(client);
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
  });
  await new Promise<void>((resolve) => endpoint.listen(0, '127.0.0.1', resolve));
  const url = `redis://127.0.0.1:${(endpoint.address() as { port: number }).port}`;
  const prefix = 'capi-failover';
  const { worker } = workerWithErrors(mock, { connection: url, prefix });
  // Its first write waits for the connection as long as a loaded machine needs.
  const { client, outbox, track } = producerWithErrors(mock, {
    connection: url,
    prefix,
    connectTimeoutMs: 10_000,
  });
  try {
    track('before');
    await client.flush();
    expect(await until(() => worker.stats().sent === 1, 10_000)).toBe(true);
    // The failover: the old primary follows the new one, the endpoint leads to the new one.
    await old.admin.call('REPLICAOF', '127.0.0.1', String(next.port));
    target = next.port;
    let i = 0;
    const written = outbox.producerStats().enqueuedEvents;
    expect(
      await until(() => {
        if (outbox.producerStats().enqueuedEvents > written) return true;
        track(`after.${i++}`);
        void client.flush();
        return false;
      }, 20_000),
    ).toBe(true);
    // The worker too: it delivers what reached the new primary (the fallback's events, the
    // producer's client sends itself).
    const afterWrite = outbox.producerStats().enqueuedEvents - written;
    expect(await until(() => worker.stats().sent >= 1 + afterWrite, 30_000)).toBe(true);
    expect(Number(await next.admin.dbsize())).toBeGreaterThan(0);
  } finally {
    await worker.close({ timeoutMs: 1000 });
    await client.close({ timeoutMs: 1000 });
    for (const socket of sockets) socket.destroy();
    endpoint.close();
    for (const { admin, child } of [old, next]) {
      admin.disconnect();
      child.kill('SIGKILL');
    }
  }
}, 90_000);
