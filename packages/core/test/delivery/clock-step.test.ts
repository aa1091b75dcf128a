import { describe, expect, it } from 'vitest';
import { schedulingClock, systemClock } from '../../src/delivery/clock.js';
import { graphError, ok, setupClient } from './helpers.js';

const TEN_MINUTES = 10 * 60_000;

// A 503 first, then Meta answers normally; backoff is 500 ms (baseDelayMs 1000 × random 0.5).
const failOnce = () => setupClient((req, i) => (i === 0 ? graphError(503, 2) : ok(req)));

describe('scheduling survives a stepped wall clock', () => {
  it('a step back during a backoff neither stalls delivery nor pauses the pixel for the step', async () => {
    const { clock, client, track, seen } = failOnce();
    for (let i = 0; i < 100; i++) track(i);
    await client.flush();
    expect(seen).toHaveLength(1);
    clock.stepWall(-TEN_MINUTES);
    const paused = client.stats().pixels['1234567890'];
    expect(paused?.state).toBe('paused');
    // The pause ends 500 ms from now on the scheduling clock, not ten minutes later.
    expect((paused?.pausedUntil ?? 0) - clock.monotonic()).toBeLessThanOrEqual(500);
    await clock.advance(600);
    await client.flush();
    expect(client.stats().sent).toBe(100);
    expect(client.stats().pixels['1234567890']?.state).toBe('open');
    await client.close();
  });

  it('a step forward does not cut a backoff short', async () => {
    const { clock, client, track, seen } = failOnce();
    track(1);
    await client.flush();
    clock.stepWall(TEN_MINUTES);
    // A flush during the pause (another request's track) must not find the pause over.
    track(2);
    await client.flush();
    await clock.advance(100);
    expect(seen).toHaveLength(1);
    await clock.advance(500);
    await client.flush();
    expect(client.stats().sent).toBe(2);
    await client.close();
  });

  it('close() after a step back waits out the short backoff and drops nothing', async () => {
    const { clock, client, track } = failOnce();
    for (let i = 0; i < 100; i++) track(i);
    await client.flush();
    clock.stepWall(-TEN_MINUTES);
    const closed = client.close({ timeoutMs: 2000 });
    await clock.advance(2000);
    await closed;
    const stats = client.stats();
    expect(stats.sent).toBe(100);
    expect(stats.dropped.shutdown).toBe(0);
  });

  it('event_time and the 7-day window still follow the wall clock', async () => {
    const { clock, client, track } = setupClient();
    clock.stepWall(-TEN_MINUTES);
    // purchase() stamps event_time from clock.now(), the stepped wall time: still fresh.
    expect(track(1).accepted).toBe(true);
    clock.stepWall(8 * 24 * 3600_000);
    // Eight days later on the wall clock the same event_time is past Meta's window.
    expect(client.track({ ...track(2), event_name: 'Lead' } as never).accepted).toBe(false);
    await client.close();
  });
});

describe('schedulingClock', () => {
  it('starts at the wall time and then advances with the monotonic clock only', () => {
    let wall = 1_000_000;
    let mono = 5;
    const clock = schedulingClock({
      now: () => wall,
      monotonic: () => mono,
      setTimeout: () => 0,
      clearTimeout: () => {},
    });
    expect(clock.now()).toBe(1_000_000);
    wall -= TEN_MINUTES;
    mono += 250;
    expect(clock.now()).toBe(1_000_250);
  });

  it('is the given clock when it has no monotonic source', () => {
    const plain = { now: () => 1, setTimeout: () => 0, clearTimeout: () => {} };
    expect(schedulingClock(plain)).toBe(plain);
  });

  it('the system clock is monotonic and ref()s timers on request', () => {
    expect(typeof systemClock.monotonic).toBe('function');
    const handle = systemClock.setTimeout(() => {}, 60_000) as NodeJS.Timeout;
    expect(handle.hasRef()).toBe(false);
    systemClock.ref?.(handle);
    expect(handle.hasRef()).toBe(true);
    systemClock.clearTimeout(handle);
  });

  it('the system clock holds a delay above 2^31 − 1 ms instead of firing it at once', async () => {
    let fired = 0;
    const handles = [2 ** 31, 2 ** 40, Number.MAX_SAFE_INTEGER].map((ms) =>
      systemClock.setTimeout(() => {
        fired++;
      }, ms),
    );
    await new Promise((resolve) => setTimeout(resolve, 30));
    for (const handle of handles) systemClock.clearTimeout(handle);
    expect(fired).toBe(0);
  });
});
