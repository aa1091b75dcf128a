import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type MockGraph, startMockGraph } from '@capi-kit/testing';
import { afterEach, beforeAll, beforeEach, expect } from 'vitest';

// The fault suite runs the real thing: a child Node process per case, importing the BUILT
// @capi-kit/core (dist, as users get it), against the mock Graph API running here, in this
// process, whose records are the ground truth. `npm test` builds first (turbo: test dependsOn build).

export const PIXEL = '1234567890';

/**
 * Per-case vitest timeout: a child process, its client's retries and a close() of seconds, on a
 * shared two-core machine. Generous on purpose; the cases assert outcomes, never durations.
 */
export const CASE_TIMEOUT_MS = 60_000;
/** A fake token: the mock requires it, so a request without it would show as 190. Never printed. */
const TOKEN = 'EAAfaultSuiteTOKENneverPrinted0123456789';

const DIST = fileURLToPath(new URL('../../dist/index.mjs', import.meta.url));
const SCRIPTS = fileURLToPath(new URL('./scripts/', import.meta.url));

/** Fails early with the fix when the core was not built. */
export const requireBuiltCore = (): void => {
  if (!existsSync(DIST)) {
    throw new Error(
      `${DIST} is missing: build the core first (npx turbo run build --filter=@capi-kit/core)`,
    );
  }
};

/** A mock that checks the token, like Meta. */
export const startFaultMock = (): Promise<MockGraph> => startMockGraph({ accessToken: TOKEN });

/**
 * A case file's hooks: the built core is required, and every case gets a fresh fault mock, set up
 * by `prepare`. Returns the getter a case reads it through.
 */
export const useFaultMock = (prepare?: (mock: MockGraph) => void): (() => MockGraph) => {
  let current: MockGraph | undefined;
  beforeAll(requireBuiltCore);
  beforeEach(async () => {
    current = await startFaultMock();
    prepare?.(current);
  });
  afterEach(async () => {
    await current?.close();
    current = undefined;
  });
  return () => {
    if (!current) throw new Error('the fault mock exists only inside a case');
    return current;
  };
};

/** A line the child printed: retries as they happen, the result at the end. */
export type ChildLine = { type: string; [key: string]: unknown };

/** The child's final report (scripts/fault-client.mjs). */
export interface ChildResult {
  tracked: number;
  accepted: number;
  stats: {
    sent: number;
    queued: number;
    inFlight: number;
    deadLettered: number;
    retried: number;
    dropped: Record<string, number>;
  };
  sentIds: string[];
  deadLetter: Record<string, string[]>;
  dropped: Record<string, string[]>;
  undeliverable: Record<string, string[]>;
  retries: { status: number; reason: string; delayMs: number; count: number }[];
  errors: number;
  afterClose?: boolean;
  closeMs?: number;
  [key: string]: unknown;
}

/** How a child ended. */
export interface ChildRun {
  /** Exit status as a shell reports it: the code, or 128 + n for a death by signal n. */
  status: number;
  signal: NodeJS.Signals | null;
  lines: ChildLine[];
  /** The `result` line; undefined when the child died without printing it. */
  result: ChildResult | undefined;
  stderr: string;
}

const SIGNAL_NUMBERS: Partial<Record<NodeJS.Signals, number>> = {
  SIGTERM: 15,
  SIGINT: 2,
  SIGKILL: 9,
};

/** Options of {@link runChild}. */
export interface RunChildOptions {
  /** `FAULT_CASE` for the script: `{ count, badEvery?, options?, closeTimeoutMs? }`. */
  config: Record<string, unknown>;
  /** More environment, e.g. `FAULT_STEP_MS`. */
  env?: Record<string, string>;
  /** Called for each JSON line as it arrives, with the child (to signal it). */
  onLine?: (line: ChildLine, child: { kill(signal: NodeJS.Signals): boolean }) => void;
  /** Generous bound: the child is killed (and the case fails) after this long. */
  timeoutMs?: number;
  /** A command the script runs under, e.g. `['unshare', '-Urpf']` (Node and the script follow). */
  command?: readonly string[];
}

/** Runs `scripts/<script>` against `mock` and resolves once it has exited. */
export const runChild = (
  script: string,
  mock: MockGraph,
  options: RunChildOptions,
): Promise<ChildRun> =>
  new Promise((resolve, reject) => {
    const [file, ...args] = [...(options.command ?? []), process.execPath, `${SCRIPTS}${script}`];
    const child = spawn(file ?? process.execPath, args, {
      cwd: SCRIPTS,
      env: {
        PATH: process.env.PATH ?? '',
        FAULT_GRAPH_URL: mock.url,
        FAULT_PIXEL_ID: PIXEL,
        FAULT_TOKEN: TOKEN,
        FAULT_CASE: JSON.stringify(options.config),
        ...options.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const lines: ChildLine[] = [];
    let pending = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      pending += chunk;
      for (let nl = pending.indexOf('\n'); nl >= 0; nl = pending.indexOf('\n')) {
        const text = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        if (text.trim() === '') continue;
        let line: ChildLine;
        try {
          line = JSON.parse(text) as ChildLine;
        } catch {
          line = { type: 'text', text };
        }
        lines.push(line);
        options.onLine?.(line, child);
      }
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    const limit = options.timeoutMs ?? 45_000;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(
        new Error(
          `${script} still running after ${limit} ms (killed); lines: ${JSON.stringify(lines.slice(-5))}; stderr: ${stderr}`,
        ),
      );
    }, limit);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const result = lines.find((l) => l.type === 'result') as ChildResult | undefined;
      resolve({
        status: code ?? 128 + (signal ? (SIGNAL_NUMBERS[signal] ?? 0) : 0),
        signal,
        lines,
        result,
        stderr,
      });
    });
  });

