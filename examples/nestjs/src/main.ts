import { start } from './start';

start(process.env)
  .then(({ app, url }) => {
    // SIGTERM/SIGINT → app.close() → queued events are sent before the process exits.
    app.enableShutdownHooks();
    console.log(`capi-kit NestJS example listening on ${url}`);
  })
  .catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
