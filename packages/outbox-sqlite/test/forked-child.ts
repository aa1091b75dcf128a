// A fixture script run as a real child process (crash.test.ts, deploy.test.ts): it imports the
// built package as an app would, talks to the test over IPC, and is killed like a real process.
import { type ChildProcess, fork } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { onTestFinished } from 'vitest';

const DIST = fileURLToPath(new URL('../dist/index.mjs', import.meta.url));

/** Throws unless dist/ exists: the children import it, not the sources. */
export const assertBuilt = () => {
  if (!existsSync(DIST)) {
    throw new Error('build first: the child processes run dist/ (npm run build)');
  }
};

/** A running fixture: its messages, its exit, and a way to end it. */
export interface ForkedChild {
  child: ChildProcess;
  /**
   * The next message with `key` (resolved with its value), or without `key` the next message.
   * Rejects if none comes in `timeoutMs`, or if the child exits first (with its stderr's end).
   */
  next<T>(key?: string, timeoutMs?: number): Promise<T>;
  /** The exit: the signal that ended the child, or its exit code. */
  exited: Promise<NodeJS.Signals | number | null>;
  /** SIGKILLs the child unless it has exited, and waits for its exit. */
  stop(): Promise<void>;
}

/**
 * Forks `script` with `args` (Node's own flags left out): stderr is kept and passed through. Call
 * it inside a test: the child is SIGKILLed when the test finishes, passed or failed.
 */
export const forkChild = (script: string, args: string[]): ForkedChild => {
  const child = fork(script, args, { execArgv: [], stdio: ['ignore', 'inherit', 'pipe', 'ipc'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += String(chunk);
    process.stderr.write(chunk);
  });
  const exited = new Promise<NodeJS.Signals | number | null>((resolve) =>
    child.once('exit', (code, signal) => resolve(signal ?? code)),
  );
  const next = <T>(key?: string, timeoutMs = 30_000): Promise<T> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no ${key ?? 'message'} from the child in time`)),
        timeoutMs,
      );
      const onMessage = (message: unknown) => {
        const keyed = message as Record<string, unknown>;
        if (key !== undefined && !(typeof message === 'object' && message && key in keyed)) return;
        clearTimeout(timer);
        child.off('message', onMessage);
        resolve((key === undefined ? message : keyed[key]) as T);
      };
      child.on('message', onMessage);
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`child exited early (${code ?? signal}): ${stderr.slice(-2000)}`));
      });
    });
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  };
  // A failed assertion leaves the test before its own stop(): the child would outlive the run
  // (a tracker hanging on a mock in outage), holding its file and the worker's exit.
  onTestFinished(stop);
  return { child, next, exited, stop };
};
