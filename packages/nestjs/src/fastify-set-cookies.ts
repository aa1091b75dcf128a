/**
 * `Set-Cookie` on the Fastify platform, where `_fbp`/`_fbc` go both into the reply's headers and,
 * for handlers that write the Node response themselves (`@Sse()`, `@Res()` writing `reply.raw`),
 * onto the Node response. An `onSend` hook, which Fastify runs only for replies it sends itself,
 * settles the two with the app's own cookies on either. The same rules as `@capi-kit/fastify`'s
 * plugin (its `keepRawSetCookies` and `keepSetCookiesAtHead`); both adapters need them, and the
 * core has no Node response helpers to hold them yet.
 */
import { Logger } from '@nestjs/common';

/** The part of a Node response this module reads and writes. */
interface NodeResponse {
  headersSent?: boolean;
  getHeader(name: string): number | string | readonly string[] | undefined;
  setHeader(name: string, value: readonly string[]): unknown;
  removeHeader(name: string): unknown;
}

/** The part of a `FastifyReply` this module reads and writes (Fastify 4 and 5). */
interface Reply {
  raw: NodeResponse;
  getHeader(name: string): number | string | readonly string[] | undefined;
  header(name: string, value: readonly string[]): unknown;
  removeHeader(name: string): unknown;
}

/** The part of a Fastify instance the hook is added to. */
interface FastifyInstanceLike {
  addHook(
    name: 'onSend',
    hook: (
      request: unknown,
      reply: Reply,
      payload: unknown,
      done: (error: null, payload: unknown) => void,
    ) => void,
  ): unknown;
}

/** The `_fbp`/`_fbc` values put on each Node response, for a handler that writes it itself. */
const rawCopies = new WeakMap<object, readonly string[]>();

/** Notes the `Set-Cookie` values just added to a Fastify reply's Node response as copies of the reply's. */
export function rememberRawCopies(response: object, values: readonly string[]): void {
  rawCopies.set(response, values);
}

const asStrings = (value: number | string | readonly string[]): string[] =>
  Array.isArray(value) ? value.map(String) : [String(value)];

/** `values` without one occurrence of each of `removed`. */
function without(values: readonly string[], removed: readonly string[]): string[] {
  const left = [...removed];
  return values.filter((value) => {
    const at = left.indexOf(value);
    if (at === -1) return true;
    left.splice(at, 1);
    return false;
  });
}

/**
 * Drops the raw copies from a reply Fastify sends itself: its own headers carry `_fbp`/`_fbc` (or
 * did, until the app removed them). Left on the Node response, they went out even after
 * `reply.removeHeader('set-cookie')`, which leaves the Node response alone on Fastify 4 and on the
 * Fastify 5 releases `@nestjs/platform-fastify` 11 ships: a page the app stripped of cookies to
 * be cached carried a freshly minted `_fbp`, which a shared cache would hand to every visitor.
 */
function dropRawCopies(reply: Reply): void {
  const response = reply.raw;
  const copies = rawCopies.get(response);
  if (copies === undefined) return;
  rawCopies.delete(response);
  const raw = response.getHeader('set-cookie');
  if (raw === undefined) return;
  const appRaw = without(asStrings(raw), copies);
  if (appRaw.length === 0) response.removeHeader('set-cookie');
  else response.setHeader('set-cookie', appRaw);
}

/**
 * Keeps the cookies the app set on the Node response after the interceptor put `_fbp`/`_fbc` in
 * Fastify's headers (a handler handing `reply.raw` to a session library, `iron-session` for one):
 * Fastify writes its own `Set-Cookie` over the Node response's when it sends the reply, so such a
 * cookie was replaced by `_fbp`/`_fbc` on every page load that renewed them, and the visitor was
 * logged out. Fastify's values are put after them.
 */
