// Case d: an app (an HTTP server keeps it alive) that opted into installShutdownHooks. The test
// sends SIGTERM during TikTok's retry pause; the hooks close the client within their budget and
// re-raise the signal, so the process dies of SIGTERM (exit status 143). The result line is
// printed from the close the hooks call, the last moment the script has before it dies.
import { createServer } from 'node:http';
import { installShutdownHooks } from '@capi-kit/core';
import { config, startClient } from './two-streams.mjs';

const { client, track, report } = startClient();
const server = createServer((_req, res) => res.end('ok')).listen(0, '127.0.0.1');
installShutdownHooks(
  {
    close: async (options) => {
      const started = performance.now();
      await client.close(options);
      report({ afterClose: true, closeMs: Math.round(performance.now() - started) });
    },
  },
  { timeoutMs: config.shutdownTimeoutMs ?? 5000 },
);
server.once('listening', () => track());
