import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import {
  assertAccounted,
  CASE_TIMEOUT_MS,
  printFigures,
  runChild,
  useFaultMock,
} from './harness.js';

// A process whose only remaining work is ours: the script tracks, then closes (or is sent SIGTERM)
// while the client waits out a retry pause, or while its outbox never answers. Nothing may be lost silently, and the process must
// end the way the docs say.

const mockOf = useFaultMock();

/** Whether this machine lets a process run as PID 1 of its own PID namespace, unprivileged. */
const canRunAsPid1 = (): boolean =>
  spawnSync('unshare', ['-Urpf', '--kill-child', 'true']).status === 0;

const FAST_RETRY = { retry: { baseDelayMs: 100, maxDelayMs: 400 }, timeoutMs: 1500 };

describe('close() in a process with nothing else to do', { timeout: CASE_TIMEOUT_MS }, () => {
  it('a. 503 then 503 with Retry-After: 1: close() waits them out, all 50 delivered, the line after close() runs, exit 0', async () => {
    mockOf().failNext(503).failNext({ kind: 'http', status: 503, retryAfterSeconds: 1 });
    const run = await runChild('track-and-close.mjs', mockOf(), {
      config: { count: 50, options: FAST_RETRY, closeTimeoutMs: 10_000 },
    });
    const f = assertAccounted(mockOf(), run);
    printFigures('a. 503 + 503 Retry-After 1, close(10 s)', f, `closeMs ${run.result?.closeMs}`);
    expect(run.status, run.stderr).toBe(0);
    expect(run.result?.afterClose).toBe(true);
    expect(f.delivered).toBe(50);
    expect(f.duplicated).toBe(0);
    expect(
      mockOf()
        .rejections()
        .map((r) => r.status),
    ).toEqual([503, 503]);
    // The Retry-After was honoured: the retry came at least a second after the second 503.
    const [, second, third] = mockOf().requests();
    expect((third?.receivedAt ?? 0) - (second?.receivedAt ?? 0)).toBeGreaterThanOrEqual(950);
  });

  it('b. SIGTERM during the retry pause with installShutdownHooks: all 50 delivered before the process dies of SIGTERM (143)', async () => {
    mockOf().failNext({ kind: 'http', status: 503, retryAfterSeconds: 1 });
    let signalled = false;
    const run = await runChild('sigterm.mjs', mockOf(), {
      config: { count: 50, options: FAST_RETRY, shutdownTimeoutMs: 5000 },
      onLine: (line, child) => {
        // The first retry line: the client is now in its one-second pause.
        if (line.type === 'retry' && !signalled) {
          signalled = true;
          child.kill('SIGTERM');
        }
      },
    });
    expect(signalled, 'the child never reported a retry').toBe(true);
    const f = assertAccounted(mockOf(), run);
    printFigures(
      'b. SIGTERM in a Retry-After 1 pause, hooks 5 s',
      f,
      `closeMs ${run.result?.closeMs}`,
    );
    expect(run.signal).toBe('SIGTERM');
    expect(run.status).toBe(143);
    expect(f.delivered).toBe(50);
    expect(f.dropped).toEqual({});
  });

  it.each(['before', 'after'])(
    'k. SIGTERM during a retry pause, the app’s own process.once(SIGTERM) registered %s installShutdownHooks: all 50 delivered, the app’s shutdown runs to its own process.exit(0)',
    async (appListener) => {
      mockOf().failNext({ kind: 'http', status: 503, retryAfterSeconds: 1 });
      let signalled = false;
      const run = await runChild('app-sigterm-once.mjs', mockOf(), {
        config: { count: 50, options: FAST_RETRY, shutdownTimeoutMs: 5000, appListener },
        onLine: (line, child) => {
          if (line.type === 'retry' && !signalled) {
            signalled = true;
            child.kill('SIGTERM');
          }
        },
      });
      expect(signalled, 'the child never reported a retry').toBe(true);
      // The hooks used to re-raise SIGTERM once their close ended: the app's `once` listener was
      // gone by then, and the process died of it (143) in the middle of the app's shutdown.
      expect(run.result?.appExit, `status ${run.status}; stderr: ${run.stderr}`).toBe(true);
      const f = assertAccounted(mockOf(), run);
      printFigures(`k. SIGTERM, app's once listener ${appListener} the hooks`, f);
      expect(run.signal).toBeNull();
      expect(run.status).toBe(0);
      expect(f.delivered).toBe(50);
      expect(f.dropped).toEqual({});
    },
  );

  it('l. SIGTERM while Meta never answers (hooks’ budget 30 s), then a second SIGTERM: the close ends at once, the 50 are dropped as shutdown and handed to onUndeliverable, the process dies of SIGTERM (143)', async () => {
    mockOf().failNext('hang');
    let signals = 0;
    let poll: ReturnType<typeof setInterval> | undefined;
    try {
      const run = await runChild('sigterm-twice.mjs', mockOf(), {
        // A request deadline past the hooks' budget: only close() ends the hung request.
        config: { count: 50, options: { ...FAST_RETRY, timeoutMs: 300_000 } },
        onLine: (line, child) => {
          if (line.type === 'tracked') {
            // Once the request hangs at the mock: the first signal.
            poll = setInterval(() => {
              if (mockOf().requests().length === 0) return;
              clearInterval(poll);
              signals++;
              child.kill('SIGTERM');
            }, 10);
          }
          // The hooks' close began: the second signal.
          if (line.type === 'closing' && line.timeoutMs === 30_000) {
            signals++;
            child.kill('SIGTERM');
          }
        },
        // Well under the hooks' 30 s budget and the request's 5 minutes.
        timeoutMs: 20_000,
      });
      expect(signals, 'the request never reached the mock').toBe(2);
      // The second signal used to kill the process at once: the 50 were lost, counted nowhere.
      const f = assertAccounted(mockOf(), run);
      printFigures('l. SIGTERM twice, Meta hangs, hooks 30 s', f);
      expect(run.signal).toBe('SIGTERM');
      expect(run.status).toBe(143);
      expect(run.result?.afterClose).toBe(true);
      expect(f.delivered).toBe(0);
      expect(f.dropped).toEqual({ shutdown: 50 });
      expect(f.undeliverable).toEqual({ shutdown: 50 });
    } finally {
      clearInterval(poll);
    }
  });

  it.each(['before', 'after'])(
    'n. SIGTERM during a retry pause, with signal-exit loaded %s installShutdownHooks (execa, write-file-atomic… use it): all 50 delivered, signal-exit’s handlers run, the process dies of SIGTERM (143)',
    async (signalExit) => {
      mockOf().failNext({ kind: 'http', status: 503, retryAfterSeconds: 1 });
      let signalled = false;
      const run = await runChild('sigterm-signal-exit.mjs', mockOf(), {
        config: { count: 50, options: FAST_RETRY, shutdownTimeoutMs: 5000, signalExit },
        onLine: (line, child) => {
          if (line.type === 'retry' && !signalled) {
            signalled = true;
            child.kill('SIGTERM');
          }
        },
        // The hooks took signal-exit's listener for the app's and left the exit to it, which
        // waits for the last listener to leave: the process outlived SIGTERM, killed here.
        timeoutMs: 20_000,
      });
      expect(signalled, 'the child never reported a retry').toBe(true);
      const f = assertAccounted(mockOf(), run);
      printFigures(`n. SIGTERM, signal-exit loaded ${signalExit} the hooks`, f);
      expect(run.lines.some((line) => line.type === 'signal-exit')).toBe(true);
      expect(run.signal).toBe('SIGTERM');
      expect(run.status).toBe(143);
      expect(f.delivered).toBe(50);
      expect(f.dropped).toEqual({});
    },
  );

  it('o. SIGTERM during a retry pause in an app that re-raises it once its own shutdown ends (NestJS’s enableShutdownHooks): the re-raise is not a second signal, all 50 delivered, then death by SIGTERM (143)', async () => {
    mockOf().failNext({ kind: 'http', status: 503, retryAfterSeconds: 1 });
    let signalled = false;
    const run = await runChild('app-reraises.mjs', mockOf(), {
      config: { count: 50, options: FAST_RETRY, shutdownTimeoutMs: 5000 },
      onLine: (line, child) => {
        if (line.type === 'retry' && !signalled) {
          signalled = true;
          child.kill('SIGTERM');
        }
      },
    });
    expect(signalled, 'the child never reported a retry').toBe(true);
    expect(run.lines.some((line) => line.type === 'app-reraise')).toBe(true);
    const f = assertAccounted(mockOf(), run);
    printFigures('o. SIGTERM, the app re-raises it, hooks 5 s', f);
    expect(run.signal).toBe('SIGTERM');
    expect(run.status).toBe(143);
    // Taken for an impatient second signal, the re-raise ended the close at once: the 50 were
    // dropped as shutdown in the middle of a one-second pause (before that, lost uncounted).
    expect(f.delivered).toBe(50);
    expect(f.dropped).toEqual({});
  });

  it.each([
    { how: 'a re-raise the process ignores', realPid1: false },
    { how: 'PID 1 of a PID namespace (unshare)', realPid1: true },
  ])(
    'p. SIGTERM during a retry pause as PID 1, where the re-raised signal does nothing ($how): all 50 delivered, then the process exits with 143 all the same',
    async ({ realPid1 }) => {
      if (realPid1 && !canRunAsPid1()) {
        console.log('p. skipped: unshare -Urpf (user and PID namespaces) is not available here');
        return;
      }
      mockOf().failNext({ kind: 'http', status: 503, retryAfterSeconds: 1 });
      let signalled = false;
      const run = await runChild('sigterm-pid1.mjs', mockOf(), {
        config: { count: 50, options: FAST_RETRY, realPid1 },
        command: realPid1 ? ['unshare', '-Urpf', '--kill-child'] : [],
        onLine: (line, child) => {
          if (line.type === 'retry' && !signalled) {
            signalled = true;
            if (!realPid1) child.kill('SIGTERM');
          }
        },
        // The process used to serve on after its close, until this bound's SIGKILL.
        timeoutMs: 20_000,
      });
      expect(signalled, 'the child never reported a retry').toBe(true);
      const f = assertAccounted(mockOf(), run);
      printFigures(`p. SIGTERM as PID 1 (${realPid1 ? 'unshare' : 'stand-in'})`, f);
      if (realPid1) expect(run.result?.pid).toBe(1);
      expect(run.status, run.stderr).toBe(143);
      expect(f.delivered).toBe(50);
      expect(f.dropped).toEqual({});
    },
  );

  it('q. SIGTERM during a retry pause with a second client the hooks were not given: its 10 queued events are counted as shutdown and handed to its onUndeliverable before the process dies of SIGTERM (143)', async () => {
    mockOf().failNext({ kind: 'http', status: 503, retryAfterSeconds: 1 });
    let signalled = false;
    const run = await runChild('sigterm-second-client.mjs', mockOf(), {
      config: { count: 50, options: FAST_RETRY, shutdownTimeoutMs: 5000 },
      onLine: (line, child) => {
        if (line.type === 'retry' && !signalled) {
          signalled = true;
          child.kill('SIGTERM');
        }
      },
    });
    expect(signalled, 'the child never reported a retry').toBe(true);
    const f = assertAccounted(mockOf(), run);
    printFigures('q. SIGTERM, a second client without the hooks', f);
    expect(run.status).toBe(143);
    expect(f.delivered).toBe(50);
    // Nothing of the second client's reached Meta: its flush was a minute away.
    expect(mockOf().events({ pixelId: '2222222222' })).toEqual([]);
    // They used to vanish with the process, counted nowhere, told to nobody.
    const second = run.lines.filter((l) => l.type === 'second-undeliverable');
    expect(second.map((l) => l.reason)).toEqual(['shutdown']);
    expect([...((second[0]?.ids as string[] | undefined) ?? [])].sort()).toEqual(
      Array.from({ length: 10 }, (_, i) => `second-${i}`).sort(),
    );
    expect(second[0]?.stats).toEqual({ queued: 0, inFlight: 0, shutdown: 10 });
  });

  it('c. a Retry-After longer than close()’s deadline: close() resolves at its deadline, the 50 are dropped as shutdown and handed to onUndeliverable, exit 0', async () => {
    mockOf().failNext({ kind: 'http', status: 503, retryAfterSeconds: 120 });
    const run = await runChild('track-and-close.mjs', mockOf(), {
      config: { count: 50, options: FAST_RETRY, closeTimeoutMs: 1500 },
      // Waiting out the 120 s pause would take this bound; the deadline is 1.5 s.
      timeoutMs: 30_000,
    });
    const f = assertAccounted(mockOf(), run);
    printFigures('c. Retry-After 120 > close(1.5 s)', f, `closeMs ${run.result?.closeMs}`);
    expect(run.status, run.stderr).toBe(0);
    expect(run.result?.afterClose).toBe(true);
    expect(f.delivered).toBe(0);
    expect(f.dropped).toEqual({ shutdown: 50 });
    expect(f.undeliverable).toEqual({ shutdown: 50 });
    expect(mockOf().requests()).toHaveLength(1);
  });

  it('h. a durable outbox whose take at close never answers: close() resolves at its deadline all the same (the outbox is not closed under that call), the 50 stay queued for the next start, exit 0', async () => {
    mockOf().failNext({ kind: 'http', status: 503, retryAfterSeconds: 120 });
    const run = await runChild('hung-take-close.mjs', mockOf(), {
      config: { count: 50, options: FAST_RETRY, closeTimeoutMs: 1500 },
      timeoutMs: 30_000,
    });
    const f = assertAccounted(mockOf(), run);
    printFigures(
      'h. take at close never answers, close(1.5 s)',
      f,
      `closeMs ${run.result?.closeMs}`,
    );
    expect(run.status, run.stderr).toBe(0);
    expect(run.result?.afterClose).toBe(true);
    // Never closed under a call of the engine's that has not answered.
    expect(run.result?.outboxClosed).toBe(false);
    expect(run.result?.stats.queued).toBe(50);
    expect(f.delivered).toBe(0);
    expect(f.dropped).toEqual({});
  });

  it('j. SIGTERM while the app’s own close() (2 min) waits on a request Meta never answers: the hooks’ close({ timeoutMs: 300 }) brings it forward, the 50 are dropped as shutdown and handed to onUndeliverable, the process dies of SIGTERM (143)', async () => {
    mockOf().failNext('hang');
    let signalled = false;
    let poll: ReturnType<typeof setInterval> | undefined;
    try {
      const run = await runChild('close-then-sigterm.mjs', mockOf(), {
        // A request deadline past the first close's: only close() ends the hung request.
        config: {
          count: 50,
          options: { ...FAST_RETRY, timeoutMs: 300_000 },
          closeTimeoutMs: 120_000,
          shutdownTimeoutMs: 300,
        },
        onLine: (line, child) => {
          if (line.type !== 'closing') return;
          // Once the request hangs at the mock: the first close is waiting on it.
          poll = setInterval(() => {
            if (mockOf().requests().length === 0) return;
            clearInterval(poll);
            signalled = true;
            child.kill('SIGTERM');
          }, 10);
        },
        // Well under the first close's 2 minutes; without the second budget it is killed here.
        timeoutMs: 30_000,
      });
      expect(signalled, 'the request never reached the mock').toBe(true);
      const f = assertAccounted(mockOf(), run);
      printFigures(
        'j. close(2 min) then SIGTERM: close(300 ms), Meta hangs',
        f,
        `closeMs ${run.result?.closeMs}`,
      );
      expect(run.signal).toBe('SIGTERM');
      expect(run.status).toBe(143);
      expect(run.result?.afterClose).toBe(true);
      expect(run.result?.samePromise).toBe(true);
      expect(f.delivered).toBe(0);
      expect(f.dropped).toEqual({ shutdown: 50 });
      expect(f.undeliverable).toEqual({ shutdown: 50 });
      expect(f.requests).toBe(1);
    } finally {
      clearInterval(poll);
    }
  });
});
