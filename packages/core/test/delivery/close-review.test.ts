import { describe, expect, it } from 'vitest';
import { createCapi } from '../../src/delivery/client.js';
import { memoryOutbox } from '../../src/delivery/outbox/memory.js';
import type { Outbox } from '../../src/delivery/outbox/types.js';
import type { Logger } from '../../src/delivery/types.js';
import {
  accounted,
  FakeClock,
  hang,
  PIXEL,
  scriptedFetch,
  settle,
  setupClient,
  TOKEN,
} from './helpers.js';

/** The in-memory outbox, its `close()` counted, and `flush()` when one is given. */
const countedOutbox = (flush?: () => void) => {
  const inner = memoryOutbox({ maxEvents: 100, maxBytes: 1_000_000 });
  let closes = 0;
  const outbox: Outbox = {
    ...inner,
    close: () => {
      closes++;
    },
    ...(flush ? { flush } : {}),
  };
  return { outbox, closes: () => closes };
};

describe('close() called again from inside its own first steps', () => {
  it('from the logger, while close() prints the pending feedback summaries: one close, one promise', async () => {
    const clock = new FakeClock();
    const { fetch } = scriptedFetch();
    const { outbox, closes } = countedOutbox();
    const returned: Promise<void>[] = [];
    const closedLines: string[] = [];
    let client: ReturnType<typeof createCapi> | undefined;
    const note = (_obj: Record<string, unknown>, msg: string) => {
      if (msg === 'capi-kit: closed') closedLines.push(msg);
      // A logger that makes sure the client is closed once it hears of a shutdown.
      if (client?.closed) returned.push(client.close({ timeoutMs: 100 }));
    };
    const logger: Logger = { debug: note, info: note, warn: note, error: note };
    client = createCapi({
      pixelId: PIXEL,
      accessToken: TOKEN,
      fetch,
      clock,
      logger,
      outbox,
      env: false,
    });
    // The same invalid event twice: the second is a repeat, summarized when close() begins.
    client.track({ event_name: 'Purchase' } as never);
    client.track({ event_name: 'Purchase' } as never);
    const first = client.close({ timeoutMs: 1000 });
    await settle();
    await clock.advance(1000);
    await first;
    await settle();
    expect(closes()).toBe(1);
    expect(closedLines).toHaveLength(1);
    expect(returned.length).toBeGreaterThan(0);
    for (const p of returned) expect(p).toBe(first);
  });

  it("from an `error` listener, when the outbox's flush throws at close(): one close, one promise", async () => {
    const { outbox, closes } = countedOutbox(() => {
      throw new Error('flush failed');
    });
    const { client, clock, log } = setupClient(undefined, { outbox });
    const returned: Promise<void>[] = [];
    // "Close the client on any error": a common pattern.
    client.on('error', () => {
      returned.push(client.close());
    });
    const first = client.close({ timeoutMs: 500 });
    await settle();
    await clock.advance(500);
    await first;
    await settle();
    expect(closes()).toBe(1);
    expect(log.lines.filter((l) => l.msg === 'capi-kit: closed')).toHaveLength(1);
    expect(returned).toHaveLength(1);
    expect(returned[0]).toBe(first);
  });
});

describe('close() and drain() options from plain JavaScript', () => {
  it('null, or a timeoutMs getter that throws: the default deadline, never a throw or a rejection', async () => {
    const throwing = {
      get timeoutMs(): number {
        throw new Error('options getter');
      },
    };
    for (const options of [null, throwing]) {
      const { client, clock, track } = setupClient();
      track(1);
      const outcome: unknown[] = [];
      const run = (call: () => Promise<void>) => {
        try {
          call().then(
            () => outcome.push('resolved'),
            (error: unknown) => outcome.push(error),
          );
        } catch (error) {
          outcome.push(error);
        }
      };
      run(() => client.drain(options as never));
      await settle();
      await clock.advance(100);
      run(() => client.close(options as never));
      await settle();
      await clock.advance(2000);
      await settle();
      expect(outcome).toEqual(['resolved', 'resolved']);
      expect(client.stats()).toMatchObject({ sent: 1, queued: 0 });
    }
  });

  it('a timeoutMs getter that calls close() itself: one close, one promise', async () => {
    const { outbox, closes } = countedOutbox();
    const { client, clock } = setupClient(undefined, { outbox });
    let inner: Promise<void> | undefined;
    const first = client.close({
      get timeoutMs() {
        inner = client.close({ timeoutMs: 100 });
        return 300;
      },
    });
    await settle();
    await clock.advance(300);
    await first;
    await settle();
    expect(inner).toBe(first);
    expect(closes()).toBe(1);
  });
});

