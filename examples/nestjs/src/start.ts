import 'reflect-metadata';
import type { CapiClient } from '@capi-kit/core';
import { CAPI_CLIENT } from '@capi-kit/nestjs';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter, type NestExpressApplication } from '@nestjs/platform-express';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import {
  BODY_LIMIT_BYTES,
  bodyParserJsonOptions,
  bodyParserRejection,
  parseFastifyJson,
  refuseNonUtf8Json,
} from 'capi-kit-example-shared';
import { type ErrorRequestHandler, json } from 'express';
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

// Nest turns a body parser's error into its own `{ statusCode, message }` answer before any
// exception filter sees what the error was. So each platform below settles the body before Nest,
// with the rules of examples/shared (UTF-8 JSON only, at most 100 KB, no prototype-poisoning
// keys): POST /lead and /purchase then answer a refused body exactly as the other examples do.

/** Answers a body body-parser refused (too large, broken, empty, poisoned) the contract's way. */
const answerRefusedBody: ErrorRequestHandler = (error, _request, response, next) => {
  const rejection = bodyParserRejection(error);
  if (rejection === undefined) next(error);
  else response.status(rejection.status).json(rejection.body);
};

/** The app on Express: the contract's JSON parser only (Nest's default adds form bodies). */
async function createOnExpress(env: Env): Promise<INestApplication> {
  const app = await NestFactory.create<NestExpressApplication>(
    appModule(env),
    new ExpressAdapter(),
    { logger: ['error', 'warn'], bodyParser: false },
  );
  app.use(json(bodyParserJsonOptions), answerRefusedBody);
  return app;
}

/**
 * Fastify under Nest, where a refused body gets the contract's answer: Nest installs its error
 * handler (which would answer `{ statusCode, message }`) through this method when the app starts,
 * so the body parser's errors are answered here first and every other error goes on to Nest.
 */
class ContractFastifyAdapter extends FastifyAdapter {
  override setErrorHandler(handler: Parameters<FastifyAdapter['setErrorHandler']>[0]) {
    return super.setErrorHandler(function (this: unknown, error, request, reply) {
      const rejection = bodyParserRejection(error);
      if (rejection === undefined) return handler.call(this as never, error, request, reply);
      return reply.code(rejection.status).send(rejection.body);
    });
  }
}

/**
 * The app on Fastify, set up like the Fastify example: a 100 KB body limit, JSON only (another
 * content type is refused before it is read), other charsets than UTF-8 refused before the body
 * is read, and the contract's JSON parsing.
 */
async function createOnFastify(env: Env): Promise<INestApplication> {
  const app = await NestFactory.create<NestFastifyApplication>(
    appModule(env),
    new ContractFastifyAdapter({ bodyLimit: BODY_LIMIT_BYTES }),
    { logger: ['error', 'warn'], bodyParser: false },
  );
  const fastify = app.getHttpAdapter().getInstance();
  fastify.removeAllContentTypeParsers();
  fastify.addContentTypeParser('application/json', { parseAs: 'string' }, parseFastifyJson);
  fastify.addHook('onRequest', refuseNonUtf8Json);
  return app;
}

/**
 * Starts the example on `NEST_PLATFORM` (`express`, the default, or `fastify`), listening on
 * `HOST` (default `127.0.0.1`) and `PORT` (default 3000; `0` picks a free port).
 */
export async function start(env: Env = process.env): Promise<RunningExample> {
  const app =
    env.NEST_PLATFORM === 'fastify' ? await createOnFastify(env) : await createOnExpress(env);
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
