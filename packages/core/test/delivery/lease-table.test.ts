import { describe, expect, it } from 'vitest';
import { LeaseTable, type LedgerEntry } from '../../src/delivery/outbox/ledger.js';
import { memoryOutbox } from '../../src/delivery/outbox/memory.js';
import type { OutboxRecord } from '../../src/delivery/outbox/types.js';

const entry = (i: number): LedgerEntry => ({
  seq: i,
  leaseUntil: 0,
  rec: {
    id: `r${i}`,
    pixelId: '1',
    eventId: `e${i}`,
    eventName: 'Lead',
    eventTime: 1,
    actionSource: 'website',
    body: '{}',
    bytes: 2,
    attempts: 0,
    enqueuedAt: i,
    retryAt: 0,
  },
});

/** A seeded generator (mulberry32), so a failing run can be replayed. */
const random = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};

describe('LeaseTable', () => {
  it('finds what a Map would, whatever the order of leases, lookups and ends (random model check)', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const next = random(seed);
      const table = new LeaseTable();
      const model = new Map<string, LedgerEntry>();
      const ended: LedgerEntry[] = [];
      let made = 0;
      // Plain comparisons per step (expect() per lookup makes the run take seconds); the first
      // difference is reported with its seed and step.
      let differs = '';
      for (let step = 0; step < 4000 && differs === ''; step++) {
        const roll = next();
        if (roll < 0.35) {
          // A claim: a run of entries leased in order, some of them given back earlier (a
          // release or nack, then claimed again: the same id leased a second time).
          const run = 1 + Math.floor(next() * 40);
          for (let k = 0; k < run; k++) {
            const e =
              ended.length > 0 && next() < 0.3 ? (ended.pop() as LedgerEntry) : entry(made++);
            table.add(e);
            model.set(e.rec.id, e);
          }
        } else if (roll < 0.85) {
          // An ack: ids of a run of leased entries, usually in claim order, sometimes shuffled,
          // sometimes ids nobody leased.
          const leased = [...model.values()];
          if (leased.length === 0) continue;
          const from = Math.floor(next() * leased.length);
          const ids = leased.slice(from, from + 1 + Math.floor(next() * 50)).map((e) => e.rec.id);
          if (next() < 0.2) ids.reverse();
          if (next() < 0.1) ids.push(`r${made + 7}`, 'unknown');
          for (const id of ids) {
            const found = table.get(id);
            if (found !== model.get(id)) differs ||= `seed ${seed} step ${step}: get(${id})`;
            if (found !== undefined && next() < 0.9) {
              table.delete(found);
              model.delete(id);
              if (next() < 0.5) ended.push(found);
            }
          }
        } else if (roll < 0.97) {
          // Lookups that end nothing, and ends of entries not leased (no-ops).
          const id = `r${Math.floor(next() * (made + 3))}`;
          if (table.get(id) !== model.get(id)) differs ||= `seed ${seed} step ${step}: get(${id})`;
          table.delete(entry(made + 100));
        } else if (roll < 0.985) {
          ended.push(...model.values());
          table.clear();
          model.clear();
        }
        if (table.size !== model.size) differs ||= `seed ${seed} step ${step}: size`;
      }
      expect(differs).toBe('');
      expect(table.values()).toEqual([...model.values()]);
    }
  }, 60_000);

  it('ends a lease once: deleting an ended entry again, or after clear(), changes nothing', () => {
    const table = new LeaseTable();
    const [a, b] = [entry(1), entry(2)];
    table.add(a);
    table.add(b);
    table.delete(a);
    table.delete(a);
    expect(table.size).toBe(1);
    expect(table.get('r1')).toBeUndefined();
    expect(table.get('r2')).toBe(b);
    table.clear();
    table.delete(b);
    expect(table.size).toBe(0);
    table.add(b);
    expect(table.get('r2')).toBe(b);
  });
});

describe('memoryOutbox leases', () => {
  it('acks batches answered out of order, and parts of split batches, across compactions', () => {
    const box = memoryOutbox({ maxEvents: 100_000 });
    let i = 0;
    const record = (): OutboxRecord => ({ ...entry(i++).rec });
    const inFlight: string[][] = [];
    let acked = 0;
    for (let round = 0; round < 40; round++) {
      box.append(Array.from({ length: 250 }, record));
      inFlight.push(box.claim(250, 60_000, { now: round }).map((r) => r.id));
      if (inFlight.length === 3) {
        // The newest answers first, the oldest is split in two and its second half goes first.
        const [oldest, middle, newest] = inFlight.splice(0, 3) as [string[], string[], string[]];
        box.ack(newest);
        box.ack(oldest.slice(125));
        box.release(oldest.slice(0, 125), 0);
        box.ack(middle);
        acked += 250 * 2 + 125;
      }
    }
    const stats = box.stats();
    expect(acked).toBe(13 * 625);
    expect(stats.leased).toBe(250);
    expect(stats.queued).toBe(13 * 125);
    box.ack((inFlight[0] as string[]).slice().reverse());
    const back = box.claim(10_000, 60_000, { now: 100 });
    expect(back).toHaveLength(13 * 125);
    box.ack(back.map((r) => r.id));
    expect(box.stats()).toMatchObject({ queued: 0, leased: 0, bytes: 0 });
  });
});

describe('LeaseTable memory', () => {
  /** The table's slot list (private): what it keeps beside the leases themselves. */
  const slotsOf = (table: LeaseTable) => (table as unknown as { order: unknown[] }).order.length;

  it('stays proportional to the leases held while one old lease stays open (found by review)', () => {
    // A request never answered holds its record until the lease ends; meanwhile the pixel keeps
    // flowing, two batches in flight, the second answered first.
    for (const outOfOrder of [false, true]) {
      const table = new LeaseTable();
      const stuck = entry(0);
      table.add(stuck);
      let made = 1;
      for (let round = 0; round < 400; round++) {
        const first = Array.from({ length: 250 }, () => entry(made++));
        const second = Array.from({ length: 250 }, () => entry(made++));
        for (const e of [...first, ...second]) table.add(e);
        for (const batch of outOfOrder ? [second, first] : [first, second]) {
          for (const e of batch) table.delete(table.get(e.rec.id) as LedgerEntry);
        }
        expect(table.size).toBe(1);
        expect(slotsOf(table)).toBeLessThanOrEqual(1024 + 500);
      }
      expect(table.get('r0')).toBe(stuck);
    }
  });
});
