import 'reflect-metadata';
import type { CapiClient } from '@capi-kit/core';
import { CAPI_CLIENT } from '@capi-kit/nestjs';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { appModule } from './app.module';
import type { Env } from './config';

/** A started example: what the shared contract suite drives, plus the Nest app itself. */
export interface RunningExample {
  /** Base URL, e.g. `http://127.0.0.1:3000`. */
  url: string;
  /** Sends what the client has queued. */
  flush(): Promise<void>;
  /** Closes the app; CapiModule sends what is still queued first. */
  close(): Promise<void>;
  /** The Nest application. */
  app: INestApplication;
}

/**
 * Starts the example on `NEST_PLATFORM` (`express`, the default, or `fastify`), listening on
 * `HOST` (default `127.0.0.1`) and `PORT` (default 3000; `0` picks a free port).
 */
export async function start(env: Env = process.env): Promise<RunningExample> {
  const platform = env.NEST_PLATFORM === 'fastify' ? new FastifyAdapter() : new ExpressAdapter();
  const app = await NestFactory.create(appModule(env), platform, {
    logger: ['error', 'warn'],
  });
  const host = env.HOST ?? '127.0.0.1';
  await app.listen(Number(env.PORT ?? 3000), host);
  const { port } = app.getHttpServer().address() as { port: number };
  const client = app.get<CapiClient>(CAPI_CLIENT);
  return {
    url: `http://${host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host}:${port}`,
    flush: () => client.flush(),
    close: () => app.close(),
    app,
  };
}
