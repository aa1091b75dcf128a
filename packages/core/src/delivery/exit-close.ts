// A script that tracks events and then simply ends (no `close()`, no signal) would exit with its
// events still in memory: the engine's timers are unref'd so that an idle client never holds a
// process open (segmentio/analytics-node#102). Node's `beforeExit` fires when the event loop is
// empty and the process is about to end naturally, and work scheduled there keeps it alive. So a
// client with events pending is closed there: they are sent, or counted and reported, before the
// process ends. One listener for the module; clients are held weakly, so one the app dropped is
// not kept alive by it.

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
}

const clients = new Set<WeakRef<ExitClosable>>();
const settings = new WeakMap<ExitClosable, ExitSetting>();
let listening = false;

const onBeforeExit = (): void => {
  for (const ref of [...clients]) {
    const client = ref.deref();
    const setting = client === undefined ? undefined : settings.get(client);
    if (client === undefined || setting === undefined || client.closed) {
      clients.delete(ref);
      continue;
    }
    if (setting.pending() === 0) continue;
    clients.delete(ref);
    setting.closing();
    // close() never rejects; the catch keeps a listener from ever throwing.
    client.close({ timeoutMs: setting.timeoutMs }).catch(() => {});
  }
};

/**
 * Closes `client` at `beforeExit` when `pending()` (events queued or in flight) is not 0, calling
 * `closing` first (a log line). Returns what forgets it (`close()` calls it, so a process that
 * creates and closes many clients keeps no entry for them). No-op where there is no `process.on`
 * (edge runtimes, browsers).
 */
export const closeAtExit = (
  client: ExitClosable,
  timeoutMs: number,
  closing: () => void,
  pending: () => number,
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
      listening = true;
    } catch {
      return () => {};
    }
  }
  settings.set(client, { timeoutMs, closing, pending });
  const ref = new WeakRef(client);
  clients.add(ref);
  return () => {
    clients.delete(ref);
  };
};
