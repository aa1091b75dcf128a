// Case m: the app ends the process itself with `process.exit()` before any close() ended: right
// after tracking (`config.exitOn: 'tracked'`), right after a close() it did not await
// ('unawaited-close'), when the test signals SIGUSR2 while a request hangs at the mock ('signal'),
// or from an `uncaughtException` handler ('throw'). Nothing asynchronous runs
// after process.exit(): what the client holds must be counted and reported at Node's `exit`,
// synchronously, with the app's exit code kept. The result is printed at `exit`, after the
// client's own listener (registered when the client was created).
import { config, emit, startClient } from './fault-client.mjs';

const { client, trackAll, report } = startClient();
process.on('exit', (code) => report({ atExit: true, code }));
if (config.exitOn === 'throw') {
  process.on('uncaughtException', () => process.exit(1));
}
process.on('SIGUSR2', () => process.exit(3));
// Something of the app's own keeps the process alive until it exits.
setInterval(() => {}, 60_000);
trackAll();
emit({ type: 'tracked' });
if (config.exitOn === 'tracked') setImmediate(() => process.exit(3));
if (config.exitOn === 'unawaited-close') {
  setImmediate(() => {
    void client.close();
    process.exit(3);
  });
}
if (config.exitOn === 'throw') {
  setImmediate(() => {
    throw new Error('the app failed');
  });
}
