import { loadNextServer } from './next-runtime.js';

/** Hands a background promise to whatever keeps the current invocation alive until it settles. */
export type WaitUntil = (promise: Promise<unknown>) => void;

interface VercelRequestContext {
  get?: () => { waitUntil?: WaitUntil } | undefined;
}

/**
 * Vercel's request-scoped `waitUntil`, which its runtime publishes on `globalThis` under
 * `Symbol.for('@vercel/request-context')` (the lookup Arcjet's `lookupWaitUntil` and
 * `@vercel/functions` use). `undefined` anywhere else.
 */
export function vercelWaitUntil(): WaitUntil | undefined {
  const holder = (globalThis as Record<symbol, unknown>)[Symbol.for('@vercel/request-context')] as
    | VercelRequestContext
    | undefined;
  const context = typeof holder?.get === 'function' ? holder.get() : undefined;
  const waitUntil = context?.waitUntil;
  return typeof waitUntil === 'function'
    ? (promise) => waitUntil.call(context, promise)
    : undefined;
}

/**
 * The keep-alive for one request's delivery: the caller's `waitUntil` when configured, else Next's
 * `after()` (15.1+), else Vercel's request context. On a long-running `next start` none is needed
 * (the promise runs anyway); on serverless this is what stops the function from freezing mid-send.
 */
export async function requestWaitUntil(caller: WaitUntil | undefined): Promise<WaitUntil> {
  if (caller !== undefined) return caller;
  const after = (await loadNextServer())?.after;
  return (promise) => {
    if (typeof after === 'function') {
      try {
        after(promise);
        return;
      } catch {
        // Outside a Next.js request scope (a script, a test): try the platform next.
      }
    }
    vercelWaitUntil()?.(promise);
  };
}
