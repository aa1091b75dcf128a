import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type MockGraph, startMockGraph } from '@capi-kit/testing';
import { afterEach, beforeAll, beforeEach, expect } from 'vitest';

// The core's fault suite (packages/core/test/faults), run for a second stream: a child Node
// process per case imports the BUILT @capi-kit/core and @capi-kit/tiktok (dist, through the package
// names, as users get them) and sends every event to Meta and to TikTok, both played by one
// @capi-kit/testing mock running here, whose records are the ground truth. The core's harness is
// not exported, so this one is written for two streams rather than imported.

/** Meta's pixel id. */
export const PIXEL = '1234567890';
/** TikTok's pixel code; its stream key is {@link STREAM}. */
export const CODE = 'C4FAULTSUITE';
/** TikTok's stream key in `stats().pixels` and in every hook's `pixelId`. */
export const STREAM = `tiktok:${CODE}`;
/** Both streams, Meta's first. */
export const STREAMS = [PIXEL, STREAM] as const;

/**
 * Per-case vitest timeout: a child process, its retries and a close() of seconds on a shared
 * two-core machine. Generous on purpose; the cases assert outcomes, never durations.
 */
export const CASE_TIMEOUT_MS = 60_000;
// Fake tokens the mock requires (so a request without one would be refused). Never printed.
const META_TOKEN = 'EAAtiktokFaultSuiteMETA0123456789';
const TIKTOK_TOKEN = 'tt-fault-suite-token-2b9e71c4';
/** Both tokens, for the check that no output of the child carries one. */
export const TOKENS = [META_TOKEN, TIKTOK_TOKEN] as const;

const BUILT = ['../../../core/dist/index.mjs', '../../dist/index.mjs'].map((path) =>
  fileURLToPath(new URL(path, import.meta.url)),
);
const SCRIPTS = fileURLToPath(new URL('./scripts/', import.meta.url));

/** Fails early with the fix when the core or this package was not built. */
export const requireBuilt = (): void => {
  for (const path of BUILT) {
    if (!existsSync(path)) {
      throw new Error(
        `${path} is missing: build first (npx turbo run build --filter=@capi-kit/tiktok...)`,
      );
    }
  }
};

/** One case's mock, and who is told when either platform finished a request. */
export interface FaultMock {
  mock: MockGraph;
  /** Called after every finished request to either platform (see {@link recoverWhen}). */
  onRequest: (() => void) | undefined;
}

/**
 * A case file's hooks: the built packages are required, and every case gets a fresh mock playing
 * both platforms, each checking its token. Returns the getter a case reads it through.
 */
export const useFaultMock = (): (() => FaultMock) => {
  let current: FaultMock | undefined;
  beforeAll(requireBuilt);
  beforeEach(async () => {
    const state: FaultMock = { mock: undefined as unknown as MockGraph, onRequest: undefined };
    state.mock = await startMockGraph({
      accessToken: META_TOKEN,
      tiktokAccessToken: TIKTOK_TOKEN,
      onRequest: () => state.onRequest?.(),
      onTikTokRequest: () => state.onRequest?.(),
    });
    current = state;
  });
  afterEach(async () => {
    await current?.mock.close();
    current = undefined;
  });
  return () => {
    if (!current) throw new Error('the fault mock exists only inside a case');
    return current;
  };
};

/**
 * Ends TikTok's fault (calls `recover`) once Meta has received `metaEvents` events and TikTok has
 * been faulted `faulted()` ≥ `times` times. Gating TikTok's recovery on Meta's deliveries turns
 * "a TikTok outage does not delay Meta" from a race into a fact: were Meta's stream waiting on
 * TikTok's, TikTok would never recover and the case would fail with everything counted.
 */
export const recoverWhen = (
  state: FaultMock,
  options: { metaEvents: number; times: number; faulted: () => number; recover: () => void },
): { recoveredAt: () => number | undefined } => {
  let recoveredAt: number | undefined;
  state.onRequest = () => {
    if (recoveredAt !== undefined) return;
    if (options.faulted() < options.times) return;
    if (uniqueIds(state.mock.events({ pixelId: PIXEL })).size < options.metaEvents) return;
    recoveredAt = Date.now();
    options.recover();
  };
  return { recoveredAt: () => recoveredAt };
};

/** A line the child printed: events as they happen, the result at the end. */
export type ChildLine = { type: string; [key: string]: unknown };

