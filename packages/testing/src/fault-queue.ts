/**
 * One-shot faults waiting for their requests, first in first out. A `failNext(fault, times)` is
 * kept as one entry with a count, so any `times` costs the same memory: a loop pushing `times`
 * copies let `POST /_mock/faults {"times": 1e999}` (JSON's Infinity) spin until the process ran
 * out of memory.
 */
export class FaultQueue<F> {
  #entries: { fault: F; left: number }[] = [];
  #size = 0;

  /** Queues `fault` for the next `times` requests; throws a `TypeError` unless `times` is a whole number ≥ 0. */
  push(fault: F, times: unknown): void {
    if (typeof times !== 'number' || !Number.isSafeInteger(times) || times < 0) {
      throw new TypeError(
        `times must be a whole number of requests (0 or more), got ${JSON.stringify(times) ?? String(times)}; for every request use outage().`,
      );
    }
    if (times === 0) return;
    this.#entries.push({ fault, left: times });
    this.#size += times;
  }

  /** The fault of the next request, consumed; undefined when none is queued. */
  take(): F | undefined {
    const first = this.#entries[0];
    if (first === undefined) return undefined;
    first.left--;
    this.#size--;
    if (first.left === 0) this.#entries.shift();
    return first.fault;
  }

  /** Faults not consumed yet. */
  get size(): number {
    return this.#size;
  }

  /** Forgets every queued fault. */
  clear(): void {
    this.#entries = [];
    this.#size = 0;
  }
}
