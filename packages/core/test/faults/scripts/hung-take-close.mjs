// Case h of close.test.ts: a durable outbox whose take at close (`takeNonDurable`) never answers,
// as a store that lost its connection would. `await close()` is the script's last wait: it must
// resolve by its deadline, and the line after it must run; the outbox's own close() waits for
// that take, never called under it (a close() waiting on the take forever would let Node end the process on an unsettled
// top-level await, exit 13, with nothing reported).
import { memoryOutbox } from '@capi-kit/core';
import { config, startClient } from './fault-client.mjs';

let outboxClosed = false;
const outbox = {
  ...memoryOutbox(),
  durable: true,
  takeNonDurable: () => new Promise(() => {}),
  close: () => {
    outboxClosed = true;
  },
};
const { client, trackAll, report } = startClient({ outbox });
trackAll();
const started = performance.now();
await client.close({ timeoutMs: config.closeTimeoutMs ?? 10_000 });
report({ afterClose: true, outboxClosed, closeMs: Math.round(performance.now() - started) });