/** What one stream's hooks saw in the child, by event id. */
export interface StreamSeen {
  /** The events this stream took at `track()` (`TrackResult.destinations[stream].accepted`). */
  handed: number;
  /** `sent` hook. */
  sentIds: string[];
  /** `deadLetter` hook, by reason. */
  deadLetter: Record<string, string[]>;
  /** `dropped` hook, by reason. */
  dropped: Record<string, string[]>;
  /** `onUndeliverable`, by reason. */
  undeliverable: Record<string, string[]>;
  /** `retry` hook. */
  retries: { status: number; reason: string; delayMs: number; count: number; at: number }[];
  /** `error` hook, by kind. */
  errors: Record<string, number>;
}

/** The counters of one stream, as `stats().pixels[stream]` has them. */
export interface StreamStats {
  sent: number;
  queued: number;
  inFlight: number;
  deadLettered: number;
  retried: number;
  dropped: Record<string, number>;
  state: string;
}

/** The child's report (scripts/two-streams.mjs). */
export interface ChildResult {
  tracked: number;
  stats: StreamStats & { pixels: Record<string, StreamStats> };
  streams: Record<string, StreamSeen>;
  /** Intake drops (before fan-out, no stream), by reason. */
  intake: Record<string, string[]>;
  /** Every redacted message the hooks carried, to check that no token is among them. */
  messages: string[];
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
  /** The last `result` line; undefined when the child died without printing one. */
  result: ChildResult | undefined;
  stdout: string;
  stderr: string;
}

const SIGNAL_NUMBERS: Partial<Record<NodeJS.Signals, number>> = { SIGTERM: 15, SIGKILL: 9 };

/** Options of {@link runChild}. */
export interface RunChildOptions {
  /** `FAULT_CASE` for the script: `{ count, badEvery?, options?, closeTimeoutMs?, … }`. */
  config: Record<string, unknown>;
  /** TikTok's endpoint; default the mock's (a case may put a front before it). */
  tiktokUrl?: string | undefined;
  /** Called for each JSON line as it arrives, with the child (to signal it). */
  onLine?: (line: ChildLine, child: { kill(signal: NodeJS.Signals): boolean }) => void;
  /** Generous bound: the child is killed (and the case fails) after this long. */
  timeoutMs?: number;
}

/** Runs `scripts/<script>` against the mock and resolves once it has exited. */
export const runChild = (
  script: string,
  mock: MockGraph,
  options: RunChildOptions,
): Promise<ChildRun> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [`${SCRIPTS}${script}`], {
      cwd: SCRIPTS,
      env: {
        PATH: process.env.PATH ?? '',
        FAULT_GRAPH_URL: mock.url,
        FAULT_PIXEL_ID: PIXEL,
        FAULT_META_TOKEN: META_TOKEN,
        FAULT_TIKTOK_URL: options.tiktokUrl ?? mock.tiktok.url,
        FAULT_PIXEL_CODE: CODE,
        FAULT_TIKTOK_TOKEN: TIKTOK_TOKEN,
        FAULT_CASE: JSON.stringify(options.config),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const lines: ChildLine[] = [];
    let pending = '';
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
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
          `${script} still running after ${limit} ms (killed); last lines: ${JSON.stringify(lines.slice(-3))}; stderr: ${stderr}`,
        ),
      );
    }, limit);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const result = lines.findLast((l) => l.type === 'result') as ChildResult | undefined;
      resolve({
        status: code ?? 128 + (signal ? (SIGNAL_NUMBERS[signal] ?? 0) : 0),
        signal,
        lines,
        result,
        stdout,
        stderr,
      });
    });
  });

const sum = (values: Iterable<number>): number => {
  let total = 0;
  for (const v of values) total += v;
  return total;
};

const uniqueIds = (events: readonly { event: { event_id?: unknown } }[]): Set<string> =>
  new Set(events.map((e) => String(e.event.event_id)));

/** The event ids a platform accepted (the mock's records), per stream. */
export const deliveredIds = (mock: MockGraph, stream: string): Set<string> =>
  stream === PIXEL
    ? uniqueIds(mock.events({ pixelId: PIXEL }))
    : uniqueIds(mock.tiktok.events({ pixelCode: CODE }));

/** One stream's figures of a finished case, from the mock (delivered, duplicated, requests) and the child. */
export interface StreamFigures {
  handed: number;
  delivered: number;
  duplicated: number;
  deadLettered: Record<string, number>;
  dropped: Record<string, number>;
  retried: number;
  requests: number;
}

const counts = (map: Record<string, string[]>): Record<string, number> =>
  Object.fromEntries(
    Object.entries(map)
      .filter(([, ids]) => ids.length > 0)
      .map(([k, ids]) => [k, ids.length]),
  );

