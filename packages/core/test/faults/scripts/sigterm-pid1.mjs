// Case p: case b's app (an HTTP server keeps it alive, installShutdownHooks) in a process where a
// re-raised signal does nothing: PID 1, as `node server.js` runs in a container without `--init`
// (the kernel ignores a signal PID 1 has no handler for). `config.realPid1`: the test runs it as
// PID 1 of a new PID namespace; otherwise the hooks are given this process with a `kill` that is
// ignored the same way. After the close, the process must exit all the same, with 143.
import { createServer } from 'node:http';
import { installShutdownHooks } from '@capi-kit/core';
import { config, emit, startClient } from './fault-client.mjs';

const { client, trackAll, report } = startClient();
const server = createServer((_req, res) => res.end('ok')).listen(0, '127.0.0.1');
const ignoredReRaise = {
  on: (event, listener) => process.on(event, listener),
  prependListener: (event, listener) => process.prependListener(event, listener),
  listeners: (event) => process.listeners(event),
  removeListener: (event, listener) => process.removeListener(event, listener),
  listenerCount: (event) => process.listenerCount(event),
  kill: () => true,
  exit: (code) => process.exit(code),
  pid: process.pid,
};
installShutdownHooks(
  {
    close: async (options) => {
      await client.close(options);
      report({ afterClose: true, pid: process.pid });
    },
  },
  { timeoutMs: 5000, ...(config.realPid1 ? {} : { process: ignoredReRaise }) },
);
if (config.realPid1) {
  // The test cannot reach PID 1 of another namespace: the app's SIGTERM comes from within, at the
  // first retry pause, as an orchestrator's would (PID 1 does get the signals it handles).
  let signalled = false;
  client.on('retry', () => {
    if (signalled) return;
    signalled = true;
    process.kill(process.pid, 'SIGTERM');
  });
}
server.once('listening', () => {
  trackAll();
  emit({ type: 'tracked', pid: process.pid });
});
