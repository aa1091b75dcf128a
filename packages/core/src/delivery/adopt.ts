import type { OutboxStats } from './outbox/types.js';
import { type CountedOutbox, isPromise } from './outbox-calls.js';
import type { Clock } from './types.js';

// What a previous run left in a durable outbox is counted at start, from the outbox's `stats()`:
// queued, then sent, as if this run had tracked it. The count must be exactly those records, so
// until it is known every other call of the engine's on the outbox waits (`holdUntil`): an append
// landing before an async answer would be counted twice, a claim before it would take records not
// counted yet. A failed `stats()` is asked again (a database still starting is the usual cause),
// with the calls still held. close() waits for the count for half its budget, then gives it up
// (`closing`: the held writes run, the claims stay held) and at its deadline lifts the rest
// (`giveUp`: the held claims answer empty); an answer after that is dropped, its records left in
// the outbox for the next start.

/** First pause before `stats()` is asked again after it failed; doubles up to the maximum. */
export const ADOPT_RETRY_MS = 1_000;
/** Longest pause between two `stats()` calls. */
export const ADOPT_RETRY_MAX_MS = 30_000;
/** How long the count may take before a warning says that events wait on it. */
export const ADOPT_WARN_MS = 10_000;

/** What {@link adoptPreviousRun} needs of the client. */
export interface AdoptContext {
  /** The durable outbox as the engine calls it. */
  calls: CountedOutbox;
  /** The engine's clock, for the retries and the warning. */
  clock: Clock;
  /** Counts a valid answer: its records as queued, per pixel. */
  count(stats: OutboxStats): void;
  /** The client's logger (never throws). */
  log(level: 'info' | 'warn' | 'error', obj: Record<string, unknown>, msg: string): void;
  /** An error as it may be logged (redacted). */
  describe(error: unknown): string;
}

/** What {@link adoptPreviousRun} returns. */
export interface Adoption {
  /** True while the count is being asked for. */
  asking(): boolean;
  /** Resolves once the count is known or given up. */
  ended(): Promise<void>;
  /**
   * close()'s step once it waited half its budget for a count still unknown: the count is given
   * up (a later answer is dropped) and the held writes run, so the appends have the rest of the
   * budget to land; the other calls (claims, which could take a previous run's uncounted records)
   * stay held until `giveUp`.
   */
  closing(): void;
  /**
   * close()'s last: every held call runs; a count still unknown is given up, and a count given up
   * leaves the held claims empty (they do not ask the outbox).
   */
  giveUp(): void;
  /**
   * While the count is unknown, what a wait for the held calls (`flush()`, a background flush)
   * races: `known` once the count is (or was given up), `stalled` once a `stats()` failed (it is
   * asked again after a pause) or none answered in {@link ADOPT_WARN_MS}. Undefined once known.
   */
  wait(): Promise<'known' | 'stalled'> | undefined;
}

/** Asks a durable outbox what a previous run left and counts it; returns close()'s way to give the count up. */
export const adoptPreviousRun = (ctx: AdoptContext): Adoption => {
  const { calls, clock, log } = ctx;
  let state: 'asking' | 'done' | 'given up' = 'asking';
  let failures = 0;
  let retry: unknown;
  let warn: unknown;
  let openGate: (() => void) | undefined;
  let openWrites: (() => void) | undefined;
  let markEnded: () => void = () => {};
  const endedPromise = new Promise<void>((resolve) => {
    markEnded = resolve;
  });
  // Settled once: `stalled` stays once it came first (the count is then backing off, like a pause).
  let decide: (outcome: 'known' | 'stalled') => void = () => {};
  const decided = new Promise<'known' | 'stalled'>((resolve) => {
    decide = resolve;
  });

  /** The count is known or given up: no more asking; the writes run, and the rest unless `holdRest`. */
  const end = (next: 'done' | 'given up', holdRest = false) => {
    state = next;
    if (retry !== undefined) clock.clearTimeout(retry);
    if (warn !== undefined) clock.clearTimeout(warn);
    openWrites?.();
    if (!holdRest) openGate?.();
    decide('known');
    markEnded();
  };
  const answered = (stats: OutboxStats) => {
    if (state !== 'asking') return;
    try {
      if (typeof stats?.pixels !== 'object' || stats.pixels === null) {
        throw new TypeError('stats() answered without `pixels`');
      }
      // Counted before the held calls run: a claim then finds those records already counted.
      ctx.count(stats);
      if (failures > 0) log('info', { failures }, 'capi-kit: outbox stats answered');
    } catch (error) {
      // A malformed answer is the outbox's bug, which asking again would not mend.
      log('error', { error: ctx.describe(error) }, 'capi-kit: outbox stats failed');
    }
    end('done');
  };
  const failed = (error: unknown) => {
    if (state !== 'asking') return;
    const retryInMs = Math.min(ADOPT_RETRY_MS * 2 ** failures, ADOPT_RETRY_MAX_MS);
    failures++;
    decide('stalled');
    // Once per start, not once per try: the warning below says what waits meanwhile.
    if (failures === 1) {
      log('error', { error: ctx.describe(error), retryInMs }, 'capi-kit: outbox stats failed');
    }
    retry = clock.setTimeout(() => {
      retry = undefined;
      ask();
    }, retryInMs);
  };
  const ask = () => {
    let answer: ReturnType<CountedOutbox['outbox']['stats']>;
    let later: boolean;
    try {
      answer = calls.outbox.stats();
      // Inside the try: reading `then` may throw too (a Proxy, a getter), at start out of
      // createCapi() and on a retry out of a timer's callback.
      later = isPromise<OutboxStats>(answer);
    } catch (error) {
      failed(error);
      return;
    }
    if (later) {
      Promise.resolve(answer).then(answered, failed);
    } else {
      answered(answer as OutboxStats);
    }
  };

  ask();
  if (state === 'asking') {
    calls.holdUntil(
      new Promise<void>((resolve) => {
        openGate = resolve;
      }),
      new Promise<void>((resolve) => {
        openWrites = resolve;
      }),
    );
    // An outbox whose stats() never settles (a promise nobody resolves) or keeps failing would
    // otherwise hold every event in memory without a word.
    warn = clock.setTimeout(() => {
      warn = undefined;
      if (state !== 'asking') return;
      decide('stalled');
      log(
        'warn',
        { waitedMs: ADOPT_WARN_MS, failures },
        `capi-kit: the outbox's stats() has not answered in ${ADOPT_WARN_MS / 1000} s; events wait in memory until it does (or until close())`,
      );
    }, ADOPT_WARN_MS);
  }
  return {
    asking: () => state === 'asking',
    ended: () => endedPromise,
    closing: () => {
      if (state === 'asking') end('given up', true);
    },
    giveUp: () => {
      if (state === 'asking') end('given up', true);
      // Given up, close()'s deadline came: a held claim could only take records (a previous run's
      // uncounted ones too) to give them back, and a process ending first would leave them leased.
      if (state === 'given up') calls.emptyHeldClaims();
      openGate?.();
    },
    wait: () => (state === 'asking' ? decided : undefined),
  };
};
