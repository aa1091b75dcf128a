import type { CapiClient } from '@capi-kit/core';
import type { MockGraph } from '@capi-kit/testing';
import type {
  INestApplication,
  LoggerService,
  ModuleMetadata,
  NestApplicationOptions,
} from '@nestjs/common';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { mockOptions } from '../../../scripts/test-support/adapter-fixtures.ts';
import { CAPI_CLIENT, type CapiModuleOptions } from '../src/index.js';

export { PIXEL_ID, postJson } from '../../../scripts/test-support/adapter-fixtures.ts';

/** The two HTTP platforms every integration test runs on. */
export const PLATFORMS = ['express', 'fastify'] as const;
export type Platform = (typeof PLATFORMS)[number];

export const ACCESS_TOKEN = 'nestjs-test-token';
export const UA = 'Mozilla/5.0 (X11; Linux x86_64) capi-kit-nestjs-test/1.0';

/** Module options that deliver to the mock and ignore the process environment. */
export const capiOptions = (mock: MockGraph, extra: CapiModuleOptions = {}): CapiModuleOptions =>
  mockOptions(mock, ACCESS_TOKEN, extra);

/** A logger that keeps what it is given, to assert on reported errors and warnings. */
export function recordingLogger() {
  const entries: { level: string; message: string }[] = [];
  const record =
    (level: string) =>
    (message: unknown): void => {
      entries.push({ level, message: String(message) });
    };
  const logger: LoggerService = {
    log: record('log'),
    error: record('error'),
    warn: record('warn'),
    debug: record('debug'),
    verbose: record('verbose'),
    fatal: record('fatal'),
  };
  return { logger, entries, errors: () => entries.filter((e) => e.level === 'error') };
}

export interface RunningApp {
  app: INestApplication;
  url: string;
  client: CapiClient;
  /** fetch against the app with a browser-like user agent and a same-site Referer. */
  request(
    path: string,
    init?: {
      method?: string;
      headers?: Record<string, string>;
      body?: string;
      redirect?: RequestRedirect;
    },
  ): Promise<Response>;
}

/** Compiles `metadata` into an app on `platform`, listening on loopback; `options` as Nest's (`rawBody`…), `beforeListen` for `setGlobalPrefix` and the like. */
export async function startApp(
  platform: Platform,
  metadata: ModuleMetadata,
  logger: LoggerService | false = false,
  options: NestApplicationOptions = {},
  beforeListen?: (app: INestApplication) => void,
): Promise<RunningApp> {
  const moduleRef = await Test.createTestingModule(metadata).compile();
  const app = moduleRef.createNestApplication(
    platform === 'express' ? new ExpressAdapter() : new FastifyAdapter(),
    { ...options, logger },
  );
  beforeListen?.(app);
  await app.listen(0, '127.0.0.1');
  const address = app.getHttpServer().address() as { port: number };
  const url = `http://127.0.0.1:${address.port}`;
  return {
    app,
    url,
    client: app.get<CapiClient>(CAPI_CLIENT),
    request: (path, init = {}) =>
      fetch(`${url}${path}`, {
        ...init,
        headers: { 'user-agent': UA, referer: `${url}/shop`, ...init.headers },
      }),
  };
}
