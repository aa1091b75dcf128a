// Case n: case b's app (installShutdownHooks, an HTTP server keeping it alive) with a dependency
// that uses signal-exit (execa, write-file-atomic, proper-lockfile… do): its SIGTERM listener
// re-raises the signal only once it is the last listener, so it waits for the hooks', and the
// hooks must not take it for the app's own handling and wait for it in turn: the process would
// outlive SIGTERM until a SIGKILL. The result line is printed from the close the hooks call;
// signal-exit's own exit handlers run as it re-raises (`signal-exit` line).
import { createServer } from 'node:http';
import { installShutdownHooks } from '@capi-kit/core';
import { onExit } from 'signal-exit';
import { config, emit, startClient } from './fault-client.mjs';

const { client, trackAll, report } = startClient();
const server = createServer((_req, res) => res.end('ok')).listen(0, '127.0.0.1');
// A handler returning true tells signal-exit the signal was handled: this one returns nothing.
const atSignalExit = (_code, signal) => {
  emit({ type: 'signal-exit', signal });
};
if (config.signalExit === 'before') onExit(atSignalExit);
installShutdownHooks(
  {
    close: async (options) => {
      await client.close(options);
      report({ afterClose: true });
    },
  },
  { timeoutMs: config.shutdownTimeoutMs ?? 5000 },
);
if (config.signalExit === 'after') onExit(atSignalExit);
server.once('listening', () => {
  trackAll();
  emit({ type: 'tracked' });
});
