import type { CapiClient } from '@capi-kit/core';
import { CAPI_CLIENT } from '@capi-kit/nestjs';
import { exitIfEnvMissing, exitOnStartFailure } from 'capi-kit-example-shared/start';
import { start } from './start';

exitIfEnvMissing(process.env, 'NestJS');
start(process.env)
  .then(({ app, url }) => {
    // SIGTERM/SIGINT: the HTTP server stops accepting and waits for the requests in flight, then
    // CapiModule's onApplicationShutdown closes the client, delivering what they tracked. Then
    // process.exit(0) rather than Nest's default re-raise of the signal, so 'exit' listeners (the
    // report below, an async logger's flush) still run.
    app.enableShutdownHooks(['SIGTERM', 'SIGINT'], { useProcessExit: true });
    const client = app.get<CapiClient>(CAPI_CLIENT);
    process.once('exit', () => {
      const { queued, inFlight, sent, deadLettered, dropped } = client.stats();
      console.log(
        `capi-kit: shut down, delivery counters ${JSON.stringify({ queued, inFlight, sent, deadLettered, dropped })}`,
      );
    });
    console.log(`capi-kit NestJS example listening on ${url}`);
  })
  // A taken port: one line after Nest's own, no stack trace. (A value capi-kit refuses is logged
  // by Nest's ExceptionHandler, with its stack, before the app could be created.)
  .catch((error: unknown) => exitOnStartFailure(error, 'NestJS'));
