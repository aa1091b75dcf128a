// A script that tracks events and then simply ends (no `close()`, no signal) would exit with its
// events still in memory: the engine's timers are unref'd so that an idle client never holds a
// process open (segmentio/analytics-node#102). Node's `beforeExit` fires when the event loop is
// empty and the process is about to end naturally, and work scheduled there keeps it alive. So a
// client with events pending is closed there: they are sent, or counted and reported, before the
// process ends. A process that ends by `process.exit()` (the app's own, or an `uncaughtException`
// handler's) never reaches `beforeExit`, and nothing asynchronous runs after it: at `exit`, what a
// client not yet closed still holds is counted and reported in one synchronous step. One listener
// each for the module; clients are held weakly, so one the app dropped is not kept alive by them.

/** What {@link closeAtExit} needs of a client. */
export interface ExitClosable {
  close(options: { timeoutMs: number }): Promise<void>;
  readonly closed: boolean;
}

/** How one client is closed at exit; held by the WeakMap only while the client lives. */
interface ExitSetting {
  timeoutMs: number;
  closing: () => void;
  /**
   * Events queued or in flight, from the engine's own counts. Not `client.stats()`: that asks an
   * async outbox for its figures, and a query is work that keeps the process alive, so each
   * `beforeExit` would start another and the process would never end (a Postgres pool with
   * `allowExitOnIdle`, say).
   */
  pending: () => number;
  /** The process is exiting now: count and report what is left, synchronously. */
  exiting: () => void;
}

const clients = new Set<WeakRef<ExitClosable>>();
const settings = new WeakMap<ExitClosable, ExitSetting>();
let listening = false;

const onBeforeExit = (): void => {
  for (const ref of [...clients]) {
    const client = ref.deref();
    const setting = client === undefined ? undefined : settings.get(client);
    if (client === undefined || setting === undefined) {
      clients.delete(ref);
      continue;
    }
    // A client closing stays listed until its close ends: an exit before then still counts.
    if (client.closed || setting.pending() === 0) continue;
    setting.closing();
    // close() never rejects; the catch keeps a listener from ever throwing.
    client.close({ timeoutMs: setting.timeoutMs }).catch(() => {});
  }
};

const onExit = (): void => {
  for (const ref of [...clients]) {
    const client = ref.deref();
    const setting = client === undefined ? undefined : settings.get(client);
    if (setting === undefined) continue;
    try {
      if (setting.pending() > 0) setting.exiting();
    } catch {
      // The process is ending: nothing may stop the other clients' count, nor the app's exit.
    }
  }
};

/**
 * The process is about to die of a signal the shutdown hooks re-raise (shutdown.ts): Node emits
 * no `exit` then, so what the clients not yet closed hold (one the hooks were not given, a second
 * client of the app's) is counted and reported now, synchronously, as at `exit`. It vanished
 * uncounted, told to nobody.
 */
export const countBeforeSignalDeath = (): void => onExit();

/**
 * Closes `client` at `beforeExit` when `pending()` (events queued or in flight) is not 0, calling
 * `closing` first (a log line), and calls `exiting` at `exit` when `pending()` is not 0 then (a
 * `process.exit()` before its close ended). Returns what forgets it (called once its `close()`
 * has ended, so a process that creates and closes many clients keeps no entry for them). No-op
 * where there is no `process.on` (edge runtimes, browsers).
 */
export const closeAtExit = (
  client: ExitClosable,
  timeoutMs: number,
  closing: () => void,
  pending: () => number,
  exiting: () => void,
): (() => void) => {
  if (typeof WeakRef !== 'function') return () => {};
  if (!listening) {
    // Next's Edge runtime has a `process` whose `on` throws when touched ("A Node.js API is used
    // (process.on)…"), and no process lifetime to speak of: there, and wherever `on` is missing or
    // throws, nothing is registered.
    try {
      const proc = (globalThis as { process?: { on?: (event: string, fn: () => void) => unknown } })
        .process;
      if (typeof proc?.on !== 'function') return () => {};
      proc.on('beforeExit', onBeforeExit);
      proc.on('exit', onExit);
      listening = true;
    } catch {
      return () => {};
    }
  }
  settings.set(client, { timeoutMs, closing, pending, exiting });
  const ref = new WeakRef(client);
  clients.add(ref);
  return () => {
    clients.delete(ref);
  };
};
