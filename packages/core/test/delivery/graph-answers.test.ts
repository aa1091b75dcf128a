import { describe, expect, it } from 'vitest';
import { MAX_ANSWER_BYTES } from '../../src/delivery/transport.js';
import { accounted, ok, setupClient, TOKEN } from './helpers.js';

// How the pipe treats answers a Graph endpoint should never give: each is retried like any answer
// that is not Meta's acknowledgement, told to the developer, and every event stays accounted for.

describe('answers that are not Meta’s', () => {
  it('an answer body past the bound is not read, and retried', async () => {
    let cancelled = false;
    const { client, clock, hooks, log, track } = setupClient((req, i) => {
      if (i > 0) return ok(req);
      // A body that never ends (a misconfigured graphUrl streaming a file, a chunked loop).
      const chunk = new Uint8Array(64 * 1024).fill(0x61);
      const stream = new ReadableStream<Uint8Array>({
        pull: (controller) => controller.enqueue(chunk),
        cancel: () => {
          cancelled = true;
        },
      });
      return new Response(stream, { status: 200 });
    });
    track(1);
    await client.flush();
    expect(cancelled).toBe(true);
    expect(hooks.retry).toHaveLength(1);
    expect(hooks.retry[0]).toMatchObject({ status: 200, reason: 'transient' });
    expect(hooks.retry[0]?.error).toContain(`larger than ${MAX_ANSWER_BYTES / 1024 / 1024} MiB`);
    expect(client.stats()).toMatchObject({ sent: 0, queued: 1 });
    await clock.advance(60_000);
    await client.flush();
    expect(client.stats()).toMatchObject({ sent: 1, queued: 0, deadLettered: 0 });
    expect(accounted(client.stats())).toBe(1);
    expect(log.text()).not.toContain(TOKEN);
    await client.close();
  });
});
