// Case b: TikTok refuses the credentials. Wave one is tracked; once TikTok's stream reports the
// auth error (its circuit is open), wave two is tracked, and the script waits until Meta has both
// waves. Then, by `config.mode`:
// - `close`: close() at once (the credentials are still refused): TikTok's events, kept while the
//   circuit was open, are counted as dropped at shutdown and handed to onUndeliverable;
// - `probe`: wait for the circuit's probe to find TikTok answering again, then close();
// - `resume`: `client.resume(stream)` (the operator fixed the token), then close().
import { config, emit, startClient } from './two-streams.mjs';

const { client, track, report, until, sentCount, stream, tiktokStream } = startClient();
const metaStream = process.env.FAULT_PIXEL_ID;
const n = config.count ?? 50;
track(n);
const opened = await until(() => (stream(tiktokStream).errors.auth ?? 0) > 0);
track(n);
const metaHasBoth = await until(() => sentCount(metaStream) >= 2 * n);
const snapshot = client.stats().pixels;
emit({ type: 'snapshot', opened, metaHasBoth });
if (config.mode === 'resume') client.resume(tiktokStream);
if (config.mode !== 'close') await until(() => sentCount(tiktokStream) >= 2 * n);
const started = performance.now();
await client.close({ timeoutMs: config.closeTimeoutMs ?? 5000 });
report({
  afterClose: true,
  closeMs: Math.round(performance.now() - started),
  opened,
  metaHasBoth,
  snapshot,
});
