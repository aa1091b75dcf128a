import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import type { CapiClient, ErrorInfo } from '@capi-kit/core';
import type { MockGraph } from '@capi-kit/testing';
import express, { type Express, type RequestHandler } from 'express';
import express4 from 'express4';
import type { CapiExpressOptions } from '../src/index.js';

/** Both supported majors; every integration test runs on each. */
export const MAJORS = [
  { name: 'Express 5', express },
  { name: 'Express 4', express: express4 },
] as const;

export const PIXEL_ID = '1234567890';
export const ACCESS_TOKEN = 'express-test-token';
export const UA = 'Mozilla/5.0 (X11; Linux x86_64) capi-kit-express-test/1.0';
/** A well-formed `_fbp` a returning browser sends. */
export const KNOWN_FBP = 'fb.0.1700000000000.123456789';

/** Options that deliver to the mock, trust the loopback proxy and ignore the environment. */
export const capiOptions = (
  mock: MockGraph,
  extra: CapiExpressOptions = {},
): CapiExpressOptions => ({
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
  close(): Promise<void>;
}

/** Listens on an ephemeral loopback port. */
export async function listen(app: Express): Promise<Running> {
  const server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    request: (path, init = {}) =>
      fetch(`${url}${path}`, { ...init, headers: { 'user-agent': UA, ...init.headers } }),
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
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

/**
 * Middleware that records each response's `finish`. `finish` listeners run synchronously and a
 * promise continues only afterwards, so once `settled()` resolves trackConversion has seen every
 * response that finished so far (wherever this middleware is mounted).
 */
export function finishTracker() {
  const pending: Promise<void>[] = [];
  const middleware: RequestHandler = (_req, res, next) => {
    pending.push(new Promise((resolve) => res.once('finish', () => resolve())));
    next();
  };
  return { middleware, settled: () => Promise.all(pending.splice(0)) };
}
