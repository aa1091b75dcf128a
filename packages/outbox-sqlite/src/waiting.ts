import type { OutboxHost, OutboxRecord } from '@capi-kit/core';
import type { ResolvedOptions } from './options.js';
import { idsOf, memoryOutboxOf, messageOf, type TakeOver } from './outbox-state.js';
import { FileHeldElsewhere } from './schema.js';
import type { SqliteOutbox } from './sqlite-outbox.js';

// An outbox whose file another process holds. A deploy that starts the new process before the old
// one has exited (`pm2 reload`, Kubernetes' rolling update on a shared volume, a blue-green pair
// on one disk) hands the new process a file still locked: refusing to start there took the app
// down with it. The new process keeps its events in the memory queue (the `memoryFallback` bounds,
// drop-oldest) and delivers them from there, tries the lock every `writeRetryMs` without blocking
// the event loop, and once the old process lets go takes the file over: what the old process left
// for this client's pixels is counted and sent (`OutboxHost.recovered`), what it left for other
// pixels stays in the file untouched (as at a start), what memory holds is written to the file.

/**
 * How long a wait is a deploy's hand-over. The old process of a deploy lets go within its graceful
 * shutdown (seconds; Kubernetes gives 30 s by default), so the wait starts as a warning; a wait
 * past this is reported as an error: another process keeps the file (cluster workers or
 * instances given one path), and this one has no durability for as long as it runs.
 */
export const WAIT_ERROR_MS = 60_000;

/**
 * What the take-over warning says of the `left` records the other process left, `notOurs` of them
 * for pixels this client does not send to. Pixel ids are not named: the records are kept, and
 * `stats().pixels` lists them.
 */
const leftBehind = (left: number, notOurs: number, closing: boolean, hosted: boolean): string => {
  if (closing) {
    return `the ${left} events the other process left in it stay there for the next start`;
  }
  // No client yet: the one created on this outbox counts them at its start, as a previous run's.
  if (!hosted) {
    return `the ${left} events the other process left in it are counted by the client created on this outbox, as a previous run's`;
  }
  const others = 'pixels this client does not send to';
  if (notOurs === 0) return `the ${left} events the other process left in it are sent`;
  if (notOurs === left) {
    return `the ${left} events the other process left in it are for ${others}: kept in the file untouched`;
  }
  return `the ${left - notOurs} events the other process left in it for this client's pixels are sent; the ${notOurs} for ${others} are kept in the file untouched`;
};

/** The outbox on the file once it is taken, and what the other process left in it, per stream. */
export interface Taken {
  outbox: SqliteOutbox;
  recovered: readonly { pixelId: string; count: number; bytes: number }[];
}

/**
 * The outbox for a file another process holds: memory until `take` succeeds (it throws
 * {@link FileHeldElsewhere} while the file is held), then the outbox `take` opened, to which every
 * call is handed from then on. `openHere` holds the file's identity (`identity()`) meanwhile, as
 * for an open file.
 */
