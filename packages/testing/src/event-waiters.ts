// `waitForEvents` for both recorders (Meta's and TikTok's): promises of "at least n events matching
// a filter", resolved as events arrive, rejected at their deadline with what did arrive, or when
// the mock closes.

interface Waiter<E, F> {
  count: number;
  filter: F;
  resolve: (events: E[]) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout | undefined;
}

/**
 * The longest delay `setTimeout` keeps: it runs a longer one, `Infinity` included, after 1 ms
 * (with a TimeoutOverflowWarning), so `timeoutMs: Infinity` rejected at once instead of waiting.
 */
const MAX_TIMER_MS = 2_147_483_647;

/** The pending `waitForEvents` calls of one recorder; `find` lists the events a filter matches now. */
export class EventWaiters<E, F> {
  readonly #waiters = new Set<Waiter<E, F>>();
  readonly #find: (filter: F) => E[];

  constructor(find: (filter: F) => E[]) {
    this.#find = find;
  }

  /**
   * The matching events once there are `count` of them (at once if there are already); after
   * `timeoutMs` a rejection with `explain(count, filter, timeoutMs)`, which says what did arrive.
   * `Infinity` waits until the events arrive or the mock closes.
   */
  wait(
    count: number,
    filter: F,
    timeoutMs: number,
    explain: (count: number, filter: F, timeoutMs: number) => string,
  ): Promise<E[]> {
    const found = this.#find(filter);
    if (found.length >= count) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const waiter: Waiter<E, F> = {
        count,
        filter,
        resolve,
        reject,
        timer: undefined,
      };
      if (timeoutMs !== Number.POSITIVE_INFINITY) {
        waiter.timer = setTimeout(
          () => {
            this.#settle(waiter);
            reject(new Error(explain(count, filter, timeoutMs)));
          },
          Math.min(timeoutMs, MAX_TIMER_MS),
        );
      }
      this.#waiters.add(waiter);
    });
  }

  /** Events arrived: resolves the waiters whose count is reached. */
  notify(): void {
    for (const waiter of this.#waiters) {
      const found = this.#find(waiter.filter);
      if (found.length >= waiter.count) {
        this.#settle(waiter);
        waiter.resolve(found);
      }
    }
  }

  /** Rejects every pending waiter (the mock is closing). */
  abandon(reason: string): void {
    for (const waiter of this.#waiters) {
      this.#settle(waiter);
      waiter.reject(new Error(reason));
    }
  }

  #settle(waiter: Waiter<E, F>): void {
    clearTimeout(waiter.timer);
    this.#waiters.delete(waiter);
  }
}
