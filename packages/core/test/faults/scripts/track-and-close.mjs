// Cases a, c, d, e: track, then `await close()` as the last thing the script does. The line after
// it must run (a client whose timers are all unref'd would let Node exit mid-backoff instead).
import { config, startClient } from './fault-client.mjs';

const { client, trackAll, report } = startClient();
trackAll();
const started = performance.now();
await client.close({ timeoutMs: config.closeTimeoutMs ?? 10_000 });
report({ afterClose: true, closeMs: Math.round(performance.now() - started) });
