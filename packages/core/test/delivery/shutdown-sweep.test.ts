import { describe, expect, it } from 'vitest';
import type { Outbox, OutboxRecord } from '../../src/delivery/outbox/types.js';
import { RecordOwnership } from '../../src/delivery/ownership.js';
import { ShutdownSweep } from '../../src/delivery/shutdown-sweep.js';
import type { Slot } from '../../src/delivery/slots.js';

// The rules of shutdown-sweep.ts on their own; close-review.test.ts, outbox-host.test.ts,
// interleavings.test.ts and faults/exit.test.ts check them through a client.

const rec = (id: string): OutboxRecord => ({
  id,
  pixelId: '1',
  eventId: `e-${id}`,
  eventName: 'Purchase',
  eventTime: 0,
  actionSource: 'website',
  body: '{}',
  bytes: 2,
  attempts: 0,
  enqueuedAt: 0,
  retryAt: 0,
});

const idsOf = (records: readonly OutboxRecord[]) => records.map((r) => r.id);

/** An outbox holding `held`: a claim takes all of it; claims and dead letters are recorded. */
const fakeOutbox = (held: OutboxRecord[], extra: Partial<Outbox> = {}) => {
  const calls: string[] = [];
  const outbox = {
    durable: false,
    append: () => undefined,
    claim: () => {
      calls.push('claim');
      return held.splice(0);
    },
    ack: () => {},
    nack: () => {},
    release: () => {},
    deadLetter: (ids: readonly string[]) => {
      calls.push(`deadLetter ${ids.join(',')}`);
    },
    stats: () => ({ queued: held.length, inFlight: 0, deadLettered: 0 }),
    ...extra,
  } as unknown as Outbox;
  return { outbox, calls };
};

const sweepOf = (outbox: Outbox, slots: Set<Slot> = new Set()) => {
  const swept: string[][] = [];
  const background: Promise<void>[] = [];
  let ended = 0;
  const sweep = new ShutdownSweep({
    config: {
      pixelId: '1',
      outbox,
      clock: { now: () => 0, setTimeout: () => 0, clearTimeout: () => {} },
      leaseMs: 30_000,
      background: (p) => background.push(p),
    },
    owners: new RecordOwnership(slots),
    swept: (records) => {
      if (records.length > 0) swept.push(idsOf(records));
    },
    outboxError: () => {},
    ended: () => ended++,
  });
  return { sweep, swept, background, ended: () => ended };
};

describe('ShutdownSweep', () => {
  it('finds records in a non-durable outbox, and in a durable one only through takeNonDurable until the outbox closes', () => {
    expect(sweepOf(fakeOutbox([]).outbox).sweep.mayFind).toBe(true);
    const durable = fakeOutbox([], { durable: true } as Partial<Outbox>).outbox;
    expect(sweepOf(durable).sweep.mayFind).toBe(false);
    const taking = fakeOutbox([], {
      durable: true,
      takeNonDurable: () => [],
    } as Partial<Outbox>).outbox;
    const { sweep } = sweepOf(taking);
    expect(sweep.mayFind).toBe(true);
    sweep.outboxCloses();
    expect(sweep.mayFind).toBe(false);
  });

  it('at close, dead-letters what a non-durable outbox holds and tells the pipe in the same step', async () => {
    const { outbox, calls } = fakeOutbox([rec('a'), rec('b')]);
    const { sweep, swept, ended } = sweepOf(outbox);
    await sweep.atClose();
    expect(calls).toEqual(['claim', 'deadLetter a,b']);
    expect(swept).toEqual([['a', 'b']]);
    expect(ended()).toBe(1);
  });

  it('runs one sweep at a time: records back during a sweep are swept after it, once', async () => {
    const held = [rec('a')];
    let answer: (() => void) | undefined;
    const { outbox, calls } = fakeOutbox(held, {
      claim: () => {
        calls.push('claim');
        const taken = held.splice(0);
        return new Promise<OutboxRecord[]>((resolve) => {
          answer = () => resolve(taken);
        });
      },
    } as Partial<Outbox>);
    const { sweep, swept, background } = sweepOf(outbox);
    const closing = sweep.atClose();
    expect(sweep.running()).toBeDefined();
    held.push(rec('b'));
    sweep.afterStop();
    sweep.afterStop();
    expect(calls).toEqual(['claim']);
    answer?.();
    await closing;
    expect(background).toHaveLength(1);
    expect(calls).toEqual(['claim', 'deadLetter a', 'claim']);
    answer?.();
    await background[0];
    expect(calls).toEqual(['claim', 'deadLetter a', 'claim', 'deadLetter b']);
    expect(swept).toEqual([['a'], ['b']]);
    expect(sweep.running()).toBeUndefined();
  });

  it('at exit, sweeps in one synchronous step, leaving to a request recording its answer its own records', () => {
    const answering = rec('a');
    const slot: Slot = {
      controller: undefined,
      aborted: false,
      suspected: 0,
      events: 1,
      bytes: 2,
      circuitStamp: 0,
      leaseUntil: 0,
      unlanded: [answering],
      settling: true,
    };
    const { outbox, calls } = fakeOutbox([answering, rec('b')]);
    const { sweep, swept } = sweepOf(outbox, new Set([slot]));
    sweep.atExit();
    expect(calls).toEqual(['claim', 'deadLetter b']);
    expect(swept).toEqual([['b']]);
  });

  it('at exit, takes what a durable outbox holds in memory only', () => {
    const { outbox, calls } = fakeOutbox([], {
      durable: true,
      takeNonDurable: () => [rec('m')],
    } as Partial<Outbox>);
    const { sweep, swept } = sweepOf(outbox);
    sweep.atExit();
    expect(calls).toEqual([]);
    expect(swept).toEqual([['m']]);
  });
});
