import type { Outbox } from './outbox/types.js';
import type { CountedOutbox } from './outbox-calls.js';

// close()'s last step: the engine's last calls on the outbox, then the outbox's own `close()`,
// never under one of them. Closed under a call (a take, a request's answer being recorded), an
// outbox that refuses calls once closed would leave that call's records counted as queued on a
// closed client, or lost.

/** What {@link closeOutboxLast} needs of each stream's pipe. */
export interface ClosingPipe {
  /** The shutdown sweep (non-durable) or take (durable) of what is left. */
  finalize(): Promise<void>;
  /** The sweep or take of records that landed after the stop, while one runs. */
  runningLateSweep(): Promise<void> | undefined;
}

/** After the microtasks queued now, and the timers due: a macrotask turn (setImmediate in Node). */
const nextTurn = (): Promise<void> =>
  new Promise((resolve) => {
    if (typeof setImmediate === 'function') setImmediate(resolve);
    else setTimeout(resolve, 0);
  });

/**
 * Each pipe's shutdown sweep or take, then the takes of records that land after it, one after
 * another while they land, then every other call of the engine's still running (`calls`: a
 * request's answer being recorded, an expiry's dead letter, a flush, an append); then
 * `beforeClose` (from there, records landing in a durable outbox are its own) and the outbox's
 * `close()`. Not bounded: close() races it against its deadline, and a call that never answers
 * means the outbox is never closed. The outbox's `close()` failing goes to `closeFailed`; any
 * other rejection is the caller's to report. An outbox without `close()` is left as it is.
 */
export const closeOutboxLast = async (
  pipes: readonly ClosingPipe[],
  outbox: Outbox,
  calls: CountedOutbox | undefined,
  beforeClose: () => void,
  closeFailed: (error: unknown) => void,
): Promise<void> => {
  await Promise.all(pipes.map((pipe) => pipe.finalize()));
  for (;;) {
    const sweeps = pipes.map((pipe) => pipe.runningLateSweep()).filter((p) => p !== undefined);
    if (sweeps.length > 0) {
      await Promise.all(sweeps);
      continue;
    }
    if (!outbox.close) return;
    if (calls !== undefined && calls.running() > 0) {
      await calls.idle();
      continue;
    }
    // What answered last may start another call once its continuations have run (a record put
    // back is swept): look again after them.
    await nextTurn();
    const more = pipes.some((pipe) => pipe.runningLateSweep() !== undefined);
    if (!more && (calls === undefined || calls.running() === 0)) break;
  }
  beforeClose();
  try {
    await outbox.close();
  } catch (error) {
    closeFailed(error);
  }
};
