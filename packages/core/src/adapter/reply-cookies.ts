/**
 * `Set-Cookie` for frameworks whose reply keeps its own headers and writes them over the Node
 * response when it sends (Fastify, and NestJS on Fastify). `_fbp`/`_fbc` go into the reply's
 * headers and, for a handler that writes the Node response itself (a hijacked reply, `@Sse()`,
 * an SSR framework), onto the Node response too; {@link settleReplySetCookies}, run where the
 * framework sends the reply itself (Fastify's `onSend`), settles the two with the app's own
 * cookies on either. One copy of these rules for every such adapter.
 */

/** The part of a Node `ServerResponse` these helpers read and write. */
export interface NodeResponseLike {
  headersSent?: boolean;
  getHeader(name: string): number | string | readonly string[] | undefined;
  setHeader(name: string, value: readonly string[]): unknown;
  removeHeader(name: string): unknown;
}

/** A reply with headers of its own over a Node response (a `FastifyReply`, Fastify 4 and 5). */
export interface BufferedReply {
  /** The Node response the reply writes its headers over when it sends. */
  raw: NodeResponseLike;
  getHeader(name: string): number | string | readonly string[] | undefined;
  header(name: string, value: string | readonly string[]): unknown;
  removeHeader(name: string): unknown;
}

/** The values put on each Node response as copies of the reply's, for a handler that writes it. */
const rawCopies = new WeakMap<object, readonly string[]>();

const asStrings = (value: number | string | readonly string[]): string[] =>
  Array.isArray(value) ? value.map(String) : [String(value as number | string)];

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
 * Adds `Set-Cookie` values to a buffered reply without dropping the app's, and to its Node
 * response as copies (until the Node response's head is sent) for a handler that writes it
 * itself, where the reply's headers never go out. An existing value is copied, not appended to:
 * Fastify 4 keeps an array the app passed by reference and pushes into it, so a module-level
 * array would carry one visitor's cookies to the next.
 * @example appendReplySetCookies(reply, context.cookiesToSet.map((c) => c.header))
 */
export function appendReplySetCookies(reply: BufferedReply, values: readonly string[]): void {
  if (values.length === 0) return;
  const existing = reply.getHeader('set-cookie');
  if (existing === undefined) {
    for (const value of values) reply.header('set-cookie', value);
  } else {
    const kept = asStrings(existing);
    reply.removeHeader('set-cookie');
    reply.header('set-cookie', [...kept, ...values]);
  }
  const raw = reply.raw;
  if (raw.headersSent === true || typeof raw.setHeader !== 'function') return;
  const before = raw.getHeader('set-cookie');
  raw.setHeader('set-cookie', [...(before === undefined ? [] : asStrings(before)), ...values]);
  rawCopies.set(raw, values);
}

/**
 * Drops the copies {@link appendReplySetCookies} put on the Node response of a reply the framework
 * sends itself: its own headers carry `_fbp`/`_fbc` (or did, until the app removed them). Left
 * there, they went out even after `reply.removeHeader('set-cookie')`, which leaves the Node
 * response alone (Fastify 4, and the Fastify 5 NestJS 11 ships): a page the app stripped of
 * cookies to be cached carried a freshly minted `_fbp` a shared cache would hand to everyone.
 */
function dropRawCopies(reply: BufferedReply): void {
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
 * Keeps the cookies the app set on the Node response (`reply.raw.setHeader`, a session library
 * given the raw response, Express middleware through `@fastify/middie`): the framework writes its
 * own `Set-Cookie` over them when it sends, so once `_fbp`/`_fbc` were among its headers such a
 * cookie (a session, a CSRF token) was replaced on every page load that renewed `_fbp`.
 */
function keepAppRawCookies(reply: BufferedReply): void {
  const raw = reply.raw.getHeader('set-cookie');
  if (raw === undefined) return;
  // The reply's own value, or the raw one itself when it has none (then nothing is replaced).
  const own = reply.getHeader('set-cookie');
  if (own === undefined || own === raw) return;
  const ours = asStrings(own);
  const kept = asStrings(raw).filter((value) => !ours.includes(value));
  if (kept.length === 0) return;
  reply.removeHeader('set-cookie');
  reply.header('set-cookie', [...kept, ...ours]);
}

/** The part of a Node response {@link keepSetCookiesAtHead} wraps. */
interface RawHead extends NodeResponseLike {
  writeHead(...args: unknown[]): unknown;
}

/**
 * Keeps the cookies set on the Node response as its head is written: Express middleware run
 * through `@fastify/middie` or `@fastify/express` (`express-session`, `cookie-session`: the
 * `on-headers` package) sets its cookie from a `writeHead` wrapper, after every hook, and
 * Fastify's `writeHead(status, headers)` then replaced it with its own `Set-Cookie`, where
 * `_fbp` is on every page view that renews it: the visitor's session cookie was dropped. The
 * reply's values are moved onto the Node response instead, after those already there; the
 * wrapper goes only on replies that carry a `Set-Cookie` of their own.
 */
function keepSetCookiesAtHead(reply: BufferedReply): void {
  const response = reply.raw as RawHead;
  if (response.headersSent === true || typeof response.writeHead !== 'function') return;
  const own = reply.getHeader('set-cookie');
  // `getHeader` falls back to the Node response's value: then the reply has none of its own.
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

/**
 * Settles `Set-Cookie` on a reply the framework is about to send itself (Fastify's `onSend`):
 * drops the Node-response copies of the reply's own cookies, keeps cookies the app put on the
 * Node response ahead of the reply's, and keeps those set as the head is written.
 * @example fastify.addHook('onSend', (request, reply, payload, done) => { settleReplySetCookies(reply); done(null, payload); })
 */
export function settleReplySetCookies(reply: BufferedReply): void {
  dropRawCopies(reply);
  keepAppRawCookies(reply);
  keepSetCookiesAtHead(reply);
}
