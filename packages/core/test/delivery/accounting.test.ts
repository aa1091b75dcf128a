import { describe, expect, it } from 'vitest';
import { createCapi } from '../../src/delivery/client.js';
import { memoryOutbox } from '../../src/delivery/outbox/memory.js';
import type { Outbox } from '../../src/delivery/outbox/types.js';
import {
  accounted,
  graphError,
  hang,
  ok,
  PIXEL,
  purchase,
  type SeenRequest,
  scriptedFetch,
  settle,
  setupClient,
  TOKEN,
} from './helpers.js';

const oddIsBad = (req: SeenRequest): Response =>
  req.body.data.some((e) => Number(e.event_id.slice(4)) % 2 === 1)
    ? graphError(400, 100, { message: 'One or more events are invalid.' })
    : ok(req);

describe('the figures add up at every moment', () => {
  it('inside every hook, through retries, bisection, overflow and close()', async () => {
    let tracked = 0;
    const seen: string[] = [];
    const { client, clock, track } = setupClient(
      (req, i) => (i === 1 ? graphError(503, 2) : oddIsBad(req)),
      { maxQueuedEvents: 150, maxConcurrency: 3 },
    );
    for (const hook of ['sent', 'retry', 'dropped', 'deadLetter', 'error', 'warn'] as const) {
      client.on(hook, () => {
        seen.push(hook);
        expect(accounted(client.stats())).toBe(tracked);
      });
    }
    const add = (n: number) => {
      for (let i = 0; i < n; i++) {
        track(tracked);
        tracked++;
        expect(accounted(client.stats())).toBe(tracked);
      }
    };
    add(120);
    await client.flush();
    add(100); // overflows the 150-event queue while the pixel backs off
    for (let t = 0; t < 20; t++) {
      await clock.advance(1000);
      await client.flush();
      expect(accounted(client.stats())).toBe(tracked);
    }
    add(30);
    const closing = client.close({ timeoutMs: 100 });
    await clock.advance(100);
    await closing;
    expect(accounted(client.stats())).toBe(tracked);
    expect(new Set(seen)).toEqual(new Set(['sent', 'retry', 'dropped', 'deadLetter']));
  });

  it('an outbox call that fails once leaves its records counted as queued, not lost', async () => {
    const inner = memoryOutbox();
    let failNack = true;
    const outbox: Outbox = {
      ...inner,
      durable: false,
      nack: (ids, retryAt, error) => {
        if (failNack) {
          failNack = false;
          return Promise.reject(new Error('disk on fire'));
        }
        return inner.nack(ids, retryAt, error);
      },
    };
    const { client, clock, hooks, track } = setupClient(
      (req, i) => (i === 0 ? graphError(503, 2) : ok(req)),
      { outbox },
    );
    for (let i = 0; i < 5; i++) track(i);
    const drained = client.drain({ timeoutMs: 1000 });
    await clock.advance(1000);
    await drained;
    expect(hooks.error.map((e) => e.kind)).toContain('outbox');
    expect(client.stats()).toMatchObject({ queued: 5, inFlight: 0, sent: 0 });
    const closing = client.close({ timeoutMs: 10 });
    await clock.advance(10);
    await closing;
    expect(client.stats()).toMatchObject({ queued: 0, sent: 0 });
    expect(client.stats().dropped.shutdown).toBe(5);
  });
});

describe('an event track() refuses is counted before its hooks run', () => {
  /** A client whose every hook records the sum at that moment. */
  const observed = (options: Parameters<typeof setupClient>[1] = {}) => {
    const setup = setupClient(undefined, options);
    const inHooks: string[] = [];
    for (const hook of ['dropped', 'error', 'warn'] as const) {
      setup.client.on(hook, () => inHooks.push(`${hook} ${accounted(setup.client.stats())}`));
    }
    return { ...setup, inHooks };
  };

  it('an outbox whose append throws (reason error)', () => {
    const { client, track, inHooks } = observed({
      outbox: {
        ...memoryOutbox(),
        append: () => {
          throw new Error('disk full');
        },
      },
    });
    expect(track(0)).toMatchObject({ accepted: false, reason: 'error' });
    expect(accounted(client.stats())).toBe(1);
    expect(inHooks).toEqual(['dropped 1', 'error 1']);
  });

  it('an append that throws or rejects with an error whose message cannot be read: counted once', async () => {
    const hostile = () =>
      Object.defineProperty(new Error('x'), 'message', {
        get: () => {
          throw new Error('getter');
        },
      });
    const { client, track, inHooks } = observed({
      outbox: {
        ...memoryOutbox(),
        append: (records) => {
          if (records[0]?.eventId === 'evt-0') throw hostile();
          return Promise.reject(hostile());
        },
      },
    });
    expect(track(0)).toMatchObject({ accepted: false, reason: 'error' });
    expect(track(1)).toMatchObject({ accepted: true });
    await settle();
    const s = client.stats();
    expect({ total: accounted(s), error: s.dropped.error, queued: s.queued }).toEqual({
      total: 2,
      error: 2,
      queued: 0,
    });
    expect(inHooks).toEqual(['dropped 1', 'error 1', 'dropped 2', 'error 2']);
  });

  it('an invalid event (reason invalid)', () => {
    const { client, inHooks } = observed();
    const result = client.track({ event_name: 'Purchase', action_source: 'website' } as never);
    expect(result).toMatchObject({ accepted: false, reason: 'invalid' });
    expect(inHooks).toEqual(['dropped 1', 'error 1']);
  });

  it('lazy params that throw, and a field that throws when read', () => {
    const { client, inHooks } = observed();
    const throwing = () => {
      throw new Error('app bug');
    };
    expect(client.track(throwing as never, { eventName: 'Lead' })).toMatchObject({
      accepted: false,
      reason: 'error',
    });
    const unreadable = Object.defineProperty({ event_name: 'Lead' }, 'action_source', {
      enumerable: true,
      get: throwing,
    });
    expect(client.track(unreadable as never)).toMatchObject({ accepted: false, reason: 'invalid' });
    expect(inHooks).toEqual(['dropped 1', 'error 1', 'dropped 2', 'error 2']);
  });
});

