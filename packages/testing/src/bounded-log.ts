// What the mock keeps of one kind of record (events, browser events, refused events, requests):
// the newest `max`, in arrival order. A dev server left running for days would otherwise keep
// every event it ever received; the oldest go first, and how many went is counted, so a test or
// the Events Manager page can tell "never arrived" from "arrived and was let go".

/** Default of `MockGraphOptions.maxEvents`: above the largest suites' 20–25k events plus retries. */
export const DEFAULT_MAX_EVENTS = 100_000;

/** Checks a `maxEvents` option: a whole number ≥ 1. */
export const checkMaxEvents = (value: unknown): number => {
  if (value === undefined) return DEFAULT_MAX_EVENTS;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    throw new TypeError('startMockGraph: maxEvents must be a whole number ≥ 1.');
  }
  return value;
};

/** An append-only list that keeps its newest `max` items; amortized O(1) per push. */
export class BoundedLog<T> {
  readonly #max: number;
  /** Live items are `#items[#head…]`; slots before it are cleared, so evicted items can be freed. */
  #items: (T | undefined)[] = [];
  #head = 0;
  #evicted = 0;

  constructor(max: number) {
    this.#max = max;
  }

  push(...items: T[]): void {
    for (const item of items) this.#items.push(item);
    let over = this.#items.length - this.#head - this.#max;
    while (over-- > 0) {
      this.#items[this.#head++] = undefined;
      this.#evicted++;
    }
    // Drop the cleared slots once they are as many as the live ones: each push stays O(1) amortized.
    if (this.#head > 0 && this.#head >= this.#items.length - this.#head) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
  }

  /** Items kept now. */
  get size(): number {
    return this.#items.length - this.#head;
  }

  /** Items let go since the last {@link BoundedLog.clear}, oldest first. */
  get evicted(): number {
    return this.#evicted;
  }

  /** The kept items, oldest first (a new array). */
  values(): T[] {
    return this.#items.slice(this.#head) as T[];
  }

  *[Symbol.iterator](): IterableIterator<T> {
    for (let i = this.#head; i < this.#items.length; i++) yield this.#items[i] as T;
  }

  /** Forgets the items and the eviction count. */
  clear(): void {
    this.#items = [];
    this.#head = 0;
    this.#evicted = 0;
  }
}
