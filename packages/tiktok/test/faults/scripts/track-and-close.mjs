// Cases a and c: track, then `await close()` as the last thing the script does; the line after it
// must run and report both streams.
import { config, startClient } from './two-streams.mjs';

const { client, track, report } = startClient();
track();
const started = performance.now();
await client.close({ timeoutMs: config.closeTimeoutMs ?? 15_000 });
report({ afterClose: true, closeMs: Math.round(performance.now() - started) });