/** Figures of one stream of a finished case. */
export const streamFigures = (
  mock: MockGraph,
  result: ChildResult,
  stream: string,
): StreamFigures => {
  const seen = result.streams[stream];
  const isMeta = stream === PIXEL;
  const duplicates = isMeta ? mock.duplicates() : mock.tiktok.duplicates();
  return {
    handed: seen?.handed ?? 0,
    delivered: deliveredIds(mock, stream).size,
    duplicated: sum(duplicates.map((d) => d.count - 1)),
    deadLettered: counts(seen?.deadLetter ?? {}),
    dropped: counts(seen?.dropped ?? {}),
    retried: seen?.retries.length ?? 0,
    requests: isMeta ? mock.requests().length : mock.tiktok.requests().length,
  };
};

/** Prints one line per case: `case: meta {…} | tiktok {…}`. */
export const printFigures = (name: string, mock: MockGraph, result: ChildResult, extra = '') => {
  const show = (f: StreamFigures) =>
    `handed ${f.handed}, delivered ${f.delivered}, duplicated ${f.duplicated}, dead ${JSON.stringify(f.deadLettered)}, dropped ${JSON.stringify(f.dropped)}, retries ${f.retried}, requests ${f.requests}`;
  console.log(
    `${name}: meta ${show(streamFigures(mock, result, PIXEL))} | tiktok ${show(streamFigures(mock, result, STREAM))}${extra ? ` | ${extra}` : ''}`,
  );
};

/**
 * Every duplicate a platform holds must be explained by a request it accepted whose answer the
 * client did not wait for (its timeout aborted it, so the client rightly sent the events again).
 * Without such a request there may be none.
 */
const assertDuplicatesExplained = (mock: MockGraph, stream: string): void => {
  const isMeta = stream === PIXEL;
  const duplicated = (isMeta ? mock.duplicates() : mock.tiktok.duplicates()).map((d) => d.event_id);
  if (duplicated.length === 0) return;
  const unanswered = new Set(
    (isMeta ? mock.requests() : mock.tiktok.requests())
      .filter((r) => r.clientAborted && r.status === 200)
      .map((r) => r.index),
  );
  const events = isMeta ? mock.events({ pixelId: PIXEL }) : mock.tiktok.events({ pixelCode: CODE });
  const explained = new Set(
    events.filter((e) => unanswered.has(e.requestIndex)).map((e) => String(e.event.event_id)),
  );
  expect(
    duplicated.filter((id) => !explained.has(id)),
    `${stream}: delivered twice without a timed-out request that explains it`,
  ).toEqual([]);
};

/**
 * Nothing unaccounted for, per stream and in total (the core suite's identity, for each stream):
 *
 * - per stream: handed = sent + queued + inFlight + deadLettered + Σ dropped (`stats().pixels`);
 * - the events each platform's mock accepted are exactly those the client counts as `sent` for
 *   that stream (so an answer that is not the platform's acknowledgement never counts), no
 *   stranger, none named twice by the `sent` hook;
 * - dead-lettered and dropped events are named by the hooks with that stream, are disjoint from
 *   the delivered ones, and reached `onUndeliverable` with the same reason and stream;
 * - in total: the client's totals are the sums of its streams (plus intake drops), and add up to
 *   every event handed to a stream;
 * - a duplicate at either platform is explained by a request whose answer the client gave up on.
 */
