import { execFile, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { type MockGraph, startMockGraph } from '@capi-kit/testing';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createNextCapi, registerShutdown } from '../src/index.js';

// In-process checks of what the real `next start` tests (examples/next/test/shutdown.test.js)
// cannot isolate. The signal is a private event name: emitting a real SIGTERM here would reach
// the test runner's own listeners. NEXT_MANUAL_SIG_HANDLE stays unset: in that mode the hook
// re-raises the signal, which only a child process can take (the example's test does).
const PIXEL_ID = '1234567890';
const TOKEN = 'shutdown-test-token';
const SIGNAL = 'capi-kit-test-shutdown';

let mock: MockGraph;
const uninstalls: (() => void)[] = [];
/** Stands in for the listener `next start` registers: Next.js owns the signal. */
const nextJsListener = () => {};
beforeEach(async () => {
  mock = await startMockGraph({ accessToken: TOKEN });
  process.on(SIGNAL, nextJsListener);
});
afterEach(async () => {
  process.removeListener(SIGNAL, nextJsListener);
  for (const uninstall of uninstalls.splice(0)) uninstall();
  vi.restoreAllMocks();
  await mock.close();
});

const newCapi = () =>
  createNextCapi({ pixelId: PIXEL_ID, accessToken: TOKEN, graphUrl: mock.url, env: false });

/** A complete server event (a website event needs its page URL and some user data). */
const event = (event_name: 'Lead' | 'Purchase') => ({
  event_name,
  event_source_url: 'https://shop.example/signup',
  user_data: { em: 'shutdown@example.com', client_user_agent: 'capi-kit-test/1.0' },
  ...(event_name === 'Purchase' && { custom_data: { value: 10, currency: 'EUR' } }),
});

const until = async (condition: () => boolean) => {
  for (let i = 0; i < 400 && !condition(); i++) await new Promise((r) => setTimeout(r, 25));
  expect(condition()).toBe(true);
};

describe('registerShutdown, while Next.js owns the signal', () => {
  it('keeps accepting events after the signal, then at the deadline closes, counts and reports what is left', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const capi = newCapi();
    mock.outage({ kind: 'http', status: 503, retryAfterSeconds: 1 });
    uninstalls.push(registerShutdown(capi, { timeoutMs: 300, signals: [SIGNAL] }));

    expect(capi.client.track(event('Lead')).accepted).toBe(true);
    process.emit(SIGNAL as 'SIGTERM', 'SIGTERM');
    // A request Next.js is still finishing tracks after the signal: it must be accepted.
    expect(capi.client.closed).toBe(false);
    expect(capi.client.track(event('Purchase')).accepted).toBe(true);

    await until(() => capi.client.closed && warn.mock.calls.length > 0);
    const stats = capi.client.stats();
    const dropped = Object.values(stats.dropped).reduce((a, b) => a + b, 0);
    // Two tracked = sent + queued + inFlight + deadLettered + dropped, all of it dropped at shutdown.
    expect(stats.sent + stats.queued + stats.inFlight + stats.deadLettered + dropped).toBe(2);
    expect(stats.dropped.shutdown).toBe(2);
    // The core's default console logger reports the loss too (`closed with undelivered events`);
    // registerShutdown adds the one-line summary of the whole shutdown.
    expect(warn.mock.calls).toContainEqual([
      'capi-kit/next: shutdown left 2 event(s) undelivered (dropped at shutdown 2, queued 0, in flight 0; delivered 0)',
    ]);
    expect(warn.mock.calls.map(([line]) => String(line))).toContainEqual(
      expect.stringContaining('capi-kit: closed with undelivered events'),
    );
    expect(mock.events()).toHaveLength(0);
  });

  it('says nothing when everything was delivered before the deadline', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const capi = newCapi();
    uninstalls.push(registerShutdown(capi, { timeoutMs: 200, signals: [SIGNAL] }));
    capi.client.track(event('Lead'));
    await capi.flush();
    process.emit(SIGNAL as 'SIGTERM', 'SIGTERM');
    await until(() => capi.client.closed);
    expect(capi.client.stats().sent).toBe(1);
    expect(mock.events()).toHaveLength(1);
    expect(warn).not.toHaveBeenCalled();
  });

  it('takes a timeoutMs past setTimeout’s limit (2^31 − 1 ms) as that limit, not as 1 ms, and NaN as the default', async () => {
    for (const timeoutMs of [2 ** 31, Number.POSITIVE_INFINITY, Number.NaN]) {
      const capi = newCapi();
      const uninstall = registerShutdown(capi, { timeoutMs, signals: [SIGNAL] });
      uninstalls.push(uninstall); // also if an expectation fails (calling it twice is harmless)
      // The client exists (it is made at first use) before the signal, as in a serving process.
      expect(capi.client.track(event('Lead')).accepted).toBe(true);
      process.emit(SIGNAL as 'SIGTERM', 'SIGTERM');
      // Node runs a delay above 2^31 − 1 ms (or NaN) after 1 ms: the client would be closed by now.
      await new Promise((r) => setTimeout(r, 100));
      expect(capi.client.closed, `timeoutMs ${timeoutMs}`).toBe(false);
      expect(capi.client.track(event('Purchase')).accepted).toBe(true);
      uninstall();
      await capi.close();
    }
  });

  it('installs once per process (instrumentation may run per bundle layer) and uninstalls cleanly', () => {
    const before = process.listenerCount(SIGNAL);
    const beforeExit = process.listenerCount('exit');
    const first = registerShutdown(newCapi(), { signals: [SIGNAL] });
    uninstalls.push(first);
    expect(registerShutdown(newCapi(), { signals: [SIGNAL] })).toBe(first);
    expect(process.listenerCount(SIGNAL)).toBe(before + 1);
    expect(process.listenerCount('exit')).toBe(beforeExit + 1);
    first();
    expect(process.listenerCount(SIGNAL)).toBe(before);
    expect(process.listenerCount('exit')).toBe(beforeExit);
  });
});

