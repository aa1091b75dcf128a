/** The slice of `AsyncLocalStorage` the route-handler binding needs. */
export interface RequestStore<T> {
  getStore(): T | undefined;
  run<R>(store: T, callback: () => R): R;
}

type StoreConstructor = new <T>() => RequestStore<T>;

/**
 * An `AsyncLocalStorage`, found without a `node:` import so the same code bundles for the Edge
 * runtime: Next.js puts the class on `globalThis` in both of its runtimes; elsewhere (tests,
 * scripts) Node's own is fetched with `process.getBuiltinModule` (Node 20.16+). `undefined` when
 * neither exists; `withCapi` then still works, only the request-free `track` has no request.
 */
export function createRequestStore<T>(): RequestStore<T> | undefined {
  const global = globalThis as {
    AsyncLocalStorage?: StoreConstructor;
    process?: {
      getBuiltinModule?: (id: string) => { AsyncLocalStorage?: StoreConstructor } | undefined;
    };
  };
  let Store = global.AsyncLocalStorage;
  if (typeof Store !== 'function') {
    try {
      Store = global.process?.getBuiltinModule?.('async_hooks')?.AsyncLocalStorage;
    } catch {
      Store = undefined;
    }
  }
  return typeof Store === 'function' ? new Store<T>() : undefined;
}
