// Case f: the wall clock is stepped (NTP, an operator, a VM resume) by FAULT_STEP_MS right after
// the first failed request, during a 0.5 s backoff. The client must schedule on a clock that does
// not step (performance.now()): the retry comes after 0.5 s, neither ten minutes later (stepped
// back) nor at once (stepped forward), and close() delivers everything within its deadline.
import { config, emit, startClient } from './fault-client.mjs';

const step = Number(process.env.FAULT_STEP_MS ?? '0');
const wallNow = Date.now;
let stepped = false;

// random() = 0.5 makes the full-jitter backoff exactly half of baseDelayMs.
const { client, trackAll, report } = startClient({ random: () => 0.5 });
client.on('retry', () => {
  if (stepped) return;
  stepped = true;
  Date.now = () => wallNow.call(Date) + step;
  emit({ type: 'stepped', stepMs: step });
});
trackAll();
const started = performance.now();
await client.close({ timeoutMs: config.closeTimeoutMs ?? 5000 });
report({ afterClose: true, closeMs: Math.round(performance.now() - started), stepped });
