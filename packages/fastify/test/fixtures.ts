import type { CapiClient, ErrorInfo } from '@capi-kit/core';
import type { MockGraph } from '@capi-kit/testing';
import Fastify, { type FastifyInstance } from 'fastify';
import Fastify4 from 'fastify4';
import type { CapiFastifyOptions } from '../src/index.js';

/**
 * Both supported majors; every integration test runs on each. Fastify 4 is typed as Fastify 5 so
 * one test body serves both (the plugin's declaration merging targets the `fastify` types).
 */
export const MAJORS = [
  { name: 'Fastify 5', fastify: (): FastifyInstance => Fastify() },
  { name: 'Fastify 4', fastify: (): FastifyInstance => Fastify4() as unknown as FastifyInstance },
] as const;

export const PIXEL_ID = '1234567890';
export const ACCESS_TOKEN = 'fastify-test-token';
export const UA = 'Mozilla/5.0 (X11; Linux x86_64) capi-kit-fastify-test/1.0';
/** A well-formed `_fbp` a returning browser sends. */
export const KNOWN_FBP = 'fb.0.1700000000000.123456789';

/** Options that deliver to the mock, trust the loopback proxy and ignore the environment. */
export const capiOptions = (
  mock: MockGraph,
  extra: CapiFastifyOptions = {},
): CapiFastifyOptions => ({
  pixelId: PIXEL_ID,
  accessToken: ACCESS_TOKEN,
  graphUrl: mock.url,
  env: false,
  trustProxy: 'loopback',
  ...extra,
});

export interface Running {
  url: string;
  /** fetch against the app with a browser user agent. */
  request(
    path: string,
    init?: RequestInit & { headers?: Record<string, string> },
  ): Promise<Response>;
}

/** Listens on an ephemeral loopback port; `app.close()` stops it. */
export async function listen(app: FastifyInstance): Promise<Running> {
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  return {
    url,
    request: (path, init = {}) =>
      fetch(`${url}${path}`, { ...init, headers: { 'user-agent': UA, ...init.headers } }),
  };
}

/** Headers of a top-level page load (what a browser sends when following an ad click). */
export const NAVIGATION = { 'sec-fetch-dest': 'document', accept: 'text/html' } as const;

/** Records what the client reports through its `error` hook. */
export function errorsOf(client: CapiClient): ErrorInfo[] {
  const errors: ErrorInfo[] = [];
  client.on('error', (info) => {
    errors.push(info);
  });
  return errors;
}

/**
 * Call after registering the plugin: this `onResponse` hook runs after the plugin's, so once
 * `settled()` resolves every reply so far was considered for route-level tracking.
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

/** POSTs JSON. */
export const postJson = (
  running: Running,
  path: string,
  body: unknown,
  headers: Record<string, string> = {},
) =>
  running.request(path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
