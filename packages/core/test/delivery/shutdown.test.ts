import { EventEmitter } from 'node:events';
import { describe, expect, it, vi } from 'vitest';
import { systemClock } from '../../src/delivery/clock.js';
import { installShutdownHooks, type ProcessLike } from '../../src/delivery/shutdown.js';

const fakeProcess = () => {
  const emitter = new EventEmitter();
  const proc = Object.assign(emitter, {
    pid: 4242,
    kill: vi.fn((_pid: number, _signal?: string) => true),
    exit: vi.fn((_code?: number) => undefined),
  });
  return proc as typeof proc & ProcessLike;
};

const deferred = () => {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
};

describe('installShutdownHooks', () => {
  it('closes the client with the budget, then re-raises the signal when nobody else listens', async () => {
    const proc = fakeProcess();
    const gate = deferred();
    const close = vi.fn(() => gate.promise);
    installShutdownHooks({ close }, { timeoutMs: 300, process: proc });
    proc.emit('SIGTERM', 'SIGTERM');
    expect(close).toHaveBeenCalledWith({ timeoutMs: 300 });
    expect(proc.kill).not.toHaveBeenCalled();
    gate.resolve();
    await new Promise((r) => setImmediate(r));
    expect(proc.listenerCount('SIGTERM')).toBe(0); // removed before re-raising: default death, 128+15
    expect(proc.kill).toHaveBeenCalledWith(4242, 'SIGTERM');
  });

  it('falls back to exit(128 + n) when the signal cannot be re-raised', async () => {
    const proc = fakeProcess();
    proc.kill.mockImplementation(() => {
      throw new Error('ENOSYS');
    });
    installShutdownHooks({ close: async () => {} }, { process: proc });
    proc.emit('SIGINT', 'SIGINT');
    await new Promise((r) => setImmediate(r));
    expect(proc.exit).toHaveBeenCalledWith(130);
  });

  it('leaves the exit to the app when it has its own listener', async () => {
    const proc = fakeProcess();
    const appListener = vi.fn();
    proc.on('SIGTERM', appListener);
    const close = vi.fn(async () => {});
    installShutdownHooks({ close }, { process: proc });
    proc.emit('SIGTERM', 'SIGTERM');
    await new Promise((r) => setImmediate(r));
    expect(close).toHaveBeenCalledTimes(1);
    expect(appListener).toHaveBeenCalled();
    expect(proc.kill).not.toHaveBeenCalled();
    expect(proc.exit).not.toHaveBeenCalled();
  });

  it('leaves the exit to the app when its listener is a process.once one, registered before or after', async () => {
    for (const order of ['before', 'after']) {
      const proc = fakeProcess();
      const appListener = vi.fn();
      if (order === 'before') proc.once('SIGTERM', appListener);
      installShutdownHooks({ close: async () => {} }, { process: proc });
      if (order === 'after') proc.once('SIGTERM', appListener);
      proc.emit('SIGTERM', 'SIGTERM');
      await new Promise((r) => setImmediate(r));
      expect(appListener).toHaveBeenCalledTimes(1);
      expect(proc.kill, order).not.toHaveBeenCalled();
      expect(proc.exit, order).not.toHaveBeenCalled();
    }
  });

  it('does not take signal-exit’s listener for the app’s: it re-raises only once it is the last one', async () => {
    const key = Symbol.for('signal-exit emitter');
    const global = globalThis as Record<symbol, unknown>;
    const before = global[key];
    global[key] = { count: 1 };
    try {
      const proc = fakeProcess();
      const signalExitListener = vi.fn();
      proc.on('SIGTERM', signalExitListener);
      installShutdownHooks({ close: async () => {} }, { process: proc });
      proc.emit('SIGTERM', 'SIGTERM');
      await new Promise((r) => setImmediate(r));
      // Re-raised: signal-exit's listener, alone now, runs its handlers and re-raises it itself.
      expect(proc.kill).toHaveBeenCalledWith(4242, 'SIGTERM');

      // One listener beside signal-exit's is the app's: the exit stays the app's.
      const withApp = fakeProcess();
      withApp.on('SIGTERM', vi.fn());
      withApp.on('SIGTERM', vi.fn());
      installShutdownHooks({ close: async () => {} }, { process: withApp });
      withApp.emit('SIGTERM', 'SIGTERM');
      await new Promise((r) => setImmediate(r));
      expect(withApp.kill).not.toHaveBeenCalled();
    } finally {
      if (before === undefined) delete global[key];
      else global[key] = before;
    }
  });

  it('two clients’ hooks: the last close to end re-raises the signal, once', async () => {
    const proc = fakeProcess();
    const first = deferred();
    const second = deferred();
    installShutdownHooks({ close: () => first.promise }, { process: proc });
    installShutdownHooks({ close: () => second.promise }, { process: proc });
    proc.emit('SIGTERM', 'SIGTERM');
    second.resolve();
    await new Promise((r) => setImmediate(r));
    expect(proc.kill).not.toHaveBeenCalled();
    first.resolve();
    await new Promise((r) => setImmediate(r));
    expect(proc.kill).toHaveBeenCalledTimes(1);
    expect(proc.kill).toHaveBeenCalledWith(4242, 'SIGTERM');
  });

  it('a second signal during the close brings it to an end (close with no budget), then exits; a third exits at once', async () => {
    const proc = fakeProcess();
    const first = deferred();
    const hurried = deferred();
    const close = vi.fn((options?: { timeoutMs?: number }) =>
      options?.timeoutMs === 0 ? hurried.promise : first.promise,
    );
    installShutdownHooks({ close }, { process: proc, signals: ['SIGINT'] });
    proc.emit('SIGINT', 'SIGINT');
    expect(proc.kill).not.toHaveBeenCalled();
    // The first handler removed nothing yet; a second Ctrl-C reaches our listener again.
    proc.emit('SIGINT', 'SIGINT');
    // What is left is counted (dropped `shutdown`) before the process ends, not lost unsaid.
    expect(close).toHaveBeenLastCalledWith({ timeoutMs: 0 });
    await new Promise((r) => setImmediate(r));
    expect(proc.kill).not.toHaveBeenCalled();
    hurried.resolve();
    await new Promise((r) => setImmediate(r));
    expect(proc.kill).toHaveBeenCalledTimes(1);
    expect(proc.kill).toHaveBeenCalledWith(4242, 'SIGINT');
    first.resolve();
    await new Promise((r) => setImmediate(r));
    expect(proc.kill).toHaveBeenCalledTimes(1);

    // A third Ctrl-C: at once, whatever the close is doing.
    const again = fakeProcess();
    const never = new Promise<void>(() => {});
    installShutdownHooks({ close: () => never }, { process: again, signals: ['SIGINT'] });
    again.emit('SIGINT', 'SIGINT');
    again.emit('SIGINT', 'SIGINT');
    expect(again.kill).not.toHaveBeenCalled();
    again.emit('SIGINT', 'SIGINT');
    expect(again.kill).toHaveBeenCalledWith(4242, 'SIGINT');
  });

  it('the app’s own re-raise (its listener gone since the first signal) is not a second signal: the close keeps its budget, then the signal is re-raised; a signal after that hurries it', async () => {
    const proc = fakeProcess();
    const gate = deferred();
    const close = vi.fn((_options?: { timeoutMs?: number }) => gate.promise);
    const appListener = () => {
      proc.removeListener('SIGTERM', appListener);
    };
    proc.on('SIGTERM', appListener);
    installShutdownHooks({ close }, { process: proc });
    proc.emit('SIGTERM', 'SIGTERM');
    // NestJS: app.close() ended, its listener removed, `process.kill(process.pid, signal)`.
    proc.emit('SIGTERM', 'SIGTERM');
    expect(close).toHaveBeenCalledTimes(1);
    await new Promise((r) => setImmediate(r));
    expect(proc.kill).not.toHaveBeenCalled();
    // An operator's signal after that: the close is ended at once.
    proc.emit('SIGTERM', 'SIGTERM');
    expect(close).toHaveBeenLastCalledWith({ timeoutMs: 0 });
    gate.resolve();
    await new Promise((r) => setImmediate(r));
    expect(proc.kill).toHaveBeenCalledTimes(1);
    expect(proc.kill).toHaveBeenCalledWith(4242, 'SIGTERM');
  });

  it('a second signal exits within a bound when the close it asked for never settles', async () => {
    vi.useFakeTimers();
    try {
      const proc = fakeProcess();
      const never = new Promise<void>(() => {});
      installShutdownHooks({ close: () => never }, { process: proc });
      proc.emit('SIGTERM', 'SIGTERM');
      proc.emit('SIGTERM', 'SIGTERM');
      await vi.advanceTimersByTimeAsync(999);
      expect(proc.kill).not.toHaveBeenCalled();
      await vi.advanceTimersByTimeAsync(1);
      expect(proc.kill).toHaveBeenCalledWith(4242, 'SIGTERM');
    } finally {
      vi.useRealTimers();
    }
  });

  it('a rejecting close still exits', async () => {
    const proc = fakeProcess();
    installShutdownHooks({ close: () => Promise.reject(new Error('boom')) }, { process: proc });
    proc.emit('SIGTERM', 'SIGTERM');
    await new Promise((r) => setImmediate(r));
    expect(proc.kill).toHaveBeenCalledWith(4242, 'SIGTERM');
  });

  it('is removable', () => {
    const proc = fakeProcess();
    const uninstall = installShutdownHooks({ close: async () => {} }, { process: proc });
    expect(proc.listenerCount('SIGTERM')).toBe(1);
    expect(proc.listenerCount('SIGINT')).toBe(1);
    uninstall();
    uninstall();
    expect(proc.listenerCount('SIGTERM')).toBe(0);
    expect(proc.listenerCount('SIGINT')).toBe(0);
  });

  it('is a no-op without a process object', () => {
    const uninstall = installShutdownHooks(
      { close: async () => {} },
      { process: {} as ProcessLike },
    );
    expect(uninstall).toBeTypeOf('function');
    uninstall();
  });
});

describe('systemClock', () => {
  it('unrefs its timers so a client never keeps the process alive', () => {
    const handle = systemClock.setTimeout(() => {}, 60_000) as { hasRef(): boolean };
    expect(handle.hasRef()).toBe(false);
    systemClock.clearTimeout(handle);
  });
});
