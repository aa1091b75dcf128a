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

  it('events_received as text ("2") is not Meta’s acknowledgement: retried, then dead-lettered', async () => {
    // Meta's answer is `{"events_received": <number>, …}` (capi.md §1, [UA] "Response"); a string
    // is some other server's JSON, and counting it as a delivery could lose the events.
    const { client, clock, hooks, track } = setupClient(
      (req) => Response.json({ events_received: String(req.body.data.length), fbtrace_id: 'T' }),
      { retry: { maxAttempts: 3 } },
    );
    track(1);
    track(2);
    for (let i = 0; i < 4; i++) {
      await client.flush();
      await clock.advance(60_000);
    }
    await client.flush();
    expect(hooks.sent).toHaveLength(0);
    expect(hooks.retry.length).toBeGreaterThan(0);
    expect(hooks.retry.every((r) => r.status === 200 && r.reason === 'transient')).toBe(true);
    expect(hooks.retry[0]?.error).toContain('events_received is not a number');
    expect(hooks.deadLetter.flatMap((d) => d.events.map((e) => e.eventId)).sort()).toEqual([
      'evt-1',
      'evt-2',
    ]);
    expect(hooks.deadLetter.every((d) => d.reason === 'max_attempts')).toBe(true);
    expect(hooks.deadLetter[0]?.error.message).toContain('events_received is not a number');
    expect(client.stats()).toMatchObject({ sent: 0, queued: 0, deadLettered: 2 });
    expect(accounted(client.stats())).toBe(2);
    await client.close();
  });
});
