/**
 * The clients `createNextCapi` makes, shared across the copies of this package that Next.js's
 * bundle layers load in one process, and listed so that `flush()`, `close()` and the shutdown hook
 * reach every one. State lives on `globalThis` under `Symbol.for` keys: each copy of the module has
 * its own module scope, but all of them see the same realm.
 */
import {
  type CapiAdapter,
  type CapiAdapterOptions,
  type CapiClient,
  createCapiAdapter,
} from '@capi-kit/core';

/**
 * Every client created by `createNextCapi` in this JavaScript realm. Next.js instantiates an app
 * module once per bundle layer (route handlers, and pages with their Server Actions, get separate
 * module registries), so `lib/capi.ts` runs more than once; copies given the same options share a
 * client (see `madeAdapters`), others have their own, and `flush()` and `close()` must reach all of
 * them. Keyed on `globalThis`, shared by every copy.
 */
export const ownedClients = (): Set<CapiClient> => {
  const global = globalThis as { [key: symbol]: Set<CapiClient> | undefined };
  const key = Symbol.for('@capi-kit/next.clients');
  global[key] ??= new Set();
  return global[key];
};

/**
 * More live clients than Next.js's bundle layers account for (a copy of `lib/capi.ts` per layer):
 * `createNextCapi()` called per request or per render, each call a client of its own.
 */
const MANY_CLIENTS = 8;

/** True once the many-clients warning was given in this process (then it is not given again). */
const warnedMany = (): boolean => {
  const global = globalThis as { [key: symbol]: true | undefined };
  const key = Symbol.for('@capi-kit/next.warnedManyClients');
  if (global[key]) return true;
  global[key] = true;
  return false;
};

/** This copy of the package: Next.js bundles it into each bundle layer, each copy with its own. */
const THIS_COPY = Symbol('@capi-kit/next copy');

/** A client made by `createNextCapi` (or the error its options were refused with). */
export interface MadeAdapter {
  readonly key: string | undefined;
  readonly adapter: CapiAdapter | undefined;
  readonly error: unknown;
  /** The copies of the package whose binding uses it. */
  readonly copies: Set<symbol>;
  /** Whether the creation error was told (once per process, whichever copy tracked first). */
  told: boolean;
  /** The binding's "told once" warnings already told, by any copy. */
  readonly warned: Set<string>;
}

/**
 * The clients `createNextCapi` made in this realm, with the configuration each was made for.
 * Next.js runs `lib/capi.ts` once per bundle layer (route handlers; pages and their Server Actions;
 * instrumentation), each run with its own copy of this package: under `next start` every layer had
 * a client of its own, so each "told once" warning (a proxy not trusted, a refused configuration)
 * was printed once per layer, and events were batched apart. A binding of another copy with the
 * same configuration takes the client already made; two calls in one copy (two bindings, or one
 * per request) still get a client each.
 */
export const madeAdapters = (): MadeAdapter[] => {
  const global = globalThis as { [key: symbol]: MadeAdapter[] | undefined };
  const key = Symbol.for('@capi-kit/next.adapters');
  global[key] ??= [];
  return global[key];
};

/** Environment variables a client or destination may read its configuration from. */
const CONFIG_ENV = /^(?:META|TIKTOK)_/;

/**
 * What a binding's options configure, as a string: the data they hold, every function as `ƒ`
 * (each copy of the app's module has its own functions, which cannot be compared), and the
 * `META_*`/`TIKTOK_*` variables the client falls back to. `undefined` (never shared) for a
 * caller's own `client`, or options that cannot be read. Held in memory only, never printed.
 */
const configurationKey = (options: CapiAdapterOptions): string | undefined => {
  if (options.client !== undefined) return undefined;
  const seen = new WeakSet<object>();
  const data = (value: unknown, depth: number): unknown => {
    if (typeof value === 'function') return 'ƒ';
    if (typeof value === 'bigint' || typeof value === 'symbol') return String(value);
    if (value === null || typeof value !== 'object') return value;
    if (seen.has(value) || depth > 8) return '↺';
    seen.add(value);
    if (Array.isArray(value)) return value.map((item) => data(item, depth + 1));
    const out: Record<string, unknown> = {};
    const proto: unknown = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null)
      out['#class'] = (proto as { constructor?: { name?: unknown } }).constructor?.name;
    for (const name of Object.keys(value).sort())
      out[name] = data((value as Record<string, unknown>)[name], depth + 1);
    return out;
  };
  try {
    const env =
      options.env === false
        ? {}
        : (options.env ??
          (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env ??
          {});
    const fromEnv = Object.keys(env)
      .filter((name) => CONFIG_ENV.test(name))
      .sort()
      .map((name) => [name, env[name]]);
    return JSON.stringify([data(options, 0), fromEnv]);
  } catch {
    // A getter that throws: such options are not shared.
    return undefined;
  }
};

/** A binding whose client could not be made: `error` is told once, on its first `track()`. */
export const refusedAdapter = (error: unknown, key?: string): MadeAdapter => ({
  key,
  adapter: undefined,
  error,
  copies: new Set([THIS_COPY]),
  told: false,
  warned: new Set(),
});

/**
 * The client for `options`: another copy's, when one was made for the same configuration and is
 * still open (see {@link madeAdapters}), else a new one, listed in {@link ownedClients} when the
 * binding owns it. A refused configuration is remembered like a client, so every copy tells the
 * same refusal once. `report` tells the many-clients mistake.
 */
export const sharedAdapter = (
  options: CapiAdapterOptions,
  report: (message: string) => void,
): MadeAdapter => {
  const all = madeAdapters();
  const key = configurationKey(options);
  const twin =
    key === undefined
      ? undefined
      : all.find(
          (other) =>
            other.key === key &&
            // A refused configuration is the same refusal everywhere; a client is another
            // copy's (a call twice in one copy is two bindings) and still open.
            (other.adapter === undefined ||
              (!other.copies.has(THIS_COPY) && ownedClients().has(other.adapter.client))),
        );
  if (twin !== undefined) {
    twin.copies.add(THIS_COPY);
    return twin;
  }
  // Clients closed since (close() forgets them) are not shared again.
  for (let i = all.length - 1; i >= 0; i--) {
    const client = all[i]?.adapter?.client;
    if (client !== undefined && !ownedClients().has(client)) all.splice(i, 1);
  }
  let made: MadeAdapter;
  try {
    const adapter = createCapiAdapter(options);
    made = { ...refusedAdapter(undefined, key), adapter };
    if (adapter.ownsClient) {
      const clients = ownedClients();
      clients.add(adapter.client);
      if (clients.size > MANY_CLIENTS && !warnedMany()) {
        report(
          `createNextCapi() has made ${clients.size} clients in this process: call it once, at module scope (lib/capi.ts), and import its helpers. Each call has its own queue and timers, and clients made per request pile up; in next dev each edit of that module makes one more (restart it to let them go)`,
        );
      }
    }
  } catch (error) {
    made = refusedAdapter(error ?? new Error('createCapi failed'), key);
  }
  if (key !== undefined) all.push(made);
  return made;
};
