import type { Outbox } from './outbox/types.js';

// The outbox as the engine calls it, counting the calls that are still running (an async outbox's
// promises), so that close() calls the outbox's own `close()` only once they have all answered:
// closed under a call of the engine's (a request's answer being recorded, an expiry's dead letter,
// a flush, an append), an outbox that refuses it would leave that call's records counted as
// queued on a closed client. `stats` and `attach` are not counted: they change nothing.

/** What {@link countOutboxCalls} returns. */
export interface CountedOutbox {
  /** The same outbox, its calls counted while they run. */
  outbox: Outbox;
  /** Calls of the engine's still running. */
  running(): number;
  /** Resolves when no call is running (at once if none is). */
  idle(): Promise<void>;
}

/** True for a promise (any thenable object), as an outbox method may return. */
export const isPromise = <T>(value: unknown): value is Promise<T> =>
  typeof value === 'object' && value !== null && typeof (value as Promise<T>).then === 'function';

/** Wraps `outbox` so that every call of the engine's that returns a promise is counted until it settles. */
export const countOutboxCalls = (outbox: Outbox): CountedOutbox => {
  let running = 0;
  let waiters: (() => void)[] = [];
  const ended = (): void => {
    running--;
    if (running > 0 || waiters.length === 0) return;
    const ready = waiters;
    waiters = [];
    for (const resolve of ready) resolve();
  };
  const count = <R>(result: R): R => {
    if (!isPromise(result)) return result;
    // Adopted once into a native promise, which is what the engine then awaits: a thenable's
    // `then` runs exactly once (a query builder runs its query on every `then`, so a second one
    // would insert or delete twice), it settles the count once whatever it calls back, and a
    // `then` that throws rejects instead. A native promise comes back as itself.
    const settled = Promise.resolve(result);
    running++;
    settled.then(ended, ended);
    return settled as R;
  };
  // The optional methods and `durable` are read from the outbox at each use, as if it were
  // called directly: one given a method after it was handed over still has it.
  const takeNonDurable: NonNullable<Outbox['takeNonDurable']> = (pixelId) =>
    count(outbox.takeNonDurable?.(pixelId) ?? []);
  const flush: NonNullable<Outbox['flush']> = () => count(outbox.flush?.());
  const close: NonNullable<Outbox['close']> = () => outbox.close?.();
  const attach: NonNullable<Outbox['attach']> = (host) => outbox.attach?.(host);
  // Getters of an absent method answer `undefined`, which the engine reads as absent (it never
  // asks `in`); `exactOptionalPropertyTypes` cannot say that of a getter, hence the cast.
  const counted = {
    get durable() {
      return outbox.durable;
    },
    append: (records) => count(outbox.append(records)),
    claim: (limit, leaseMs, options) => count(outbox.claim(limit, leaseMs, options)),
    ack: (ids) => count(outbox.ack(ids)),
    nack: (ids, retryAt, error) => count(outbox.nack(ids, retryAt, error)),
    release: (ids, retryAt) => count(outbox.release(ids, retryAt)),
    deadLetter: (ids, error) => count(outbox.deadLetter(ids, error)),
    stats: () => outbox.stats(),
    get takeNonDurable() {
      return outbox.takeNonDurable ? takeNonDurable : undefined;
    },
    get flush() {
      return outbox.flush ? flush : undefined;
    },
    get close() {
      return outbox.close ? close : undefined;
    },
    get attach() {
      return outbox.attach ? attach : undefined;
    },
  } as Outbox;
  return {
    outbox: counted,
    running: () => running,
    idle: () =>
      running === 0
        ? Promise.resolve()
        : new Promise<void>((resolve) => {
            waiters.push(resolve);
          }),
  };
};
