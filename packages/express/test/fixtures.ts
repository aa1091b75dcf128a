import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import type { MockGraph } from '@capi-kit/testing';
import express, { type Express, type RequestHandler } from 'express';
import express4 from 'express4';
import { mockOptions, type TestServer } from '../../../scripts/test-support/adapter-fixtures.ts';
import type { CapiExpressOptions } from '../src/index.js';

export { PIXEL_ID, postJson } from '../../../scripts/test-support/adapter-fixtures.ts';

/** Both supported majors; every integration test runs on each. */
export const MAJORS = [
  { name: 'Express 5', express },
  { name: 'Express 4', express: express4 },
] as const;

const ACCESS_TOKEN = 'express-test-token';
const UA = 'Mozilla/5.0 (X11; Linux x86_64) capi-kit-express-test/1.0';
/** A well-formed `_fbp` a returning browser sends. */
export const KNOWN_FBP = 'fb.0.1700000000000.123456789';

/** Options that deliver to the mock, trust the loopback proxy and ignore the environment. */
export const capiOptions = (mock: MockGraph, extra: CapiExpressOptions = {}): CapiExpressOptions =>
  mockOptions(mock, ACCESS_TOKEN, extra);

/** An Express app listening on loopback. */
export interface Running extends TestServer {
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
