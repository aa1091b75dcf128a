/**
 * The few Next.js modules the server helpers use, loaded on first use so `@capi-kit/next` can be
 * imported (and unit-tested) outside a Next.js app. The module promises are cached; the
 * request-scoped calls (`headers()`, `cookies()`, `after()`) are made per request.
 */

/** A request header bag as `headers()` returns it (read-only `Headers`). */
export interface HeaderBag {
  get(name: string): string | null;
  has(name: string): boolean;
  forEach(callback: (value: string, name: string) => void): void;
}

/** The cookie store `cookies()` returns: read-only in Server Components, writable in actions. */
export interface CookieStore {
  getAll(): { name: string; value: string }[];
  set(cookie: {
    name: string;
    value: string;
    maxAge?: number;
    domain?: string;
    path?: string;
    sameSite?: 'lax' | 'strict' | 'none';
    secure?: boolean;
    httpOnly?: boolean;
  }): unknown;
}

interface NextHeadersModule {
  headers(): Promise<HeaderBag> | HeaderBag;
  cookies(): Promise<CookieStore> | CookieStore;
}

interface NextServerModule {
  after?: (task: Promise<unknown>) => void;
}

interface NextNavigationModule {
  unstable_rethrow?: (error: unknown) => void;
}

/** What `next/dist/server/app-render/work-unit-async-storage.external` holds of the current work. */
interface WorkUnitModule {
  workUnitAsyncStorage?: { getStore(): { type?: unknown; phase?: unknown } | undefined };
}

let headersModule: Promise<NextHeadersModule> | undefined;
let workUnitModule: Promise<WorkUnitModule | undefined> | undefined;
let serverModule: Promise<NextServerModule | undefined> | undefined;
let navigationModule: Promise<NextNavigationModule | undefined> | undefined;

// `.js` suffixes: Next has no `exports` map, so plain Node ESM needs the file name; bundlers accept both.
/** `next/headers` (throws when Next.js is not installed: the caller asked for request data). */
export const loadNextHeaders = (): Promise<NextHeadersModule> => {
  headersModule ??= import('next/headers.js') as Promise<NextHeadersModule>;
  return headersModule;
};

/** `next/server` for `after()`; `undefined` when it cannot be loaded. */
export const loadNextServer = (): Promise<NextServerModule | undefined> => {
  serverModule ??= (import('next/server.js') as Promise<NextServerModule>).catch(() => undefined);
  return serverModule;
};

/**
 * Whether the current request is a route handler's (or a Server Action's): Next runs both in its
 * `action` phase, and pages in `render`. `headers()` cannot tell: it hides the `RSC` header, so a
 * page's `fetch('/api/stock')` reads like the router's fetch of a page. Next's work-unit store says
 * it. That store is Next's internal module (kept out of every bundle, `.external`, so all layers
 * share one), not a public API: missing or shaped otherwise, the answer is "not known", and the
 * headers decide as before.
 */
export async function inActionPhase(): Promise<boolean | undefined> {
  const store = await workUnitStore();
  if (store?.type !== 'request' || typeof store.phase !== 'string') return undefined;
  return store.phase === 'action';
}

/** The work-unit module once loaded, for the synchronous {@link inCacheScopeNow}. */
let loadedWorkUnit: WorkUnitModule | undefined;

/** Loads Next's work-unit module (see {@link inActionPhase}); `undefined` where it cannot be. */
export const loadWorkUnit = (): Promise<WorkUnitModule | undefined> => {
  workUnitModule ??= (
    import(
      'next/dist/server/app-render/work-unit-async-storage.external.js'
    ) as Promise<WorkUnitModule>
  ).then(
    (loaded) => {
      loadedWorkUnit = loaded;
      return loaded;
    },
    () => undefined,
  );
  return workUnitModule;
};

