// How an event's records reach the client's outbox and are counted (`createAppends`): an append
// that answers at once or later, records a queue's workers deliver (delegated) or the outbox let go
// (evicted), appends held in memory while a durable outbox's start-up count is unknown, and the
// outbox's side channel (records put back, evictions on its own schedule, its failures).

import type { Adoption } from './adopt.js';
import type { HookBus } from './hooks.js';
import type { EnqueueRefusal } from './intake.js';
import type { AppendResult, Outbox, OutboxRecord } from './outbox/types.js';
import { isPromise } from './outbox-calls.js';
import type { PixelPipe } from './pixel-pipe.js';
import { describeError, type Redactor } from './redact.js';
import type { Clock } from './types.js';

/** What the appends need of the client they belong to. */
export interface AppendsDeps {
  outbox: Outbox;
  pipes: ReadonlyMap<string, PixelPipe>;
  /** The durable outbox's start-up count, once the pipes exist (`adopt.ts`). */
  adoption(): Adoption | undefined;
  /** True once `close()` called the outbox's own `close()`: it is not flushed after that. */
  outboxClosed(): boolean;
  /** The bound of appends held while the count is unknown (`maxQueuedEvents`, `maxQueuedBytes`). */
  maxQueuedEvents: number;
  maxQueuedBytes: number;
  clock: Clock;
  /** The client's logger (never throws; redacts). */
  log(level: 'warn' | 'error', obj: Record<string, unknown>, msg: string): void;
  hooks: HookBus;
  redact: Redactor;
  /** The warning for records handed to another process that leave a Test Events code behind. */
  delegatedTestCode(
    delegated: readonly OutboxRecord[],
  ): { pixelId: string; message: string } | undefined;
}

/** The client's side of its outbox's writes. */
export interface Appends {
  /**
   * Appends one event's records and counts them. Returns what a synchronous append threw, wrapped
   * (nothing was counted: track() counts it as one intake drop before it reports the error, so the
   * figures add up inside the `error` hook too), or `overflow` when the appends held in memory are
   * at their bound; undefined once the records are in.
   */
  enqueue(records: OutboxRecord[], flushNow: boolean): EnqueueRefusal | undefined;
  /**
   * What flush(), drain() and close() do first: wait for the async appends not yet answered (for
   * their answer, whatever it is), then have a durable outbox make its buffered writes (group
   * commit, bulk enqueue) durable. Never rejects.
   */
  settle(): Promise<void>;
  /** An outbox failure, logged and emitted as the `error` hook (`kind: 'outbox'`). */
  reportOutboxError(error: unknown, what?: string): void;
  /** Hands the outbox its side channel (`Outbox.attach`), if it takes one. */
  attach(): void;
}

const byPixel = (records: readonly OutboxRecord[]): Map<string, OutboxRecord[]> => {
  const map = new Map<string, OutboxRecord[]>();
  for (const record of records) {
    const list = map.get(record.pixelId);
    if (list) list.push(record);
    else map.set(record.pixelId, [record]);
  }
  return map;
};

