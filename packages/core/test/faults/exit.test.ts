import { describe, expect, it } from 'vitest';
import {
  assertAccounted,
  CASE_TIMEOUT_MS,
  printFigures,
  runChild,
  useFaultMock,
} from './harness.js';

// Case g: the script that tracks and returns. The engine's timers never hold a process open, so
// without `closeOnExit` its events would still be in memory when Node exits: counted as queued,
// seen by nobody. With it (the default) Node's `beforeExit` closes the client first.

const mockOf = useFaultMock();

const FAST_RETRY = { retry: { baseDelayMs: 100, maxDelayMs: 400 }, timeoutMs: 1500 };

describe('a script that simply ends', { timeout: CASE_TIMEOUT_MS }, () => {
  it('g1. no close(), no signal: all 50 delivered before the process ends on its own, exit 0', async () => {
    mockOf().failNext(503);
    const run = await runChild('script-ends.mjs', mockOf(), {
      config: { count: 50, options: FAST_RETRY },
    });
    const f = assertAccounted(mockOf(), run);
    printFigures('g1. script ends, 503 once, closeOnExit', f);
    expect(run.status, run.stderr).toBe(0);
    expect(run.result?.atExit).toBe(true);
    expect(f.delivered).toBe(50);
    expect(run.result?.stats.queued).toBe(0);
  });

  it('g2. Meta hangs: closeOnExit gives up at its deadline, all 50 counted as shutdown and handed to onUndeliverable, exit 0', async () => {
    mockOf().failNext('hang');
    const run = await runChild('script-ends.mjs', mockOf(), {
      config: { count: 50, options: { ...FAST_RETRY, closeOnExit: { timeoutMs: 800 } } },
    });
    const f = assertAccounted(mockOf(), run);
    printFigures('g2. script ends, Meta hangs, closeOnExit 800 ms', f);
    expect(run.status, run.stderr).toBe(0);
    expect(f.delivered).toBe(0);
    expect(run.result?.stats.dropped.shutdown).toBe(50);
    expect(run.result?.undeliverable.shutdown).toHaveLength(50);
  });

  it('g3. closeOnExit: false leaves it to the app: nothing sent, the 50 still counted as queued at exit', async () => {
    const run = await runChild('script-ends.mjs', mockOf(), {
      config: {
        count: 50,
        options: { ...FAST_RETRY, closeOnExit: false, flushIntervalMs: 60_000 },
      },
    });
    const f = assertAccounted(mockOf(), run);
    printFigures('g3. script ends, closeOnExit false', f);
    expect(run.status, run.stderr).toBe(0);
    expect(f.delivered).toBe(0);
    expect(run.result?.stats.queued).toBe(50);
  });
});

// Case m: the app calls process.exit() itself (its own, or an uncaughtException handler's) before
// any close(). No await resumes after it, so nothing can be sent: what the client holds is counted
// as dropped (`shutdown`) and handed to onUndeliverable at Node's `exit`, in one synchronous step,
// and the app's exit code stays its own. They used to stay counted as queued, told to nobody.
describe('a process that calls process.exit()', { timeout: CASE_TIMEOUT_MS }, () => {
  it.each([
    ['tracked', 'right after tracking', 3],
    ['unawaited-close', 'right after a close() not awaited', 3],
    ['signal', 'while the request hangs at Meta', 3],
    ['throw', 'from an uncaughtException handler', 1],
  ] as const)(
    'm. exit %s (%s): the 50 counted as shutdown and handed to onUndeliverable, exit code kept',
    async (exitOn, _what, code) => {
      mockOf().failNext('hang');
      let poll: ReturnType<typeof setInterval> | undefined;
      let signalled = false;
      try {
        const run = await runChild('script-exits.mjs', mockOf(), {
          config: { count: 50, exitOn, options: { ...FAST_RETRY, timeoutMs: 300_000 } },
          onLine: (line, child) => {
            if (exitOn !== 'signal' || line.type !== 'tracked') return;
            poll = setInterval(() => {
              if (mockOf().requests().length === 0) return;
              clearInterval(poll);
              signalled = true;
              child.kill('SIGUSR2');
            }, 10);
          },
          timeoutMs: 30_000,
        });
        if (exitOn === 'signal') expect(signalled, 'the request never reached the mock').toBe(true);
        const f = assertAccounted(mockOf(), run);
        printFigures(`m. process.exit() ${exitOn}`, f);
        expect(run.status, run.stderr).toBe(code);
        expect(run.result?.atExit).toBe(true);
        expect(f.delivered).toBe(0);
        expect(f.dropped).toEqual({ shutdown: 50 });
        expect(f.undeliverable).toEqual({ shutdown: 50 });
        expect(run.stderr).toContain('the process is exiting before close() ended');
      } finally {
        clearInterval(poll);
      }
    },
  );
});
