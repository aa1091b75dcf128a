import type { Outbox } from './outbox/types.js';

// The outbox as the engine calls it, counting the calls that are still running (an async outbox's
// promises), so that close() calls the outbox's own `close()` only once they have all answered:
// closed under a call of the engine's (a request's answer being recorded, an expiry's dead letter,
// a flush, an append), an outbox that refuses it would leave that call's records counted as
// queued on a closed client. `stats` and `attach` are not counted: they change nothing.
//
// It can also hold the engine's calls until a promise settles (`holdUntil`): a durable async
// outbox's start-up `stats()` counts what a previous run left, and an append or a claim made
// before it answers would make that count include, or miss, this run's own records.

/** What {@link countOutboxCalls} returns. */
export interface CountedOutbox {
  /** The same outbox, its calls counted while they run. */
  outbox: Outbox;
  /** Calls of the engine's still running. */
  running(): number;
  /** Resolves when no call is running (at once if none is). */
  idle(): Promise<void>;
  /**
   * Calls made from now until `gate` settles wait for it, then run in the order they were made
   * (`stats`, `attach` and `close` are never held). Each held call counts as running. The writes
   * (`append`, `flush`, `takeNonDurable`) may be let through earlier, when `writesGate` settles;
   * it must settle no later than `gate`.
   */
  holdUntil(gate: Promise<unknown>, writesGate?: Promise<unknown>): void;
  /**
   * The claims held until `gate` answer empty when it lifts, without asking the outbox (close()
   * gave the start-up count up and its deadline came: nothing they took would be sent, and a
   * record leased then stays leased in the outbox if the process ends before it is given back).
   */
  emptyHeldClaims(): void;
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
  // Held calls, in order, one hold for the writes (append, flush, takeNonDurable) and one for the
  // rest: each chains its calls on its gate and counts those that have not run yet. A hold lifts
  // once its gate settled and its last held call ran, so a call made meanwhile (by a held call's
  // answer, say) still queues behind the ones made before it.
  interface Hold {
    chain: Promise<unknown>;
    waiting: number;
    open: boolean;
    /** Held claims answer empty (`emptyHeldClaims`). */
    emptyClaims: boolean;
  }
  const hold = (gate: Promise<unknown>): Hold => {
    const h: Hold = { chain: gate, waiting: 0, open: false, emptyClaims: false };
    const opened = () => {
      h.open = true;
    };
    h.chain = gate.then(opened, opened);
    return h;
  };
  let writes: Hold | undefined;
  let others: Hold | undefined;
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
  const call = <R>(h: Hold | undefined, run: () => R, ifEmptied?: () => R): R => {
    if (h === undefined || (h.open && h.waiting === 0)) return count(run());
    h.waiting++;
    const later = h.chain.then(() => {
      h.waiting--;
      return h.emptyClaims && ifEmptied !== undefined ? ifEmptied() : run();
    });
    return count(later) as R;
  };
  const write = <R>(run: () => R): R => call(writes, run);
  const other = <R>(run: () => R): R => call(others, run);
  const takeNonDurable: NonNullable<Outbox['takeNonDurable']> = (pixelId) =>
    write(() => outbox.takeNonDurable?.(pixelId) ?? []);
  const flush: NonNullable<Outbox['flush']> = () => write(() => outbox.flush?.());
  const close: NonNullable<Outbox['close']> = () => outbox.close?.();
  const attach: NonNullable<Outbox['attach']> = (host) => outbox.attach?.(host);
  // Getters of an absent method answer `undefined`, which the engine reads as absent (it never
  // asks `in`); `exactOptionalPropertyTypes` cannot say that of a getter, hence the cast.
  const counted = {
    get durable() {
      return outbox.durable;
    },
    append: (records) => write(() => outbox.append(records)),
    claim: (limit, leaseMs, options) =>
      call(
        others,
        () => outbox.claim(limit, leaseMs, options),
        () => [],
      ),
    ack: (ids) => other(() => outbox.ack(ids)),
    nack: (ids, retryAt, error) => other(() => outbox.nack(ids, retryAt, error)),
    release: (ids, retryAt) => other(() => outbox.release(ids, retryAt)),
    deadLetter: (ids, error) => other(() => outbox.deadLetter(ids, error)),
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
    holdUntil: (gate, writesGate) => {
      // One hold for all when they lift together, so the calls run in the order made; with two,
      // the writes' gate settles first (it never settles later), and its calls run first.
      writes = hold(writesGate ?? gate);
      others = writesGate === undefined ? writes : hold(gate);
    },
    emptyHeldClaims: () => {
      if (others !== undefined) others.emptyClaims = true;
    },
  };
};
