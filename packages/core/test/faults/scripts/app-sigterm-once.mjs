// Case k: an app with a graceful shutdown of its own, registered with `process.once('SIGTERM')`
// (before or after installShutdownHooks, `config.appListener`), that ends with its own
// `process.exit(0)` once its work is done. The hooks close the client, and the exit stays the
// app's: the process ends with the app's code, not killed by a re-raised SIGTERM mid-shutdown.
// The result line is printed by the app's handler, just before its exit.
import { createServer } from 'node:http';
import { installShutdownHooks } from '@capi-kit/core';
import { config, emit, startClient } from './fault-client.mjs';

const { client, trackAll, report } = startClient();
const server = createServer((_req, res) => res.end('ok')).listen(0, '127.0.0.1');
const appShutdown = () => {
  server.close();
  // The app's own last work (closing a database pool, say), after the client's close. Its budget
  // is the hooks' (the default 2 s left one second past the 1 s Retry-After, which a CI machine
  // under a load of 27 overran: the retry never started and the 50 were dropped as shutdown).
  void client.close({ timeoutMs: config.shutdownTimeoutMs ?? 5000 }).then(() =>
    setTimeout(() => {
      report({ appExit: true });
      process.exit(0);
    }, 100),
  );
};
if (config.appListener === 'before') process.once('SIGTERM', appShutdown);
installShutdownHooks(client, { timeoutMs: config.shutdownTimeoutMs ?? 5000 });
if (config.appListener === 'after') process.once('SIGTERM', appShutdown);
server.once('listening', () => {
  trackAll();
  emit({ type: 'tracked' });
});
