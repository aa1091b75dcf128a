import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { type MockGraph, startMockGraph } from '@capi-kit/testing';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ownRedis } from './helpers.js';

// Redis refusing the login (a wrong password): an app that tracks or runs a worker, awaits close()
// and has nothing else to do must then exit by itself. The worker's did not: BullMQ's close waits
// for a connection that never logs in, and meanwhile its connections kept reconnecting and its
// lock renewal kept running, so a deploy's one-off script (or a worker told to stop) hung for
// good. Real processes: a test runner's own event loop would hide exactly this.

const FIXTURE = fileURLToPath(new URL('../fixtures/refused-login.mjs', import.meta.url));
/** Generous, for a loaded machine: a process that hangs never exits at all. */
const EXIT_MS = 20_000;
const PASSWORD = 'secret-pw';

let mock: MockGraph;
let redis: Awaited<ReturnType<typeof ownRedis>>;
let admin: Redis;
beforeAll(async () => {
  mock = await startMockGraph();
  redis = await ownRedis();
  admin = new Redis(redis.url);
  await admin.config('SET', 'requirepass', PASSWORD);
});
afterAll(async () => {
  admin?.disconnect();
  await redis?.stop();
  await mock?.close();
});

const sum = (counts: Record<string, number>): number =>
  Object.values(counts).reduce((total, n) => total + n, 0);

/**
 * Runs the fixture; resolves with its exit code and the JSON lines it printed, or with `hung` when
 * it had not exited `EXIT_MS` after `close()` ended (then it is killed).
 */
const run = (args: string[], onLine?: (line: Record<string, unknown>) => void) => {
  const child = spawn(process.execPath, [FIXTURE, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: Record<string, unknown>[] = [];
  let out = '';
  let err = '';
  let closedAt: ReturnType<typeof setTimeout> | undefined;
  let hung = false;
  child.stderr.on('data', (chunk: Buffer) => {
    err += chunk.toString('utf8');
  });
  child.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString('utf8');
    for (let end = out.indexOf('\n'); end >= 0; end = out.indexOf('\n')) {
      const line = JSON.parse(out.slice(0, end)) as Record<string, unknown>;
      out = out.slice(end + 1);
      lines.push(line);
      onLine?.(line);
      // The last line is printed once close() ended: from there the process must end by itself.
      if (!('ready' in line)) {
        closedAt = setTimeout(() => {
          hung = true;
          child.kill('SIGKILL');
        }, EXIT_MS);
      }
    }
  });
  // Nor may close() itself hang.
  const overall = setTimeout(() => {
    hung = true;
    child.kill('SIGKILL');
  }, 60_000);
  return new Promise<{ code: number | null; hung: boolean; lines: typeof lines; err: string }>(
    (resolve) =>
      child.once('exit', (code) => {
        clearTimeout(closedAt);
        clearTimeout(overall);
        resolve({ code, hung, lines, err });
      }),
  );
};

const wrongUrl = () => `redis://:wrong-pw@127.0.0.1:${redis.port}`;

/** The app's own connection is left open by close() (`instance`), none exists otherwise. */
const expectAppConnection = (variant: string, status: unknown) => {
  if (variant === 'instance') expect(status).not.toBe('end');
  else expect(status).toBeUndefined();
};

it.each(['once', 'twice', 'early', 'instance'])(
  'a producer refused its login (close() %s): the process exits by itself, every event counted',
  async (variant) => {
    const prefix = `capi-login-p-${variant}`;
    const { code, hung, lines, err } = await run([
      'producer',
      variant,
      wrongUrl(),
      prefix,
      mock.url,
      '5',
    ]);
    expect({ hung, code, err }).toEqual({ hung: false, code: 0, err: '' });
    const report = lines.at(-1) as {
      tracked: number;
      sent: number;
      queued: number;
      inFlight: number;
      deadLettered: number;
      dropped: Record<string, number>;
      enqueued: number;
      buffered: number;
      writing: number;
      undeliverable: Record<string, number>;
      errors: string[];
      appStatus?: string;
    };
    expectAppConnection(variant, report.appStatus);
    expect(report.tracked).toBe(5);
    // Nothing waits for Redis any more: every event went to the fallback, which delivered it.
    expect({ buffered: report.buffered, writing: report.writing }).toEqual({
      buffered: 0,
      writing: 0,
    });
    expect(
      report.sent +
        report.queued +
        report.inFlight +
        report.deadLettered +
        sum(report.dropped) +
        report.enqueued,
    ).toBe(report.tracked);
    // What is not delivered is handed to onUndeliverable with its reason, never silently lost.
    expect(sum(report.undeliverable)).toBe(report.tracked - report.sent);
    expect(report.errors.join('\n')).toMatch(/refused the connection's credentials \(.*WRONGPASS/);
    expect(JSON.stringify(report)).not.toMatch(/wrong-pw|secret-pw/);
  },
  90_000,
);

it.each(['once', 'twice', 'early', 'instance'])(
  'a worker refused its login (close() %s): close() ends and the process exits by itself',
  async (variant) => {
    const { code, hung, lines, err } = await run([
      'worker',
      variant,
      wrongUrl(),
      `capi-login-w-${variant}`,
      mock.url,
      '0',
    ]);
    expect({ hung, code, err }).toEqual({ hung: false, code: 0, err: '' });
    const report = lines.at(-1) as { errors: string[]; appStatus?: string };
    expectAppConnection(variant, report.appStatus);
    expect(report.errors.join('\n')).toMatch(/refused the connection's credentials \(WRONGPASS\)/);
    expect(JSON.stringify(report)).not.toMatch(/wrong-pw|secret-pw/);
  },
  90_000,
);

// A password rotated under a running worker: its connections had logged in, so BullMQ's close
// takes the graceful way (QUIT), which a connection that can no longer log in never answers.
it('a worker whose password was rotated under it: close() ends and the process exits by itself', async () => {
  const rotated = `${PASSWORD}-2`;
  try {
    const { code, hung, lines, err } = await run(
      [
        'worker',
        'rotated',
        `redis://:${PASSWORD}@127.0.0.1:${redis.port}`,
        'capi-login-rotated',
        mock.url,
        '0',
      ],
      (line) => {
        if (!('ready' in line)) return;
        // The new password, and the logged-in connections cut (a restart would do the same).
        void admin
          .config('SET', 'requirepass', rotated)
          .then(() => admin.call('CLIENT', 'KILL', 'TYPE', 'normal', 'SKIPME', 'yes'));
      },
    );
    expect({ hung, code, err }).toEqual({ hung: false, code: 0, err: '' });
    expect(lines[0]).toEqual({ ready: true });
    expect(JSON.stringify(lines)).not.toMatch(/secret-pw/);
  } finally {
    await admin.config('SET', 'requirepass', PASSWORD);
  }
}, 90_000);