export const waitForFile = (
  opts: ResolvedOptions,
  openHere: Set<string>,
  identity: () => string,
  take: (takeOver: TakeOver) => Taken,
): SqliteOutbox => {
  const memory = memoryOutboxOf(opts);
  const since = Date.now();
  const waitStart = performance.now();
  let file = identity();
  openHere.add(file);
  let host: OutboxHost | undefined;
  let taken: SqliteOutbox | undefined;
  let closed = false;
  let evicted = 0;
  let engineNow: number | undefined;
  let lastFailure: string | undefined;

  const report = (level: 'error' | 'warn', message: string) => {
    const text = `sqliteOutbox (${opts.path}): ${message}`;
    if (host && level === 'error') host.error(new Error(text));
    else if (host) host.warn(text);
    else opts.logger[level]({ path: opts.path }, text);
  };
  const waiting = () =>
    report(
      'warn',
      `another process holds the file (a deploy that started this process before the old one exited, or processes given one path): new events are kept in memory (up to ${opts.memoryMaxEvents} per stream, the oldest dropped beyond; a crash loses them) and delivered from there; the file is tried every ${opts.writeRetryMs} ms and taken over once that process lets it go (stats().waitingForFile)`,
    );
  let waitedTooLong = false;
  const stillWaiting = () => {
    if (waitedTooLong || performance.now() - waitStart < WAIT_ERROR_MS) return;
    waitedTooLong = true;
    report(
      'error',
      `still waiting for the file after ${WAIT_ERROR_MS / 1000} s: another process keeps it (cluster workers or instances given one path?), and this one's events are not durable meanwhile. One process per file: give each process its own path, stable across restarts`,
    );
  };

  const timer = setInterval(() => {
    try {
      if (!tryTake()) stillWaiting();
    } catch (error) {
      // A host that threw while told of the take-over: never an uncaught exception from a timer.
      opts.logger.error({ path: opts.path }, `sqliteOutbox: ${messageOf(error)}`);
    }
  }, opts.writeRetryMs);
  timer.unref?.();
  /** When the lock was last tried, on `performance.now()`: the open that found it held, first. */
  let lastTry = performance.now();

  /**
   * Takes the file if the other process let it go; true once it is taken. Throws only what the
   * host throws when told. `closing`: at close() or a process exit, to write what memory holds;
   * nothing more is sent from here.
   */
  function tryTake(closing = false): boolean {
    if (taken) return true;
    if (closed) return false;
    lastTry = performance.now();
    let result: Taken;
    try {
      result = take({ memory, host, lockTimeoutMs: 0, evicted });
    } catch (error) {
      if (error instanceof FileHeldElsewhere) return false;
      // Let go, but unreadable (damaged, a newer format): said once per message, tried again.
      const message = messageOf(error);
      if (message !== lastFailure) {
        lastFailure = message;
        report('error', `the file cannot be taken over, events stay in memory: ${message}`);
      }
      return false;
    }
    taken = result.outbox;
    clearInterval(timer);
    // The identity the taken outbox's close() removes (the file may have been replaced meanwhile).
    openHere.delete(file);
    file = identity();
    openHere.add(file);
    let left = 0;
    // What the other process left for pixels this client does not send to: the engine leaves it
    // alone, as it does at a start, so the warning must not say it is sent.
    let notOurs = 0;
    for (const { pixelId, count, bytes } of result.recovered) {
      left += count;
      // Before attach, the engine's start-up count (stats()) sees them.
      if (count > 0 && host?.recovered(pixelId, count, bytes) === false) notOurs += count;
    }
    // Closing, what memory holds is written, in flight too (takeNonDurable), and nothing is sent.
    const inMemory = memory.stats();
    const held = closing ? inMemory.queued + inMemory.leased : inMemory.queued;
    const written =
      held > 0
        ? `, and the ${held} ${closing ? 'held' : 'waiting'} in memory are written to it`
        : '';
    report(
      'warn',
      `took the file over after ${Math.round(performance.now() - waitStart)} ms of waiting${closing ? ', while closing' : ''}: ${leftBehind(left, notOurs, closing, host !== undefined)}${written}`,
    );
    try {
      taken.flush?.();
    } catch (error) {
      report('error', `writing the events held in memory failed: ${messageOf(error)}`);
    }
    return true;
  }

  const assertOpen = () => {
    if (closed) throw new Error(`sqliteOutbox: ${opts.path} is closed`);
  };

  /** What memory holds for `pixelId`, removed: at close() nothing more is acknowledged here. */
  const takeHeld = (pixelId: string): OutboxRecord[] => {
    const left = memory.claim(Number.MAX_SAFE_INTEGER, 60_000, {
      pixelId,
      all: true,
      now: engineNow ?? Date.now(),
    });
    memory.ack(idsOf(left));
    return left;
  };

  return {
    durable: true,
    path: opts.path,

    append(records) {
      if (taken) return taken.append(records);
      assertOpen();
      const result = memory.append(records);
      evicted += result.evicted.length;
      return result;
    },

    claim(limit, leaseMs, options) {
      if (taken) return taken.claim(limit, leaseMs, options);
      assertOpen();
      if (options?.now !== undefined) engineNow = options.now;
      return memory.claim(limit, leaseMs, options);
    },

    ack(ids) {
      if (taken) taken.ack(ids);
      else memory.ack(ids);
    },

    nack(ids, retryAt, error) {
      if (taken) taken.nack(ids, retryAt, error);
      else memory.nack(ids, retryAt, error);
    },

    release(ids, retryAt) {
      if (taken) taken.release(ids, retryAt);
      else memory.release(ids, retryAt);
    },

    deadLetter(ids, error) {
      // Held in memory only: not kept in a table; the engine hands them to onUndeliverable.
      if (taken) taken.deadLetter(ids, error);
      else memory.deadLetter(ids, error);
    },

    stats() {
      if (taken) return taken.stats();
      const held = memory.stats();
      return {
        ...held,
        pending: 0,
        evicted,
        commits: 0,
        deadLetters: 0,
        memory: held.queued + held.leased,
        writeFailing: false,
        writeFailures: 0,
        waitingForFile: !closed,
        ...(closed ? {} : { waitingForFileSince: since }),
      };
    },

    attach(engine) {
      host = engine;
      if (taken) {
        taken.attach(engine);
        return;
      }
      // Told once the caller's synchronous code has run, so an `error` listener added right
      // after createCapi hears it.
      queueMicrotask(() => {
        if (!taken && !closed) waiting();
      });
    },

    flush() {
      // Each try opens a connection; the engine flushes at the end of every tick that tracked (a
      // request's after(), flushOnEnd): at most one try per writeRetryMs, as the timer's.
      const due = performance.now() - lastTry >= opts.writeRetryMs;
      if (taken || (due && tryTake())) taken?.flush();
      else assertOpen();
    },

    takeNonDurable(pixelId) {
      // Called by the engine's close() and at a process exit only.
      if (taken || tryTake(true)) return taken?.takeNonDurable(pixelId) ?? [];
      return closed ? [] : takeHeld(pixelId);
    },

    close() {
      if (taken || tryTake(true)) {
        taken?.close();
        closed = true;
        return;
      }
      if (closed) return;
      closed = true;
      clearInterval(timer);
      openHere.delete(file);
      const held = memory.stats();
      const lost = held.queued + held.leased;
      if (lost > 0) {
        report(
          'error',
          `closed while another process holds the file: ${lost} events held in memory could not be written`,
        );
      }
    },

    deadLetters(query) {
      return taken ? taken.deadLetters(query) : [];
    },

    retryDeadLetters(ids) {
      return taken ? taken.retryDeadLetters(ids) : 0;
    },

    purgeDeadLetters(ids) {
      return taken ? taken.purgeDeadLetters(ids) : 0;
    },
  };
};
