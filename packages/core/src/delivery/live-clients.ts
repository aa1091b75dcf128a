// A client made per request (`app.use((req, res, next) => capi(opts)(req, res, next))`, or
// `createCapi()` inside a route handler) batches nothing, sends one Graph call per event, and
// leaves a queue and timers behind each request that no shutdown code can reach. Nothing fails, so
// nobody notices. The clients open at once are counted here, for every adapter: one per pixel (or
// per tenant) is a reasonable design, so the bound is well above what such an app holds, and a
// client per request passes it within seconds of traffic. Said once per process, never thrown.

/** Clients open at once (created, `close()` not begun) past which a client per request is suspected. */
export const MANY_LIVE_CLIENTS = 100;

let live = 0;
let told = false;

/**
 * Counts a client just made. Returns `release` (idempotent), to call when its `close()` begins,
 * and the warning to give when this client is the one that passes {@link MANY_LIVE_CLIENTS} (once
 * per process).
 */
export function countLiveClient(): { release: () => void; warning: string | undefined } {
  live++;
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    live--;
  };
  if (live <= MANY_LIVE_CLIENTS || told) return { release, warning: undefined };
  told = true;
  return {
    release,
    warning: `capi-kit: ${live} clients are open at once in this process; is one made per request (capi(options) or createCapi() inside a middleware or route handler)? Create the client (capi(), the Fastify plugin, CapiModule.forRoot, createNextCapi) once at startup and share it: each one has its own queue and timers, batches nothing, and is not closed by your shutdown code. One client per pixel is fine; close() the ones you no longer need`,
  };
}
