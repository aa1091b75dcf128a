import { describe, expect, it } from 'vitest';
import { graphError, hang, ok, settle, setupClient } from './helpers.js';

const resolvedYet = (promise: Promise<unknown>) => {
  let done = false;
  void promise.then(() => {
    done = true;
  });
  return () => done;
};

describe('drain()', () => {
  it('waits out a backoff until the events are delivered', async () => {
    const { client, clock, track } = setupClient((req, i) =>
      i === 0 ? graphError(503, 2) : ok(req),
    );
    track(1);
    track(2);
    const done = resolvedYet(client.drain({ timeoutMs: 10_000 }));
    await clock.advance(0);
    expect(client.stats()).toMatchObject({ sent: 0, queued: 2 });
    expect(done()).toBe(false);
    await clock.advance(500);
    await clock.advance(0);
    expect(client.stats()).toMatchObject({ sent: 2, queued: 0 });
    expect(done()).toBe(true);
    await client.close();
  });

  it('stops waiting once the next backoff runs past its deadline, and leaves the events queued', async () => {
    const { client, clock, track } = setupClient(() => graphError(503, 2));
    track(1);
    // Backoffs of 500, 1000, 2000 ms (random 0.5): drain() waits out those that end before its
    // deadline and stops at the first that would end after it.
    const started = clock.monotonic();
    const done = resolvedYet(client.drain({ timeoutMs: 3000 }));
    let waited = 0;
    while (!done() && waited < 3000) {
      await clock.advance(250);
      await settle();
      waited += 250;
    }
    expect(done()).toBe(true);
    expect(waited).toBeLessThan(3000);
    expect(client.stats().retried).toBeGreaterThanOrEqual(2);
    expect(client.stats().pixels['1234567890']?.pausedUntil).toBeGreaterThan(started + 3000);
    expect(client.stats()).toMatchObject({ sent: 0, queued: 1 });
    await client.close({ timeoutMs: 0 });
  });

  it('resolves at once when only resume() can help (auth circuit open)', async () => {
    const { client, clock, track } = setupClient(() => graphError(400, 190));
    track(1);
    const done = resolvedYet(client.drain());
    await clock.advance(0);
    expect(done()).toBe(true);
    expect(client.stats().pixels['1234567890']?.state).toBe('circuit_open');
    await client.close({ timeoutMs: 0 });
  });

  it("a request-scoped waitUntil is handed this tick's delivery, not its first attempt", async () => {
    const { client, clock } = setupClient((req, i) => (i === 0 ? graphError(503, 2) : ok(req)));
    const handed: Promise<unknown>[] = [];
    const waitUntil = (promise: Promise<unknown>) => handed.push(promise);
    client.track({ ...trackInput(clock.now()), event_id: 'a' }, { waitUntil });
    client.track({ ...trackInput(clock.now()), event_id: 'b' }, { waitUntil });
    await clock.advance(0);
    expect(handed).toHaveLength(1);
    const done = resolvedYet(handed[0] as Promise<unknown>);
    await clock.advance(0);
    expect(client.stats().retried).toBe(2);
    expect(done()).toBe(false);
    await clock.advance(500);
    await clock.advance(0);
    expect(client.stats().sent).toBe(2);
    expect(done()).toBe(true);
    await client.close();
  });

  it('after close() it waits for close(), but no longer than its own timeoutMs', async () => {
    // The one request hangs at Meta until close() aborts it at its deadline (2 s by default).
    const { client, clock, track } = setupClient(hang);
    track(1);
    await clock.advance(0);
    const closing = resolvedYet(client.close());
    const shortDrain = resolvedYet(client.drain({ timeoutMs: 100 }));
    const longDrain = resolvedYet(client.drain());
    await clock.advance(99);
    expect(shortDrain()).toBe(false);
    await clock.advance(1);
    await settle();
    expect(shortDrain()).toBe(true);
    expect(closing()).toBe(false);
    await clock.advance(1900);
    await settle();
    expect(closing()).toBe(true);
    // A drain with a longer deadline than the close's ends with the close.
    expect(longDrain()).toBe(true);
    expect(clock.pending()).toBe(0);
  });
});

const trackInput = (nowMs: number) => ({
  event_name: 'Lead' as const,
  event_time: Math.floor(nowMs / 1000),
  action_source: 'website' as const,
  event_source_url: 'https://shop.example.com/',
  user_data: { client_ip_address: '203.0.113.7', client_user_agent: 'UA' },
});

describe('drain() and long pauses', () => {
  it('resolves at once when Meta asks for a pause longer than the deadline', async () => {
    const { client, clock, track } = setupClient(() =>
      graphError(503, 2, {}, { 'retry-after': '120' }),
    );
    track(1);
    const done = resolvedYet(client.drain({ timeoutMs: 10_000 }));
    await clock.advance(0);
    expect(done()).toBe(true);
    expect(client.stats()).toMatchObject({ queued: 1, sent: 0 });
    await client.close({ timeoutMs: 0 });
  });
});
