// Case e: a script that tracks, does some other work of its own (`config.workMs`, a ref'd timer
// standing for it) and then simply ends: no close() in its flow, no signal. Meanwhile Meta's
// batch goes out and TikTok's fails and waits out a backoff, whose timer does not hold the
// process open, so the loop empties and Node emits `beforeExit`. With `config.handler: 'close'`
// the script's `beforeExit` listener closes the client there (printing a `beforeExit` line with
// the figures first); with `'none'` there is no listener, and an `exit` listener (synchronous,
// the last word a process has) reports what the client counted when it ended.
import { config, emit, startClient } from './two-streams.mjs';

const { client, track, report } = startClient();
if (config.handler === 'none') {
  process.on('exit', () => report({ atExit: true }));
} else {
  process.once('beforeExit', async () => {
    emit({ type: 'beforeExit', stats: client.stats().pixels });
    const started = performance.now();
    await client.close({ timeoutMs: config.closeTimeoutMs ?? 5000 });
    report({ afterClose: true, closeMs: Math.round(performance.now() - started) });
  });
}
track();
await new Promise((resolve) => setTimeout(resolve, config.workMs ?? 300));
emit({ type: 'work-done' });
