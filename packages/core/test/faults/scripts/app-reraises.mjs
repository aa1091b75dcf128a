// Case o: an app whose own SIGTERM handling ends by re-raising the signal, as NestJS's
// enableShutdownHooks() does (@nestjs/core NestApplicationContext.listenToShutdownSignals: the
// app's close, then its listener removed, then `process.kill(process.pid, signal)`), with
// installShutdownHooks for a client it shares (CapiModule never closes a shared client). The
// app's shutdown is quick; the hooks' close is waiting out a retry pause when the re-raised
// signal comes, and must not take it for an operator's second signal. The result line is printed
// from the close the hooks call, the last moment before the process dies.
import { createServer } from 'node:http';
import { installShutdownHooks } from '@capi-kit/core';
import { config, emit, startClient } from './fault-client.mjs';

const { client, trackAll, report } = startClient();
const server = createServer((_req, res) => res.end('ok')).listen(0, '127.0.0.1');
installShutdownHooks(
  {
    close: async (options) => {
      await client.close(options);
      report({ afterClose: true });
    },
  },
  { timeoutMs: config.shutdownTimeoutMs ?? 5000 },
);
const appShutdown = async (signal) => {
  await new Promise((resolve) => server.close(resolve));
  process.removeListener('SIGTERM', appShutdown);
  emit({ type: 'app-reraise' });
  process.kill(process.pid, signal);
};
process.on('SIGTERM', appShutdown);
server.once('listening', () => {
  trackAll();
  emit({ type: 'tracked' });
});
