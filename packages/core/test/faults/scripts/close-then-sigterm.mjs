// Case j: the app's own shutdown code already called close() with a long budget when SIGTERM
// comes; installShutdownHooks then calls close() with a short one, since the orchestrator will
// SIGKILL soon. The second budget must hold: the process ends by it, not by the first one. The
// result line is printed from the close the hooks call, the last moment before the process dies.
import { installShutdownHooks } from '@capi-kit/core';
import { config, emit, startClient } from './fault-client.mjs';

const { client, trackAll, report } = startClient();
installShutdownHooks(
  {
    close: async (options) => {
      const started = performance.now();
      const second = client.close(options);
      await second;
      report({
        afterClose: true,
        samePromise: second === first,
        closeMs: Math.round(performance.now() - started),
      });
    },
  },
  { timeoutMs: config.shutdownTimeoutMs },
);
trackAll();
// The first close's deadline timer alone keeps the process alive.
const first = client.close({ timeoutMs: config.closeTimeoutMs });
emit({ type: 'closing' });