describe('close() whose first steps throw', () => {
  it('a clock that throws as close() begins: close() neither throws nor leaves later calls waiting', async () => {
    // close() stops the feedback window's timer before any await; an app's clock may throw there.
    const clock = new FakeClock();
    const clear = clock.clearTimeout;
    let broken = false;
    clock.clearTimeout = (handle) => {
      if (broken) throw new Error('clock gone');
      clear(handle);
    };
    const { client, log } = setupClient(undefined, { clock });
    // An invalid event is reported, which starts the feedback window that close() ends.
    client.track({ event_name: 'Purchase' } as never);
    broken = true;
    let first: Promise<void> | undefined;
    expect(() => {
      first = client.close({ timeoutMs: 100 });
    }).not.toThrow();
    expect(client.close({ timeoutMs: 100 })).toBe(first);
    await expect(first).resolves.toBeUndefined();
    expect(log.lines.some((l) => l.level === 'error' && l.msg.includes('close() failed'))).toBe(
      true,
    );
  });
});

describe('close() called again with a sooner deadline', () => {
  /** A client whose one request hangs at Meta until aborted, and a close() already running. */
  const closingOnHang = (timeoutMs?: number) => {
    const kit = setupClient(hang);
    kit.track(1);
    const first = kit.client.close(timeoutMs === undefined ? undefined : { timeoutMs });
    let done = false;
    void first.then(() => {
      done = true;
    });
    return { ...kit, first, done: () => done };
  };

  it('close() (2 s), then close({ timeoutMs: 200 }) 10 ms later: the one promise resolves by 210 ms, the hung request aborted and its event counted as dropped (shutdown)', async () => {
    // The app's shutdown code closed with the default budget; a SIGTERM hook then asks for 200 ms
    // because the orchestrator kills the process soon. It used to get the first call's 2 s.
    const { client, clock, seen, hooks, first, done } = closingOnHang();
    await settle();
    expect(seen).toHaveLength(1);
    await clock.advance(10);
    expect(client.close({ timeoutMs: 200 })).toBe(first);
    // Aborted at 190 (210 less a 20 ms grace), not before.
    await clock.advance(179);
    expect({ done: done(), aborted: seen[0]?.signal?.aborted }).toEqual({
      done: false,
      aborted: false,
    });
    await clock.advance(21);
    expect({ done: done(), aborted: seen[0]?.signal?.aborted }).toEqual({
      done: true,
      aborted: true,
    });
    await expect(first).resolves.toBeUndefined();
    const stats = client.stats();
    expect({ sent: stats.sent, queued: stats.queued, inFlight: stats.inFlight }).toEqual({
      sent: 0,
      queued: 0,
      inFlight: 0,
    });
    expect(stats.dropped.shutdown).toBe(1);
    expect(accounted(stats)).toBe(1);
    expect(hooks.dropped.map((d) => [d.reason, d.count])).toEqual([['shutdown', 1]]);
    expect(seen).toHaveLength(1);
    expect(clock.pending()).toBe(0);
  });

  it('one whose deadline comes later changes nothing, before or after a sooner one', async () => {
    // Alone: close({ timeoutMs: 500 }) ends as it would have (aborted at 450), not at 5 s.
    const alone = closingOnHang(500);
    await settle();
    await alone.clock.advance(10);
    expect(alone.client.close({ timeoutMs: 5_000 })).toBe(alone.first);
    await alone.clock.advance(439);
    expect(alone.done()).toBe(false);
    await alone.clock.advance(51);
    expect(alone.done()).toBe(true);
    expect(alone.client.stats().dropped.shutdown).toBe(1);
    expect(alone.clock.pending()).toBe(0);

    // After a sooner one: the deadline does not move back.
    const { client, clock, first, done } = closingOnHang();
    await settle();
    await clock.advance(10);
    void client.close({ timeoutMs: 200 });
    await clock.advance(10);
    expect(client.close({ timeoutMs: 5_000 })).toBe(first);
    expect(client.close()).toBe(first);
    await clock.advance(190);
    expect(done()).toBe(true);
    expect(client.stats().dropped.shutdown).toBe(1);
    expect(accounted(client.stats())).toBe(1);
    expect(clock.pending()).toBe(0);
  });
});
