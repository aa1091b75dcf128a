/**
 * Stand-ins for `next/headers`, `next/server`'s `after` and `next/navigation`'s `unstable_rethrow`,
 * driven per test: what the request looks like, whether cookies can be written, whether `after()`
 * exists. Test files register them with `vi.mock` (see server-actions.test.ts).
 */
import { vi } from 'vitest';

interface CookieOptions {
  name: string;
  value: string;
  [key: string]: unknown;
}

/** The request the mocked `headers()`/`cookies()` describe, and what was done to it. */
export const scope = {
  headers: new Headers(),
  /** `false` behaves like a Server Component render: `cookies().set` throws. */
  cookiesWritable: true,
  /** Cookies written with `cookies().set`. */
  written: [] as CookieOptions[],
  /** Promises handed to `after()`; `undefined` means `after` is not exported (Next < 15.1). */
  afterTasks: [] as Promise<unknown>[] | undefined,
  /** Errors `headers()` throws, e.g. Next's dynamic-usage bailout during a prerender. */
  headersError: undefined as unknown,
  reset(headers: Record<string, string> = {}): void {
    this.headers = new Headers(headers);
    this.cookiesWritable = true;
    this.written = [];
    this.afterTasks = [];
    this.headersError = undefined;
  },
};

const parseCookies = (header: string | null) =>
  (header ?? '')
    .split(';')
    .map((part) => part.trim())
    .filter(Boolean)
    .map((part) => ({
      name: part.slice(0, part.indexOf('=')),
      value: part.slice(part.indexOf('=') + 1),
    }));

export const nextHeadersMock = () => ({
  headers: vi.fn(async () => {
    if (scope.headersError !== undefined) throw scope.headersError;
    return scope.headers;
  }),
  cookies: vi.fn(async () => {
    const jar = new Map(parseCookies(scope.headers.get('cookie')).map((c) => [c.name, c.value]));
    return {
      getAll: () => [...jar].map(([name, value]) => ({ name, value })),
      set: (cookie: CookieOptions) => {
        if (!scope.cookiesWritable) {
          throw new Error('Cookies can only be modified in a Server Action or Route Handler.');
        }
        jar.set(cookie.name, cookie.value);
        scope.written.push(cookie);
      },
    };
  }),
});

export const nextServerMock = () => ({
  get after() {
    const tasks = scope.afterTasks;
    if (tasks === undefined) return undefined;
    return (task: Promise<unknown>) => {
      tasks.push(task);
    };
  },
});

/** `unstable_rethrow` as Next implements it: rethrows errors carrying one of its digests. */
export const nextNavigationMock = () => ({
  unstable_rethrow: (error: unknown) => {
    const digest = (error as { digest?: unknown } | null)?.digest;
    if (typeof digest === 'string' && /^(NEXT_|DYNAMIC_SERVER_USAGE)/.test(digest)) throw error;
  },
});

/** An error shaped like the one `redirect(url)` throws. */
export const redirectError = (url: string) =>
  Object.assign(new Error('NEXT_REDIRECT'), { digest: `NEXT_REDIRECT;replace;${url};307;` });

/** An error shaped like the one `notFound()` throws. */
export const notFoundError = () =>
  Object.assign(new Error('NEXT_HTTP_ERROR_FALLBACK;404'), {
    digest: 'NEXT_HTTP_ERROR_FALLBACK;404',
  });
