import { describe, expect, it } from 'vitest';
import { memoryOutbox } from '../../src/delivery/outbox/memory.js';
import type { Outbox, OutboxRecord, OutboxStats } from '../../src/delivery/outbox/types.js';
import { accounted, FakeClock, ok, PIXEL, purchase, settle, setupClient } from './helpers.js';

// A durable outbox's start-up count (adopt.ts) holds every outbox call of the engine's until it is
// known: what must not wait on it, and what it must never throw out of.

/** A record a previous run left in the outbox. */
const leftover = (id: string, now: number): OutboxRecord => ({
  id,
  pixelId: PIXEL,
  eventId: id,
  eventName: 'Purchase',
  eventTime: Math.floor(now / 1000),
  actionSource: 'website',
  body: JSON.stringify({ event_name: 'Purchase', event_id: id }),
  bytes: 40,
  attempts: 0,
  enqueuedAt: now,
  retryAt: now,
});

/** A durable outbox holding one record of a previous run, whose stats() is the test's. */
const durableOutbox = (clock: FakeClock, stats: (memory: Outbox) => Outbox['stats']) => {
  const memory = memoryOutbox();
  memory.append([leftover('old-0', clock.now())]);
  const outbox: Outbox = {
    ...memory,
    durable: true,
    stats: stats(memory),
    takeNonDurable: () => [],
    close: () => {},
  };
  return { memory, outbox };
};

const start = (clock: FakeClock, outbox: Outbox, waitUntil?: (p: Promise<unknown>) => void) =>
  setupClient(ok, {
    clock,
    outbox,
    flushIntervalMs: 100,
    closeOnExit: false,
    ...(waitUntil ? { waitUntil } : {}),
  });

/** Whether each promise has settled, read after the microtasks queued now. */
const settledFlags = (promises: readonly Promise<unknown>[]) => {
  const flags = promises.map(() => false);
  promises.forEach((p, i) => {
    void p.then(
      () => {
        flags[i] = true;
      },
      () => {
        flags[i] = true;
      },
    );
  });
  return flags;
};

