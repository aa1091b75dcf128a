import { describe, expect, it } from 'vitest';
import type { OutboxRecord } from '../../src/delivery/outbox/types.js';
import { RecordOwnership } from '../../src/delivery/ownership.js';
import type { Slot } from '../../src/delivery/slots.js';

// The rules of ownership.ts on their own; outbox-host.test.ts and interleavings.test.ts check them
// through a pipe whose outbox calls outlast close().

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

const slot = (records: OutboxRecord[], settling: boolean): Slot => ({
  controller: undefined,
  aborted: false,
  suspected: 0,
  events: records.length,
  bytes: 2 * records.length,
  circuitStamp: 0,
  leaseUntil: 0,
  unlanded: records,
  settling,
});

const idsOf = (records: readonly OutboxRecord[]) => records.map((r) => r.id);

describe('RecordOwnership', () => {
  it('owns the records of requests recording an answer, expiries and give-backs, until they end', () => {
    const slots = new Set<Slot>([slot([rec('a')], true), slot([rec('b')], false)]);
    const owners = new RecordOwnership(slots);
    const expiring = [rec('c')];
    owners.expiryBegins(expiring);
    const giving = owners.giveBackBegins([rec('d'), rec('e')]);
    // A request still waiting for its answer owns nothing yet: the sweep counts its records.
    expect([...owners.ids()].sort()).toEqual(['a', 'c', 'd', 'e']);
    owners.expiryEnds(expiring);
    owners.giveBackEnds(giving);
    expect([...owners.ids()]).toEqual(['a']);
  });

  it('a record given back and claimed again is the claiming request’s', () => {
    const owners = new RecordOwnership(new Set());
    const giving = owners.giveBackBegins([rec('a'), rec('b')]);
    owners.claimed([rec('b')]);
    expect([...giving]).toEqual(['a']);
    expect([...owners.ids()]).toEqual(['a']);
  });

  it('a take at close loses what nobody owns, and what an owner leaves queued while it runs', async () => {
    const owners = new RecordOwnership(new Set());
    const giving = owners.giveBackBegins([rec('a'), rec('b')]);
    let answer: (records: OutboxRecord[]) => void = () => {};
    const taking = owners.take(() => new Promise<OutboxRecord[]>((resolve) => (answer = resolve)));
    // The give-back of `a` fails while the take runs: left queued, the take decides.
    owners.giveBackEnds(giving);
    expect(owners.lost([rec('a')])).toEqual([]);
    answer([rec('a'), rec('c')]);
    expect(idsOf(await taking).sort()).toEqual(['a', 'c']);
  });

  it('a record taken from a call still running is lost only if the call leaves it queued', async () => {
    const owners = new RecordOwnership(new Set());
    const giving = owners.giveBackBegins([rec('a'), rec('b'), rec('c')]);
    expect(await owners.take(() => [rec('a'), rec('b'), rec('c')])).toEqual([]);
    owners.giveBackEnds(giving);
    // `a` was counted for good (sent, dead-lettered); `c`, claimed again, is being given back again.
    owners.counted([rec('a')]);
    const again = owners.giveBackBegins([rec('c')]);
    expect(idsOf(owners.lost([rec('a'), rec('b'), rec('c')]))).toEqual(['b']);
    // Each is lost once at most.
    expect(owners.lost([rec('b')])).toEqual([]);
    owners.giveBackEnds(again);
    expect(idsOf(owners.lost([rec('c')]))).toEqual(['c']);
  });

  it('a record an earlier take removed, left queued while a later take runs, is lost at once', async () => {
    const owners = new RecordOwnership(new Set());
    const giving = owners.giveBackBegins([rec('a')]);
    // The take at close removes `a` while its give-back runs: the give-back's to count.
    expect(await owners.take(() => [rec('a')])).toEqual([]);
    // A record landed late, so a second take runs; the give-back of `a` fails meanwhile. The
    // second take cannot find `a` (the first removed it): leaving it to that take would lose it.
    let answer: (records: OutboxRecord[]) => void = () => {};
    const again = owners.take(() => new Promise<OutboxRecord[]>((resolve) => (answer = resolve)));
    owners.giveBackEnds(giving);
    expect(idsOf(owners.lost([rec('a')]))).toEqual(['a']);
    answer([rec('late')]);
    expect(idsOf(await again)).toEqual(['late']);
    expect(owners.lost([rec('a')])).toEqual([]);
  });

  it('a record a take returns again is counted once (an outbox that did not remove it)', async () => {
    const owners = new RecordOwnership(new Set());
    expect(idsOf(await owners.take(() => [rec('a')]))).toEqual(['a']);
    expect(idsOf(await owners.take(() => [rec('a'), rec('b')]))).toEqual(['b']);
  });

  it('nothing is lost without a take', () => {
    const owners = new RecordOwnership(new Set());
    expect(owners.lost([rec('a')])).toEqual([]);
  });
});