/** The current work unit of Next's request scope (see {@link inActionPhase}); never throws. */
async function workUnitStore(): Promise<{ type?: unknown; phase?: unknown } | undefined> {
  try {
    return (await loadWorkUnit())?.workUnitAsyncStorage?.getStore();
  } catch {
    return undefined;
  }
}

/**
 * Whether this runs inside a cached function (`'use cache'`, `unstable_cache`) by Next's work unit,
 * synchronously (for `track()`): `false` until {@link loadWorkUnit} has loaded it.
 */
export function inCacheScopeNow(): boolean {
  try {
    const type = loadedWorkUnit?.workUnitAsyncStorage?.getStore()?.type;
    return type === 'cache' || type === 'unstable-cache';
  } catch {
    return false;
  }
}

/**
 * Whether `headers()` threw `error` because it ran inside a cached function (`'use cache'`,
 * `unstable_cache`), whose result every visitor shares. Next's work unit says so (`cache`,
 * `unstable-cache`); where that store cannot be read, its error's words: a plain `Error` without
 * digest or code, whose message names the cache in Next 15 (`used "headers" inside "use cache"`,
 * `inside a function cached with "unstable_cache(...)"`) and 16 (`` inside `"use cache"` ``,
 * `` inside `unstable_cache()` ``).
 */
export async function inCacheScope(error: unknown): Promise<boolean> {
  const type = (await workUnitStore())?.type;
  if (type === 'cache' || type === 'unstable-cache') return true;
  const message = error instanceof Error ? error.message : '';
  return /inside[^.]*("use cache"|unstable_cache)/.test(message);
}

const loadNextNavigation = (): Promise<NextNavigationModule | undefined> => {
  navigationModule ??= (import('next/navigation.js') as Promise<NextNavigationModule>).catch(
    () => undefined,
  );
  return navigationModule;
};

const digestOf = (error: unknown): string | undefined => {
  const digest = (error as { digest?: unknown } | null)?.digest;
  return typeof digest === 'string' ? digest : undefined;
};

/** A `redirect()`/`permanentRedirect()` thrown by Next.js: the action succeeded and navigates on. */
export const isRedirectError = (error: unknown): boolean =>
  digestOf(error)?.startsWith('NEXT_REDIRECT') === true;

// Control-flow errors Next.js throws through user code and must receive back untouched: navigation
// (redirect, notFound/forbidden/unauthorized), dynamic-rendering bailouts and PPR postpones.
const NEXT_DIGESTS = [
  'NEXT_REDIRECT',
  'NEXT_NOT_FOUND',
  'NEXT_HTTP_ERROR_FALLBACK',
  'DYNAMIC_SERVER_USAGE',
  'BAILOUT_TO_CLIENT_SIDE_RENDERING',
  'NEXT_PRERENDER_INTERRUPTED',
  'HANGING_PROMISE_REJECTION',
];

/**
 * Rethrows `error` when it is one of Next.js's own control-flow errors, so capi-kit's "never throw"
 * catch blocks never swallow a redirect or a dynamic-rendering bailout. Uses `unstable_rethrow`
 * where Next.js has it and falls back to the error's `digest` (as tRPC's `rethrowNextErrors` does).
 */
export async function rethrowNextErrors(error: unknown): Promise<void> {
  const navigation = await loadNextNavigation();
  if (typeof navigation?.unstable_rethrow === 'function') navigation.unstable_rethrow(error);
  const digest = digestOf(error);
  if (digest !== undefined && NEXT_DIGESTS.some((prefix) => digest.startsWith(prefix))) throw error;
  if ((error as { $$typeof?: unknown } | null)?.$$typeof === Symbol.for('react.postpone'))
    throw error;
  // `dynamic = 'error'`: request data read while prerendering must fail `next build`. This error
  // has a `code`, no digest, and `unstable_rethrow` lets it pass.
  if ((error as { code?: unknown } | null)?.code === 'NEXT_STATIC_GEN_BAILOUT') throw error;
}
