import type { Logger } from '@capi-kit/core';

// BullMQ emits `error` on the worker and the queue each time one of its Redis calls fails, and it
// retries those calls on its own: while Redis refuses writes (out of memory, read-only replica,
// wrong password) every retry logged one more identical line, a line or more per second for as
// long as the fault lasted. The first line of each kind is logged as it comes; repeats are counted
// and told in one line when the minute ends (or at close), as core's event feedback does.

/** How long repeats of a line are counted before they are told. */
export const REPEAT_WINDOW_MS = 60_000;
/** Kinds of line counted at once; a new kind beyond this is logged as it comes. */
const MAX_KINDS = 32;

/** `error(fields, message)` that logs each kind once per window, and the count of its repeats. */
export interface RepeatedErrorLog {
  /** Logs the line, or counts it when a line of the same message and `fields.error` was logged in this window. */
  error(fields: { error: string } & Record<string, unknown>, message: string): void;
  /** Tells the repeats counted so far and stops the window's timer (at close). */
  flush(): void;
}

/** A {@link RepeatedErrorLog} writing to `logger`. */
export const repeatedErrorLog = (logger: Logger, windowMs = REPEAT_WINDOW_MS): RepeatedErrorLog => {
  const kinds = new Map<
    string,
    { fields: Record<string, unknown>; message: string; repeats: number }
  >();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const flush = (): void => {
    clearTimeout(timer);
    timer = undefined;
    for (const { fields, message, repeats } of kinds.values()) {
      if (repeats === 0) continue;
      logger.error(
        { ...fields, repeats },
        `${message} (repeated ${repeats} more ${repeats === 1 ? 'time' : 'times'} since it was logged)`,
      );
    }
    kinds.clear();
  };
  return {
    error(fields, message) {
      const key = `${message}\n${fields.error}`;
      const kind = kinds.get(key);
      if (kind !== undefined) {
        kind.repeats++;
        return;
      }
      logger.error(fields, message);
      if (kinds.size >= MAX_KINDS) return;
      kinds.set(key, { fields, message, repeats: 0 });
      if (timer === undefined) {
        timer = setTimeout(flush, windowMs);
        // A fault's log never keeps the process alive.
        timer.unref?.();
      }
    },
    flush,
  };
};