describe('close() called twice', () => {
  it('the second call waits for the first: a process that exits once it resolves loses nothing (real child process)', async () => {
    // Meta answers 503 with Retry-After: 1 first: the first close() waits it out.
    mock.failNext({ kind: 'http', status: 503, retryAfterSeconds: 1 });
    const script = fileURLToPath(new URL('./fixtures/close-twice.mjs', import.meta.url));
    const { code, stdout, stderr } = await new Promise<{
      code: number | null;
      stdout: string;
      stderr: string;
    }>((resolve) => {
      const child = execFile(
        process.execPath,
        [script],
        {
          env: {
            PATH: process.env.PATH ?? '',
            FAULT_GRAPH_URL: mock.url,
            FAULT_PIXEL_ID: PIXEL_ID,
            FAULT_TOKEN: TOKEN,
          },
          timeout: 30_000,
        },
        (_error, out, err) => resolve({ code: child.exitCode, stdout: out, stderr: err }),
      );
    });
    expect(code, stderr).toBe(0);
    expect(stderr).not.toContain(TOKEN);
    const { tracked, stats } = JSON.parse(stdout) as {
      tracked: number;
      stats: { sent: number; queued: number; inFlight: number; deadLettered: number };
    };
    expect(tracked).toBe(50);
    // The second close() used to resolve at once: the process exited with the 50 still queued.
    expect(stats.queued + stats.inFlight).toBe(0);
    expect(stats.sent).toBe(50);
    expect(new Set(mock.events().map((e) => e.event.event_id)).size).toBe(50);
  }, 40_000);
});

describe('registerShutdown on a custom server (no signal handler of Next.js)', () => {
  it('delivers what is queued, then the process dies of SIGTERM (real child process)', async () => {
    // Meta answers 503 with Retry-After: 1 first: the close waits it out within its 5 s.
    mock.failNext({ kind: 'http', status: 503, retryAfterSeconds: 1 });
    const script = fileURLToPath(new URL('./fixtures/custom-server.mjs', import.meta.url));
    const child = spawn(process.execPath, [script], {
      env: {
        PATH: process.env.PATH ?? '',
        FAULT_GRAPH_URL: mock.url,
        FAULT_PIXEL_ID: PIXEL_ID,
        FAULT_TOKEN: TOKEN,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      if (stdout.includes('"listening"') && !child.killed) child.kill('SIGTERM');
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    const signal = await new Promise<NodeJS.Signals | null>((resolve) => {
      // Generous: the close ends about a second after the signal.
      const limit = setTimeout(() => child.kill('SIGKILL'), 20_000);
      child.on('close', (_code, exitSignal) => {
        clearTimeout(limit);
        resolve(exitSignal);
      });
    });
    // registerShutdown's listener alone used to keep the process from dying of SIGTERM: it
    // served on until the SIGKILL above.
    expect(signal, stderr).toBe('SIGTERM');
    const closed = stdout
      .split('\n')
      .filter((line) => line.includes('"closed"'))
      .map(
        (line) => JSON.parse(line) as { stats: { sent: number; queued: number; inFlight: number } },
      );
    expect(closed).toHaveLength(1);
    expect(closed[0]?.stats).toMatchObject({ sent: 20, queued: 0, inFlight: 0 });
    expect(new Set(mock.events().map((e) => e.event.event_id)).size).toBe(20);
    expect(stderr).not.toContain(TOKEN);
  }, 40_000);
});

describe('registerShutdown with a target whose close() rejects', () => {
  it('no unhandled rejection at the deadline: the process ends the way it would have, exit 0 (real child process)', async () => {
    const script = fileURLToPath(new URL('./fixtures/shutdown-close-rejects.mjs', import.meta.url));
    const child = spawn(process.execPath, [script], {
      env: { PATH: process.env.PATH ?? '', META_ACCESS_TOKEN: TOKEN },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      if (stdout.includes('"listening"') && !child.killed) child.kill('SIGTERM');
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    const code = await new Promise<number | null>((resolve) => {
      const limit = setTimeout(() => child.kill('SIGKILL'), 30_000);
      child.on('close', (exitCode) => {
        clearTimeout(limit);
        resolve(exitCode);
      });
    });
    expect(stdout).toContain('"closing"');
    // An unhandled rejection used to end it with 1, its stack on stderr.
    expect(code, stderr).toBe(0);
    expect(stderr).toContain(
      'capi-kit/next: close() failed at the shutdown deadline: pool already ended',
    );
    expect(stderr).not.toContain(TOKEN);
  }, 40_000);
});
