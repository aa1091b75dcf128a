import 'reflect-metadata';
import type { CapiClient } from '@capi-kit/core';
import { CAPI_CLIENT } from '@capi-kit/nestjs';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter, type NestExpressApplication } from '@nestjs/platform-express';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { bodyParserRejection, refuseEmptyJson } from 'capi-kit-example-shared';
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
// exception filter sees what the error was. So each platform below settles the body before Nest:
// POST /lead and /purchase then answer a broken body exactly as the other examples do.

/** Answers a body body-parser refused (broken or empty JSON) with the contract's rejection. */
const answerRefusedBody: ErrorRequestHandler = (error, _request, response, next) => {
  const rejection = bodyParserRejection(error);
  if (rejection === undefined) next(error);
  else response.status(rejection.status).json(rejection.body);
};

/** The app on Express: JSON bodies only (Nest's default adds form bodies), empty JSON refused. */
async function createOnExpress(env: Env): Promise<INestApplication> {
  const app = await NestFactory.create<NestExpressApplication>(
    appModule(env),
    new ExpressAdapter(),
    { logger: ['error', 'warn'], bodyParser: false },
  );
  app.use(json({ verify: refuseEmptyJson }), answerRefusedBody);
  return app;
}

/**
 * The app on Fastify: no body is refused by the parser. Broken or empty JSON and other content
 * types reach the handler as `undefined`, and `readLead`/`readPurchase` answer them.
 */
async function createOnFastify(env: Env): Promise<INestApplication> {
  const app = await NestFactory.create<NestFastifyApplication>(
    appModule(env),
    new FastifyAdapter(),
    { logger: ['error', 'warn'], bodyParser: false },
  );
  const fastify = app.getHttpAdapter().getInstance();
  // Fastify's own JSON parser (prototype-poisoning checks included), its failure made `undefined`.
  const parseJson = fastify.getDefaultJsonParser('error', 'error');
  fastify.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    parseJson(request, String(body), (error, value) => done(null, error ? undefined : value));
  });
  fastify.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, _body, done) => {
    done(null, undefined);
  });
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
