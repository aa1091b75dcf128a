import type { MockGraph } from '@capi-kit/testing';
import Fastify, { type FastifyInstance } from 'fastify';
import Fastify4 from 'fastify4';
import { mockOptions, type TestServer } from '../../../scripts/test-support/adapter-fixtures.ts';
import type { CapiFastifyOptions } from '../src/index.js';

export { PIXEL_ID, postJson } from '../../../scripts/test-support/adapter-fixtures.ts';

/**
 * Both supported majors; every integration test runs on each. Fastify 4 is typed as Fastify 5 so
 * one test body serves both (the plugin's declaration merging targets the `fastify` types).
 */
export const MAJORS = [
  {
    name: 'Fastify 5',
    fastify: (options?: { trustProxy?: boolean }): FastifyInstance => Fastify(options),
  },
  {
    name: 'Fastify 4',
    fastify: (options?: { trustProxy?: boolean }): FastifyInstance =>
      Fastify4(options) as unknown as FastifyInstance,
  },
] as const;

const ACCESS_TOKEN = 'fastify-test-token';
const UA = 'Mozilla/5.0 (X11; Linux x86_64) capi-kit-fastify-test/1.0';

/** Options that deliver to the mock, trust the loopback proxy and ignore the environment. */
export const capiOptions = (mock: MockGraph, extra: CapiFastifyOptions = {}): CapiFastifyOptions =>
  mockOptions(mock, ACCESS_TOKEN, extra);

/** Listens on an ephemeral loopback port; `app.close()` stops it. */
export async function listen(app: FastifyInstance): Promise<TestServer> {
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  return {
    url,
    request: (path, init = {}) =>
      fetch(`${url}${path}`, { ...init, headers: { 'user-agent': UA, ...init.headers } }),
  };
}

/** Headers of a top-level page load (what a browser sends when following an ad click). */
export const NAVIGATION = { 'sec-fetch-dest': 'document', accept: 'text/html' } as const;

/**
 * Once `settled()` resolves, every reply so far was considered for route-level tracking: the
 * plugin tracks from a listener on the reply's `finish`, the same emit that runs this `onResponse`
 * hook, synchronously, before anything awaiting `settled()` resumes.
 */
export function responseTracker(app: FastifyInstance) {
  const pending: Promise<void>[] = [];
  const done = new WeakMap<object, () => void>();
  app.addHook('onRequest', (request, _reply, next) => {
    pending.push(new Promise((resolve) => done.set(request, resolve)));
    next();
  });
  app.addHook('onResponse', (request, _reply, next) => {
    done.get(request)?.();
    next();
  });
  return { settled: () => Promise.all(pending.splice(0)) };
}