/** The appends of one client (see the module comment). */
export const createAppends = (deps: AppendsDeps): Appends => {
  const { outbox, pipes, clock, log, hooks, redact } = deps;
  const pending = new Set<Promise<unknown>>();

  const handleAppend = (result: AppendResult | undefined, delegatedCounted = true) => {
    const evicted = result?.evicted ?? [];
    if (evicted.length > 0) {
      for (const [pixelId, list] of byPixel(evicted)) pipes.get(pixelId)?.noteEvicted(list);
    }
    const delegated = result?.delegated ?? [];
    if (delegatedCounted && delegated.length > 0) {
      for (const [pixelId, list] of byPixel(delegated)) pipes.get(pixelId)?.noteDelegated(list);
    }
    const told = delegated.length > 0 ? deps.delegatedTestCode(delegated) : undefined;
    if (told !== undefined) {
      const { pixelId, message } = told;
      log('warn', { pixelId }, message);
      hooks.emit('warn', () => ({ message, pixelId }));
    }
  };

  const reportOutboxError = (error: unknown, what = 'append failed') => {
    const message = describeError(error, redact);
    log('error', {}, `capi-kit: outbox ${what}: ${message}`);
    hooks.emit('error', () => ({ kind: 'outbox', error: new Error(message) }));
  };

  /**
   * Events (and their bytes) appended while a durable outbox's start-up count holds every call:
   * they wait in this process's memory, bounded as the in-memory outbox is (`maxQueuedEvents`,
   * `maxQueuedBytes`), so a database down at start cannot grow the heap with the traffic.
   */
  let heldEvents = 0;
  let heldBytes = 0;
  /** Events refused past that bound, and when that was last logged (at most every 10 s). */
  let heldOverflow = 0;
  let heldOverflowLoggedAt = Number.NEGATIVE_INFINITY;

  const enqueue = (records: OutboxRecord[], flushNow: boolean): EnqueueRefusal | undefined => {
    let held = false;
    let bytes = 0;
    if (deps.adoption()?.wait() !== undefined) {
      for (const r of records) bytes += r.bytes;
      if (heldEvents + 1 > deps.maxQueuedEvents || heldBytes + bytes > deps.maxQueuedBytes) {
        heldOverflow++;
        // Said as the in-memory outbox's 'queue full' is: the default logger shows warnings only.
        const now = clock.now();
        if (now - heldOverflowLoggedAt >= 10_000) {
          heldOverflowLoggedAt = now;
          log(
            'warn',
            { dropped: heldOverflow, heldEvents, heldBytes },
            "capi-kit: events waiting for the outbox's start-up stats() are at maxQueuedEvents/maxQueuedBytes; new events are dropped (overflow)",
          );
        }
        return { overflow: true };
      }
      held = true;
    }
    let result: ReturnType<Outbox['append']>;
    try {
      result = outbox.append(records);
    } catch (error) {
      return { error };
    }
    if (isPromise<AppendResult | undefined>(result)) {
      for (const r of records) pipes.get(r.pixelId)?.noteAppended(1, r.bytes, flushNow);
      // None of them runs before the count is known, and none is held after: no release needed.
      if (held) {
        heldEvents++;
        heldBytes += bytes;
      }
      const landed = result.then(
        (value) => {
          handleAppend(value);
          // Past a shutdown that gave up waiting for it, nothing will send what it added.
          for (const pixelId of new Set(records.map((r) => r.pixelId))) {
            pipes.get(pixelId)?.noteAppendLanded();
          }
        },
        (error: unknown) => {
          for (const r of records) pipes.get(r.pixelId)?.noteAppendFailed([r]);
          reportOutboxError(error);
        },
      );
      pending.add(landed);
      void landed.finally(() => pending.delete(landed));
      return undefined;
    }
    // Delegated records (a queue's workers deliver them) are never counted as ours.
    const delegated = result?.delegated;
    if (delegated === undefined || delegated.length === 0) {
      for (const r of records) pipes.get(r.pixelId)?.noteAppended(1, r.bytes, flushNow);
    } else if (delegated.length < records.length) {
      const away = new Set(delegated);
      for (const r of records) {
        if (!away.has(r)) pipes.get(r.pixelId)?.noteAppended(1, r.bytes, flushNow);
      }
    }
    handleAppend(result, false);
    return undefined;
  };

  const flushOutbox = async (): Promise<void> => {
    // A flush() after close() has nothing to make durable, and a closed outbox refuses it.
    if (!outbox.flush || deps.outboxClosed()) return;
    try {
      await outbox.flush();
    } catch (error) {
      reportOutboxError(error, 'flush failed');
    }
  };

  // The outbox's side channel: records it puts back (retried dead letters, a producer's fallback),
  // evictions on its own schedule, and failures the app must hear about.
  const attach = () => {
    if (!outbox.attach) return;
    try {
      outbox.attach({
        added: (records) => {
          for (const r of records) pipes.get(r.pixelId)?.noteAppended(1, r.bytes, false);
        },
        recovered: (pixelId, count, bytes) => {
          const pipe = pipes.get(pixelId);
          if (pipe && count > 0) pipe.noteAppended(count, bytes, false);
          return pipe !== undefined;
        },
        evicted: (records) => handleAppend({ evicted: records }),
        error: (error) => reportOutboxError(error, 'failure'),
        warn: (message) => {
          const text = redact(message);
          log('warn', {}, `capi-kit: ${text}`);
          hooks.emit('warn', () => ({ message: text }));
        },
      });
    } catch (error) {
      log('error', { error: describeError(error, redact) }, 'capi-kit: outbox attach failed');
    }
  };

  // No await when no append is pending: the outbox's flush starts in the caller's own turn.
  const settle = (): Promise<void> =>
    pending.size > 0 ? Promise.allSettled([...pending]).then(() => flushOutbox()) : flushOutbox();

  return { enqueue, settle, reportOutboxError, attach };
};
