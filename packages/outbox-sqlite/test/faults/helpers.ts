import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { MockGraph } from '@capi-kit/testing';

/** The child app (fixtures/tracker.mjs) runs the built packages: build before testing. */
export const TRACKER = fileURLToPath(new URL('./fixtures/tracker.mjs', import.meta.url));
const DIST = fileURLToPath(new URL('../../dist/index.mjs', import.meta.url));

/** Throws unless dist/ exists (the children import it, like an app). */
export const assertBuilt = () => {
  if (!existsSync(DIST)) throw new Error('build first: the child processes run dist/');
};

/** What tracker.mjs prints after close(). */
export interface TrackerReport {
  accepted: number;
  stats: {
    sent: number;
    queued: number;
    inFlight: number;
    deadLettered: number;
    dropped: Record<string, number>;
  };
  outbox: {
    writeFailing: boolean;
    sawWriteFailing: boolean;
    writeFailures: number;
    lastWriteError?: string;
    memoryAtClose: number;
    peakMemory: number;
    commits: number;
  };
  outboxErrors: string[];
  undeliverable: Record<string, string[]>;
}

/** A running child: its exit and everything it printed. */
export interface Child {
  pid: number;
  stdout: string[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves with the first stdout line that parses as JSON. */
  firstJson<T>(): Promise<T>;
  kill(signal: NodeJS.Signals): void;
}

/**
 * Starts `node tracker.mjs …` through bash, so a shell prelude (`ulimit -f 300`) applies to the
 * child only. `trap '' XFSZ` makes the kernel's SIGXFSZ ignored across exec (the script ignores
 * it too): a write past the limit then fails with EFBIG, as a full disk fails with ENOSPC.
 */
export const startTracker = (
  args: string[],
  prelude = '',
  shape: { memoryMaxEvents?: number; closeTimeoutMs?: number } = {},
): Child => {
  const quoted = args.map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(' ');
  const command = `trap '' XFSZ; ${prelude} exec node '${TRACKER}' ${quoted}`;
  const child = spawn('bash', ['-c', command], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, FAULT_OPTIONS: JSON.stringify(shape) },
  });
  const stdout: string[] = [];
  const jsonWaiters: ((line: string) => void)[] = [];
  let buffered = '';
  child.stdout.on('data', (chunk: Buffer) => {
    buffered += String(chunk);
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    for (const line of lines) {
      stdout.push(line);
      if (line.startsWith('{')) for (const resolve of jsonWaiters.splice(0)) resolve(line);
    }
  });
  child.stderr.on('data', (chunk: Buffer) => process.stderr.write(chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return {
    pid: child.pid as number,
    stdout,
    exited,
    firstJson: <T>() =>
      new Promise<T>((resolve, reject) => {
        const seen = stdout.find((line) => line.startsWith('{'));
        if (seen) return resolve(JSON.parse(seen) as T);
        jsonWaiters.push((line) => resolve(JSON.parse(line) as T));
        void exited.then(({ code, signal }) =>
          reject(new Error(`tracker exited (${code ?? signal}) before reporting`)),
        );
      }),
    kill: (signal) => child.kill(signal),
  };
};

/** Per event id, how many times the mock accepted it. */
export const deliveries = (mock: MockGraph): Map<string, number> => {
  const seen = new Map<string, number>();
  for (const event of mock.events()) {
    const id = String(event.event.event_id ?? '');
    seen.set(id, (seen.get(id) ?? 0) + 1);
  }
  return seen;
};

/** `track() calls = sent + queued + inFlight + deadLettered + Σ dropped`, the accounting invariant. */
export const accounted = (stats: TrackerReport['stats']): number =>
  stats.sent +
  stats.queued +
  stats.inFlight +
  stats.deadLettered +
  Object.values(stats.dropped).reduce((a, b) => a + b, 0);
