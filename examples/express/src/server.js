// @ts-check
import { exitIfEnvMissing, exitOnStartFailure } from 'capi-kit-example-shared/start';
import { start } from './app.js';

exitIfEnvMissing(process.env, 'Express');
// A taken port or a value capi-kit refuses (META_PIXEL_ID not digits…): one line, no stack trace.
const app = await start().catch((error) => exitOnStartFailure(error, 'Express'));
console.log(`capi-kit Express example listening on ${app.url}`);
for (const signal of /** @type {const} */ (['SIGINT', 'SIGTERM'])) {
  // Graceful: stop accepting, let the requests in flight finish, deliver what they tracked, exit.
  // A second signal (an impatient Ctrl-C) finds no listener left and ends the process at once.
  process.once(signal, async () => {
    await app.close();
    const { queued, inFlight, sent, deadLettered, dropped } = app.client.stats();
    console.log(
      `capi-kit: shut down, delivery counters ${JSON.stringify({ queued, inFlight, sent, deadLettered, dropped })}`,
    );
    process.exit(0);
  });
}