/** Counts by key of a map of id lists, without empty keys. */
const counts = (map: Record<string, string[]>): Record<string, number> =>
  Object.fromEntries(Object.entries(map).map(([k, ids]) => [k, ids.length]));

const nonZero = (map: Record<string, number>): Record<string, number> =>
  Object.fromEntries(Object.entries(map).filter(([, n]) => n > 0));

const sum = (values: Iterable<number>): number => {
  let total = 0;
  for (const v of values) total += v;
  return total;
};

/** The case's figures, from the mock's records (delivered, duplicated, requests) and the child. */
export interface CaseFigures {
  tracked: number;
  delivered: number;
  duplicated: number;
  dropped: Record<string, number>;
  undeliverable: Record<string, number>;
  requests: number;
}

/** Figures of a finished case. */
export const figures = (mock: MockGraph, result: ChildResult): CaseFigures => ({
  tracked: result.tracked,
  delivered: new Set(mock.events({ pixelId: PIXEL }).map((e) => e.event.event_id)).size,
  duplicated: sum(mock.duplicates().map((d) => d.count - 1)),
  dropped: nonZero(result.stats.dropped),
  undeliverable: counts(result.undeliverable),
  requests: mock.requests().length,
});

/** Prints the case's figures as one line: `case: tracked N, delivered N, duplicated N, …`. */
export const printFigures = (name: string, f: CaseFigures, extra = ''): void => {
  const line = `${name}: tracked ${f.tracked}, delivered ${f.delivered}, duplicated ${f.duplicated}, dropped ${JSON.stringify(f.dropped)}, undeliverable ${JSON.stringify(f.undeliverable)}, requests ${f.requests}${extra ? `, ${extra}` : ''}`;
  console.log(line);
};

/**
 * Nothing is unaccounted for: every tracked event is delivered (in the mock's records), still
 * queued, dropped or dead-lettered, exactly once, and the client's counters, its hooks and the
 * mock agree on which.
 *
 * - tracked = sent + queued + inFlight + deadLettered + Σ dropped (the client's own identity);
 * - the events the mock received are exactly the ones the client counts as sent (`stats().sent`,
 *   the `sent` hook): nothing counted as delivered that Meta never got, nothing delivered twice
 *   counted once too few, no stranger;
 * - dead-lettered and dropped events are named by the hooks, disjoint from the delivered ones, and
 *   every loss after acceptance reached `onUndeliverable` with its reason.
 */
export const assertAccounted = (mock: MockGraph, run: ChildRun): CaseFigures => {
  const result = run.result;
  expect(result, `no result line; status ${run.status}; stderr: ${run.stderr}`).toBeDefined();
  if (!result) throw new Error('unreachable');
  const { stats } = result;
  const droppedTotal = sum(Object.values(stats.dropped));
  expect(
    stats.sent + stats.queued + stats.inFlight + stats.deadLettered + droppedTotal,
    'tracked = sent + queued + inFlight + deadLettered + Σ dropped',
  ).toBe(result.tracked);

  const delivered = new Set(mock.events({ pixelId: PIXEL }).map((e) => String(e.event.event_id)));
  // The scripts' ids are `ok-<i>` / `bad-<i>` for i < tracked; anything else came from elsewhere.
  const strangers = [...delivered].filter((id) => {
    const match = /^(?:ok|bad)-(\d+)$/.exec(id);
    return !match || Number(match[1]) >= result.tracked;
  });
  expect(strangers, 'the mock got events nobody tracked').toEqual([]);
  const sentIds = new Set(result.sentIds);
  expect(result.sentIds.length, 'the sent hook named each event once').toBe(sentIds.size);
  expect(stats.sent, 'stats().sent = the events the mock received').toBe(delivered.size);
  expect(
    [...sentIds].filter((id) => !delivered.has(id)),
    'counted as sent, never received',
  ).toEqual([]);
  expect(
    [...delivered].filter((id) => !sentIds.has(id)),
    'received, not counted as sent',
  ).toEqual([]);

  const deadIds = Object.values(result.deadLetter).flat();
  const droppedIds = Object.values(result.dropped).flat();
  expect(deadIds.length, 'deadLetter hook = stats().deadLettered').toBe(stats.deadLettered);
  expect(droppedIds.length, 'dropped hook = Σ stats().dropped').toBe(droppedTotal);
  const lost = [...deadIds, ...droppedIds];
  expect(new Set(lost).size, 'an event counted lost twice').toBe(lost.length);
  expect(
    lost.filter((id) => delivered.has(id)),
    'counted lost, yet delivered',
  ).toEqual([]);
  expect(
    delivered.size + lost.length + stats.queued + stats.inFlight,
    'tracked = delivered (mock) + dead-lettered + dropped (hooks) + queued + in flight',
  ).toBe(result.tracked);

  // onUndeliverable hears of every loss after acceptance, with the same reason.
  const undeliverable = Object.fromEntries(
    Object.entries(result.undeliverable).map(([reason, ids]) => [reason, [...ids].sort()]),
  );
  const expected: Record<string, string[]> = {};
  for (const [reason, ids] of Object.entries(result.deadLetter)) expected[reason] = [...ids];
  for (const [reason, ids] of Object.entries(result.dropped)) {
    if (reason === 'overflow' || reason === 'expired' || reason === 'shutdown') {
      expected[reason] = [...(expected[reason] ?? []), ...ids];
    }
  }
  for (const ids of Object.values(expected)) ids.sort();
  expect(undeliverable, 'onUndeliverable by reason = deadLetter + dropped hooks').toEqual(expected);
  return figures(mock, result);
};
