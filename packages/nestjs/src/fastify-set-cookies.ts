/**
 * `Set-Cookie` on the Fastify platform, where `_fbp`/`_fbc` go both into the reply's headers and,
 * for handlers that write the Node response themselves (`@Sse()`, `@Res()` writing `reply.raw`),
 * onto the Node response. An `onSend` hook, which Fastify runs only for replies it sends itself,
 * settles the two with the app's own cookies on either: core's `settleReplySetCookies`, the rules
 * `@capi-kit/fastify`'s plugin applies too.
 */
import { type BufferedReply, settleReplySetCookies } from '@capi-kit/core';
import { Logger } from '@nestjs/common';
import { writePendingSetCookies } from './request-capi.js';

/** The part of a Fastify instance the hook is added to. */
interface FastifyInstanceLike {
  addHook(
    name: 'onSend',
    hook: (
      request: unknown,
      reply: BufferedReply,
      payload: unknown,
      done: (error: null, payload: unknown) => void,
    ) => void,
  ): unknown;
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
    fastify.addHook('onSend', (request, reply, payload, done) => {
      try {
        // Cookies of a context computed before a guard rejected the request (the interceptor,
        // which writes them, never ran): on the error reply Nest's exception filter sends.
        writePendingSetCookies(request, reply);
        settleReplySetCookies(reply);
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