describe('bisection and leases', () => {
  it('a bisection that outlasts its lease sends no record twice and keeps the figures', async () => {
    const delivered: string[] = [];
    const { client, clock, hooks, track } = setupClient(
      (req) =>
        new Promise<Response>((resolve) => {
          // Four seconds on the fake clock per answer, one request at a time: taking apart 1,000
          // events of which half are bad needs ~2,000 of them, over two hours, past the lease.
          clock.setTimeout(() => resolve(oddIsBad(req)), 4000);
        }),
      { maxConcurrency: 1, timeoutMs: 5000 },
    );
    client.on('sent', (info) => delivered.push(...info.eventIds));
    let tracked = 0;
    for (; tracked < 1000; tracked++) track(tracked);
    void client.flush();
    for (let minute = 0; minute < 240; minute++) {
      // A new event now and then makes the pixel claim again: the moment an expired lease would
      // hand the parts still in bisection out a second time.
      track(tracked++);
      await clock.advance(60_000);
      expect(accounted(client.stats())).toBe(tracked);
      const { queued, inFlight } = client.stats();
      if (queued + inFlight === 0) break;
    }
    const blamed = hooks.deadLetter.flatMap((d) => d.events.map((e) => e.eventId));
    expect(new Set(delivered).size).toBe(delivered.length);
    expect(new Set(blamed).size).toBe(blamed.length);
    expect(blamed.every((id) => Number(id.slice(4)) % 2 === 1)).toBe(true);
    expect(client.stats()).toMatchObject({ queued: 0, inFlight: 0, sent: delivered.length });
    expect(delivered.length + blamed.length).toBe(tracked);
    await client.close({ timeoutMs: 0 });
  }, 60_000);

  it('a transient answer to one part keeps the other parts and spends no good event', async () => {
    const bad = (id: string) => Number(id.slice(4)) % 10 === 3;
    const { client, clock, seen, hooks, track } = setupClient(
      (req, i) => {
        if (i > 0 && i % 20 === 0) return graphError(502, 2);
        return req.body.data.some((e) => bad(e.event_id))
          ? graphError(400, 100, { message: 'One or more events are invalid.' })
          : ok(req);
      },
      { maxConcurrency: 4 },
    );
    for (let i = 0; i < 1000; i++) track(i);
    for (let t = 0; t < 300 && client.stats().queued + client.stats().inFlight > 0; t++) {
      await clock.advance(1000);
      await client.flush();
    }
    const dead = hooks.deadLetter.flatMap((d) => d.events.map((e) => e.eventId));
    expect(dead.filter((id) => !bad(id))).toEqual([]);
    expect(client.stats()).toMatchObject({ sent: 900, deadLettered: 100, queued: 0 });
    console.log(`bisection with a 502 every 20th request: ${seen.length} requests`);
    await client.close({ timeoutMs: 0 });
  });
});

describe('deadlines that hold', () => {
  it('a fetch that ignores its abort signal still times out: flush() resolves', async () => {
    const { client, clock, track } = setupClient(() => new Promise<Response>(() => {}), {
      timeoutMs: 200,
    });
    track(1);
    let flushed = false;
    void client.flush().then(() => {
      flushed = true;
    });
    await settle(); // the request is on its way
    await clock.advance(200);
    await settle();
    expect(flushed).toBe(true);
    expect(client.stats()).toMatchObject({ queued: 1, inFlight: 0, retried: 1 });
    await client.close({ timeoutMs: 0 });
  });

  it('close({ timeoutMs: Infinity }) and NaN wait for delivery instead of firing at once', async () => {
    for (const timeoutMs of [Number.POSITIVE_INFINITY, 2 ** 40, Number.NaN]) {
      const { fetch } = scriptedFetch(
        (req) => new Promise<Response>((resolve) => setTimeout(() => resolve(ok(req)), 30)),
      );
      const client = createCapi({ pixelId: PIXEL, accessToken: TOKEN, fetch, env: false });
      for (let i = 0; i < 5; i++) client.track(purchase(i, Date.now()));
      await client.close({ timeoutMs });
      expect(client.stats()).toMatchObject({ sent: 5, dropped: { shutdown: 0 } });
    }
  });

  it('hung requests are still aborted at a finite deadline', async () => {
    const { client, clock, track } = setupClient(hang);
    track(1);
    const closing = client.close({ timeoutMs: 300 });
    await clock.advance(300);
    await closing;
    expect(client.stats().dropped.shutdown).toBe(1);
  });
});

describe('credentials', () => {
  it('a wrong app secret (code 100 about appsecret_proof) opens the circuit and keeps the events', async () => {
    const { client, hooks, seen, track } = setupClient(() =>
      graphError(400, 100, { message: 'Invalid appsecret_proof provided in the API argument' }),
    );
    for (let i = 0; i < 64; i++) track(i);
    await client.drain();
    expect(seen).toHaveLength(1);
    expect(hooks.deadLetter).toHaveLength(0);
    expect(hooks.error.map((e) => e.kind)).toEqual(['auth']);
    expect(client.stats()).toMatchObject({ queued: 64, deadLettered: 0 });
    await client.close({ timeoutMs: 0 });
  });
});