function keepAppRawCookies(reply: Reply): void {
  const raw = reply.raw.getHeader('set-cookie');
  if (raw === undefined) return;
  // Fastify's own value, or the raw one itself when Fastify has none (then nothing is replaced).
  const own = reply.getHeader('set-cookie');
  if (own === undefined || own === raw) return;
  const ours = asStrings(own);
  const kept = asStrings(raw).filter((value) => !ours.includes(value));
  if (kept.length === 0) return;
  reply.removeHeader('set-cookie');
  reply.header('set-cookie', [...kept, ...ours]);
}

/** The part of a Node response {@link keepSetCookiesAtHead} wraps. */
interface RawHead extends NodeResponse {
  writeHead(...args: unknown[]): unknown;
}

/**
 * Keeps the cookies set on the Node response when its head is written. Express middleware run
 * through `app.use()` on Fastify (`@fastify/middie`: `express-session`, `cookie-session`, through
 * the `on-headers` package) sets its cookie there from a `writeHead` wrapper, after every hook,
 * and Fastify's `writeHead(status, headers)` then replaced it with its own `Set-Cookie`, where the
 * module puts `_fbp` on every page load that renews it: the visitor's session cookie was dropped.
 * Fastify's values are moved onto the Node response instead, after those already there; the
 * wrapper goes only on replies that carry a `Set-Cookie` of Fastify's own.
 */
function keepSetCookiesAtHead(reply: Reply): void {
  const response = reply.raw as RawHead;
  if (response.headersSent === true) return;
  const own = reply.getHeader('set-cookie');
  // `getHeader` falls back to the Node response's value: then Fastify has none of its own.
  if (own === undefined || own === response.getHeader('set-cookie')) return;
  const writeHead = response.writeHead;
  response.writeHead = function (this: RawHead, ...args: unknown[]): unknown {
    const at = args.length - 1;
    const headers = args[at];
    if (
      at > 0 &&
      typeof headers === 'object' &&
      headers !== null &&
      !Array.isArray(headers) &&
      Object.hasOwn(headers, 'set-cookie')
    ) {
      const { 'set-cookie': values, ...others } = headers as Record<string, unknown>;
      const raw = response.getHeader('set-cookie');
      const kept = raw === undefined ? [] : asStrings(raw);
      const added = (Array.isArray(values) ? values : [values])
        .filter((value) => value !== undefined)
        .map(String)
        .filter((value) => !kept.includes(value));
      response.setHeader('set-cookie', [...kept, ...added]);
      args[at] = others;
    }
    return writeHead.apply(this, args);
  };
}

/** The Fastify instances the hook was added to (a module registered twice adds it once). */
const hooked = new WeakSet<object>();

/**
 * Adds the `onSend` hook to a Nest app's Fastify instance (no-op on other platforms and on an
 * instance that already has it). Before `listen`/`init` completes: Fastify gives a route the
 * hooks its instance has when it becomes ready. Never fails the app's start: a refusal is logged.
 */
export function settleSetCookiesOnFastify(platform: string | undefined, instance: unknown): void {
  if (platform !== 'fastify' || typeof instance !== 'object' || instance === null) return;
  if (hooked.has(instance)) return;
  const fastify = instance as Partial<FastifyInstanceLike>;
  if (typeof fastify.addHook !== 'function') return;
  try {
    fastify.addHook('onSend', (_request, reply, payload, done) => {
      try {
        dropRawCopies(reply);
        keepAppRawCookies(reply);
        keepSetCookiesAtHead(reply);
      } catch {
        // Header reads and writes on a response not yet sent; never the request's failure.
      }
      done(null, payload);
    });
    hooked.add(instance);
  } catch (error) {
    new Logger('CapiModule').warn(
      `could not add the onSend hook that keeps Set-Cookie right on Fastify (${error instanceof Error ? error.message : String(error)}): ` +
        'a reply whose Set-Cookie the app removes may still carry _fbp/_fbc; let app.init() or app.listen() start the Fastify instance',
    );
  }
}