export const assertAccounted = (mock: MockGraph, run: ChildRun): ChildResult => {
  const result = run.result;
  expect(result, `no result line; status ${run.status}; stderr: ${run.stderr}`).toBeDefined();
  if (!result) throw new Error('unreachable');
  for (const stream of STREAMS) {
    const stats = result.stats.pixels[stream];
    const seen = result.streams[stream];
    expect(stats, `${stream}: no stats`).toBeDefined();
    expect(seen, `${stream}: no hooks`).toBeDefined();
    if (!stats || !seen) throw new Error('unreachable');
    const droppedTotal = sum(Object.values(stats.dropped));
    expect(
      stats.sent + stats.queued + stats.inFlight + stats.deadLettered + droppedTotal,
      `${stream}: handed = sent + queued + inFlight + deadLettered + Σ dropped`,
    ).toBe(seen.handed);

    const delivered = deliveredIds(mock, stream);
    const strangers = [...delivered].filter((id) => {
      const match = /^(?:ok|bad)-(\d+)$/.exec(id);
      return !match || Number(match[1]) >= result.tracked;
    });
    expect(strangers, `${stream}: events nobody tracked`).toEqual([]);
    const sentIds = new Set(seen.sentIds);
    expect(seen.sentIds.length, `${stream}: the sent hook named an event twice`).toBe(sentIds.size);
    expect(stats.sent, `${stream}: stats().sent = the events the platform accepted`).toBe(
      delivered.size,
    );
    expect(
      [...sentIds].filter((id) => !delivered.has(id)),
      `${stream}: counted as sent, never accepted`,
    ).toEqual([]);
    expect(
      [...delivered].filter((id) => !sentIds.has(id)),
      `${stream}: accepted, not counted as sent`,
    ).toEqual([]);

    const deadIds = Object.values(seen.deadLetter).flat();
    const droppedIds = Object.values(seen.dropped).flat();
    expect(deadIds.length, `${stream}: deadLetter hook = stats().deadLettered`).toBe(
      stats.deadLettered,
    );
    expect(droppedIds.length, `${stream}: dropped hook = Σ stats().dropped`).toBe(droppedTotal);
    const lost = [...deadIds, ...droppedIds];
    expect(new Set(lost).size, `${stream}: an event counted lost twice`).toBe(lost.length);
    expect(
      lost.filter((id) => delivered.has(id)),
      `${stream}: counted lost, yet delivered`,
    ).toEqual([]);
    expect(
      delivered.size + lost.length + stats.queued + stats.inFlight,
      `${stream}: handed = delivered (mock) + dead-lettered + dropped (hooks) + queued + in flight`,
    ).toBe(seen.handed);

    const sorted = (map: Record<string, string[]>) =>
      Object.fromEntries(Object.entries(map).map(([k, ids]) => [k, [...ids].sort()]));
    const expected: Record<string, string[]> = { ...seen.deadLetter };
    for (const [reason, ids] of Object.entries(seen.dropped)) {
      if (reason === 'overflow' || reason === 'expired' || reason === 'shutdown') {
        expected[reason] = [...(expected[reason] ?? []), ...ids];
      }
    }
    expect(
      sorted(seen.undeliverable),
      `${stream}: onUndeliverable by reason = deadLetter + dropped hooks`,
    ).toEqual(sorted(expected));
    assertDuplicatesExplained(mock, stream);
  }

  // In total: the client's figures are its streams' (intake drops count once, with no stream).
  const { stats } = result;
  const per = STREAMS.map((s) => result.stats.pixels[s] as StreamStats);
  for (const key of ['sent', 'queued', 'inFlight', 'deadLettered', 'retried'] as const) {
    expect(stats[key], `total ${key} = Σ streams`).toBe(sum(per.map((p) => p[key])));
  }
  const intake = Object.values(result.intake).flat().length;
  const droppedTotal = sum(Object.values(stats.dropped));
  expect(droppedTotal, 'total dropped = Σ streams + intake').toBe(
    sum(per.map((p) => sum(Object.values(p.dropped)))) + intake,
  );
  expect(
    stats.sent + stats.queued + stats.inFlight + stats.deadLettered + droppedTotal,
    'in total: Σ handed + intake drops = sent + queued + inFlight + deadLettered + Σ dropped',
  ).toBe(sum(STREAMS.map((s) => result.streams[s]?.handed ?? 0)) + intake);

  // Neither token in anything the child printed (hook messages included).
  for (const token of TOKENS) {
    expect(run.stdout.includes(token), 'a token in the child’s output').toBe(false);
    expect(run.stderr.includes(token), 'a token in the child’s stderr').toBe(false);
  }
  return result;
};

/**
 * Meta is unaffected by whatever TikTok did: every event Meta was handed was delivered, none lost,
 * none twice, Meta's stream never retried (except, where `timeouts` allows it, a request its own
 * short timeout cut on a loaded machine) and ends open.
 */
export const assertMetaUnaffected = (
  mock: MockGraph,
  result: ChildResult,
  options: { timeouts?: boolean } = {},
): void => {
  const meta = result.streams[PIXEL];
  const stats = result.stats.pixels[PIXEL];
  expect(meta?.handed, 'Meta was handed every event').toBe(result.tracked);
  expect(deliveredIds(mock, PIXEL).size, 'Meta got every event').toBe(result.tracked);
  expect(stats?.deadLettered, 'Meta dead-lettered nothing').toBe(0);
  expect(counts(meta?.dropped ?? {}), 'Meta dropped nothing').toEqual({});
  expect(stats?.state, 'Meta’s stream ends open').toBe('open');
  expect(meta?.errors, 'no error on Meta’s stream').toEqual({});
  const retries = (meta?.retries ?? []).filter((r) => !(options.timeouts && r.status === 0));
  expect(retries, 'Meta’s stream never retried').toEqual([]);
  if (!options.timeouts) expect(mock.duplicates(), 'Meta got nothing twice').toEqual([]);
};
