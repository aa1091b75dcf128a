// Case l: an app (an HTTP server keeps it alive) with installShutdownHooks and a long budget gets
// SIGTERM while Meta never answers, then a second SIGTERM (an impatient operator, a supervisor
// that signals twice). The second one ends the close at once, and the process dies of SIGTERM
// (143); what was not delivered is counted as dropped (`shutdown`) and handed to
// onUndeliverable first. The result line is printed when the close the hooks asked for ends.
import { createServer } from 'node:http';
import { installShutdownHooks } from '@capi-kit/core';
import { config, emit, startClient } from './fault-client.mjs';

const { client, trackAll, report } = startClient();
const server = createServer((_req, res) => res.end('ok')).listen(0, '127.0.0.1');
let reported = false;
installShutdownHooks(
  {
    close: async (options) => {
      emit({ type: 'closing', timeoutMs: options?.timeoutMs });
      await client.close(options);
      if (reported) return;
      reported = true;
      report({ afterClose: true });
    },
  },
  { timeoutMs: config.shutdownTimeoutMs ?? 30_000 },
);
server.once('listening', () => {
  trackAll();
  emit({ type: 'tracked' });
});