describe('a durable outbox’s start-up count', () => {
  it('client.flush() and the promises handed to waitUntil do not wait out a start-up count that keeps failing', async () => {
    // A database down at start: stats() is asked again every 1 s … 30 s, every outbox call held.
    // flush() used to resolve (it never waited for the count); now it waited for as long as the
    // database stayed down, and so did every background flush handed to `waitUntil` (a serverless
    // invocation kept alive to its platform's limit, a request awaiting flush() hung).
    const clock = new FakeClock();
    let down = true;
    const { outbox } = durableOutbox(
      clock,
      (memory) => () => (down ? Promise.reject(new Error('connect ECONNREFUSED')) : memory.stats()),
    );
    const kept: Promise<unknown>[] = [];
    const { client, seen } = start(clock, outbox, (p) => kept.push(p));
    client.track(purchase(1, clock.now()));
    const flushed = settledFlags([client.flush()]);
    await clock.advance(120_000);
    const background = settledFlags(kept);
    await settle();
    // Like a pause: nothing may be sent while the count is unknown, so neither waits for it.
    expect({
      flushed,
      background: kept.length > 0 && background.every(Boolean),
      queued: client.stats().queued,
    }).toEqual({ flushed: [true], background: true, queued: 1 });
    // Once the count is known, flush() sends and waits as before: the leftover and the event.
    down = false;
    await clock.advance(30_000);
    await settle();
    await client.flush();
    expect({ sent: client.stats().sent, accounted: accounted(client.stats()) }).toEqual({
      sent: 2,
      accounted: 2,
    });
    expect(seen.flatMap((r) => r.body.data.map((e) => e.event_id)).sort()).toEqual([
      'evt-1',
      'old-0',
    ]);
    const closing = client.close({ timeoutMs: 100 });
    await clock.advance(100);
    await closing;
  });

  it('client.flush() waits for a start-up count that never answers no longer than its warning', async () => {
    const clock = new FakeClock();
    const { outbox } = durableOutbox(clock, () => () => new Promise<OutboxStats>(() => {}));
    const { client } = start(clock, outbox);
    client.track(purchase(1, clock.now()));
    const flushed = settledFlags([client.flush()]);
    await clock.advance(9_999);
    expect(flushed).toEqual([false]);
    await clock.advance(1);
    await settle();
    expect(flushed).toEqual([true]);
    const closing = client.close({ timeoutMs: 0 });
    await clock.advance(1);
    await closing;
  });

  it('a stats() answer whose `then` cannot be read is a failed count: never a throw out of createCapi() or a timer', async () => {
    // A Proxy or getter-backed result: reading `then` throws. The old start-up code read it inside
    // its try; adopt.ts read it outside, so createCapi() threw, and on a retry the throw left the
    // timer's callback (an uncaught exception in a server).
    const unreadable = () =>
      Object.defineProperty({}, 'then', {
        get: () => {
          throw new Error('then unreadable');
        },
      }) as unknown as OutboxStats;
    for (const refusalsFirst of [0, 1]) {
      const clock = new FakeClock();
      let asked = 0;
      const { memory, outbox } = durableOutbox(clock, () => () => {
        asked++;
        if (asked <= refusalsFirst) return Promise.reject(new Error('connect ECONNREFUSED'));
        return asked <= refusalsFirst + 1 ? unreadable() : memory.stats();
      });
      const { client, log } = start(clock, outbox);
      await settle();
      // Asked again at 1 s (then 2 s, 4 s later): the answers stand as failures until one reads.
      await clock.advance(8_000);
      await settle();
      expect({
        failed: log.lines.filter((l) => l.msg === 'capi-kit: outbox stats failed').length,
        answered: log.lines.filter((l) => l.msg === 'capi-kit: outbox stats answered').length,
        sent: client.stats().sent,
      }).toEqual({ failed: 1, answered: 1, sent: 1 });
      const closing = client.close({ timeoutMs: 100 });
      await clock.advance(100);
      await closing;
    }
  });

  it('close() under a count still unknown: the held claim asks the outbox nothing at the deadline, so no record is left leased when close() resolves', async () => {
    // Review of 3223481: the drain's held claim ran at the deadline (a real query, on an outbox
    // whose stats() is slow), leased this run's records and the previous run's for leaseMs (an
    // hour at least), and gave them back only when it answered. One answering after close()
    // resolved (a signalled process ends there) left them leased: the next start could send
    // none of them for an hour. Past the deadline nothing it took would be sent anyway.
    const clock = new FakeClock();
    const memory = memoryOutbox();
    memory.append([leftover('old-0', clock.now())]);
    const calls: string[] = [];
    const outbox: Outbox = {
      ...memory,
      durable: true,
      append: (records) => {
        calls.push('append');
        return memory.append(records);
      },
      claim: (limit, leaseMs, options) => {
        calls.push('claim');
        const taken = memory.claim(limit, leaseMs, options);
        return new Promise<OutboxRecord[]>((resolve) => {
          clock.setTimeout(() => resolve(taken), 40); // a slow database
        });
      },
      stats: () => new Promise<OutboxStats>(() => {}), // never answers
      takeNonDurable: () => [],
      close: () => {
        calls.push('close');
      },
    };
    const { client } = start(clock, outbox);
    client.track(purchase(1, clock.now()));
    await clock.advance(150); // past a flush interval: the pump's claim is made, and held
    let closed = false;
    void client.close({ timeoutMs: 100 }).then(() => {
      closed = true;
    });
    await clock.advance(100);
    expect({ closed, leased: memory.stats().leased, queued: memory.stats().queued }).toEqual({
      closed: true,
      leased: 0,
      queued: 2,
    });
    expect(calls).toEqual(['append', 'close']);
    expect(accounted(client.stats())).toBe(1);
    expect(clock.pending()).toBe(0);
  });
});
