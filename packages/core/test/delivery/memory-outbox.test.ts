import { describe, expect, it } from 'vitest';
import { memoryOutbox } from '../../src/delivery/outbox/memory.js';
import type { OutboxRecord } from '../../src/delivery/outbox/types.js';

let n = 0;
const rec = (pixelId = '1', bytes = 10, extra: Partial<OutboxRecord> = {}): OutboxRecord => {
  const i = n++;
  return {
    id: `r${i}`,
    pixelId,
    eventId: `e${i}`,
    eventName: 'Lead',
    eventTime: 1,
    actionSource: 'website',
    body: 'x'.repeat(bytes),
    bytes,
    attempts: 0,
    enqueuedAt: i,
    retryAt: 0,
    ...extra,
  };
};
const idsOf = (records: readonly OutboxRecord[]) => records.map((r) => r.id);

describe('memoryOutbox', () => {
  it('claims oldest first, per pixel, within count and byte limits', () => {
    const box = memoryOutbox();
    const a = [rec('1'), rec('2'), rec('1'), rec('1')];
    box.append(a);
    expect(idsOf(box.claim(2, 1000, { pixelId: '1', now: 0 }) as OutboxRecord[])).toEqual([
      a[0]?.id,
      a[2]?.id,
    ]);
    expect(idsOf(box.claim(5, 1000, { pixelId: '1', now: 0 }) as OutboxRecord[])).toEqual([
      a[3]?.id,
    ]);
    expect(box.claim(5, 1000, { pixelId: '1', now: 0 })).toEqual([]);
    expect(idsOf(box.claim(5, 1000, { now: 0 }) as OutboxRecord[])).toEqual([a[1]?.id]);
  });

  it('one append over several pixels bounds each pixel on its own; acks of several pixels in one call', () => {
    const box = memoryOutbox({ maxEvents: 2 });
    const a = [rec('1'), rec('2'), rec('1'), rec('2'), rec('1'), rec('3'), rec('2')];
    // Pixel 1 holds three and pixel 2 three: the oldest of each goes, pixel 3 keeps its one.
    expect(idsOf(box.append(a).evicted)).toEqual([a[0]?.id, a[1]?.id]);
    expect(box.stats()).toMatchObject({
      queued: 5,
      pixels: { 1: { queued: 2 }, 2: { queued: 2 }, 3: { queued: 1 } },
    });
    const claimed = box.claim(10, 1000, { now: 0 }) as OutboxRecord[];
    expect(claimed).toHaveLength(5);
    box.ack(idsOf(claimed));
    expect(box.stats()).toMatchObject({ queued: 0, leased: 0, bytes: 0 });
    // Nothing evicted: an empty list every time, never one a later append could have filled.
    const first = box.append([rec('1')]);
    box.append([rec('1'), rec('1')]);
    expect(first.evicted).toEqual([]);
  });

  it('maxBytes counts one comma per record and always returns at least one', () => {
    const box = memoryOutbox();
    box.append([rec('1', 100), rec('1', 100), rec('1', 100)]);
    expect(box.claim(10, 1000, { maxBytes: 202, now: 0 })).toHaveLength(2);
    expect(box.claim(10, 1000, { maxBytes: 5, now: 0 })).toHaveLength(1);
  });

  it('drops the oldest waiting records beyond maxEvents and reports them', () => {
    const box = memoryOutbox({ maxEvents: 3 });
    const first = [rec(), rec(), rec()];
    expect(box.append(first)).toEqual({ evicted: [] });
    const r4 = rec();
    const r5 = rec();
    const result = box.append([r4, r5]);
    expect(idsOf(result?.evicted ?? [])).toEqual([first[0]?.id, first[1]?.id]);
    expect(box.stats()).toMatchObject({ queued: 3, leased: 0, bytes: 30 });
  });

  it('drops by bytes too', () => {
    const box = memoryOutbox({ maxBytes: 25 });
    const result = box.append([rec('1', 10), rec('1', 10), rec('1', 10)]);
    expect(result?.evicted).toHaveLength(1);
    expect(box.stats().bytes).toBe(20);
  });

  it('drops a record bigger than maxBytes on its own, not the queue before it', () => {
    // Drop-oldest let the whole waiting queue go to make room for it, then dropped it as well.
    const box = memoryOutbox({ maxBytes: 100 });
    const waiting = [rec('1', 10), rec('1', 10), rec('1', 10)];
    box.append(waiting);
    const big = rec('1', 150);
    expect(idsOf(box.append([big])?.evicted ?? [])).toEqual([big.id]);
    expect(box.stats()).toMatchObject({ queued: 3, bytes: 30 });
    expect(idsOf(box.claim(10, 1000, { now: 0 }))).toEqual(idsOf(waiting));
  });

  it('never evicts leased (in-flight) records; evicts the newest when nothing older may go', () => {
    const box = memoryOutbox({ maxEvents: 2 });
    const [a, b] = [rec(), rec()];
    box.append([a as OutboxRecord, b as OutboxRecord]);
    box.claim(2, 1000, { now: 0 });
    const c = rec();
    expect(idsOf(box.append([c])?.evicted ?? [])).toEqual([c.id]);
    expect(box.stats()).toMatchObject({ queued: 0, leased: 2 });
  });

  it('nack counts an attempt and delays; release does not count', () => {
    const box = memoryOutbox();
    const [a, b] = [rec(), rec()];
    box.append([a as OutboxRecord, b as OutboxRecord]);
    box.claim(2, 1000, { now: 0 });
    box.nack([a?.id as string], 500, 'HTTP 503');
    box.release([b?.id as string], 100);
    expect(box.claim(5, 1000, { now: 99 })).toEqual([]);
    const atB = box.claim(5, 1000, { now: 100 }) as OutboxRecord[];
    expect(atB.map((r) => [r.id, r.attempts])).toEqual([[b?.id, 0]]);
    const atA = box.claim(5, 1000, { now: 500 }) as OutboxRecord[];
    expect(atA.map((r) => [r.id, r.attempts, r.lastError])).toEqual([[a?.id, 1, 'HTTP 503']]);
  });

  it('returned records keep their age: they are claimed and evicted before newer ones', () => {
    const box = memoryOutbox({ maxEvents: 3 });
    const [a, b] = [rec(), rec()];
    box.append([a as OutboxRecord, b as OutboxRecord]);
    box.claim(1, 1000, { now: 0 }); // a leased
    const c = rec();
    box.append([c]);
    box.release([a?.id as string], 0);
    expect(idsOf(box.claim(3, 1000, { now: 0 }) as OutboxRecord[])).toEqual([a?.id, b?.id, c.id]);
    box.release([c.id, a?.id as string, b?.id as string], 0);
    const d = rec();
    expect(idsOf(box.append([d])?.evicted ?? [])).toEqual([a?.id]);
  });

  it('ack and deadLetter remove; unknown ids are ignored', () => {
    const box = memoryOutbox();
    const [a, b] = [rec(), rec()];
    box.append([a as OutboxRecord, b as OutboxRecord]);
    box.claim(2, 1000, { now: 0 });
    box.ack([a?.id as string, 'nope']);
    box.deadLetter([b?.id as string], 'bad');
    expect(box.stats()).toMatchObject({ queued: 0, leased: 0, bytes: 0, deadLettered: 1 });
  });

  it('expired leases become claimable again', () => {
    const box = memoryOutbox();
    const a = rec();
    box.append([a]);
    box.claim(1, 100, { now: 0 });
    expect(box.claim(1, 100, { now: 50 })).toEqual([]);
    expect(idsOf(box.claim(1, 100, { now: 100 }) as OutboxRecord[])).toEqual([a.id]);
  });

  it('claim({ all }) sweeps everything, delayed and leased', () => {
    const box = memoryOutbox();
    const [a, b, c] = [rec(), rec(), rec()];
    box.append([a as OutboxRecord, b as OutboxRecord, c as OutboxRecord]);
    box.claim(1, 1000, { now: 0 });
    box.claim(1, 1000, { now: 0 });
    box.nack([b?.id as string], 10_000);
    expect(box.claim(100, 1000, { all: true, now: 0 })).toHaveLength(3);
  });

  it('reports per-pixel stats with the oldest enqueuedAt', () => {
    const box = memoryOutbox();
    const a = rec('7');
    box.append([a, rec('8'), rec('7')]);
    const stats = box.stats();
    expect(stats.pixels['7']).toMatchObject({ queued: 2, oldestEnqueuedAt: a.enqueuedAt });
    expect(stats.queued).toBe(3);
  });

  it('stays O(1) per append under sustained overflow', () => {
    // Counted, not timed (a timed bound failed on a loaded CI machine): the elements every array
    // method that walks or copies an array saw while the appends ran. Evicting the oldest by
    // `shift()`, `splice(0, 1)` or `slice(1)` on a 10,000-long queue would read ~10,000 per
    // append; the queue's head index and its occasional compaction read about one.
    const box = memoryOutbox({ maxEvents: 10_000 });
    const methods = [
      'shift',
      'unshift',
      'splice',
      'slice',
      'filter',
      'indexOf',
      'findIndex',
      'concat',
    ] as const;
    const saved = methods.map((name) => [name, Array.prototype[name]] as const);
    let touched = 0;
    for (const [name, original] of saved) {
      // biome-ignore lint/suspicious/noExplicitAny: a counting wrapper around each method
      (Array.prototype as any)[name] = function (this: unknown[], ...args: unknown[]) {
        touched += this.length;
        return (original as (...a: unknown[]) => unknown).apply(this, args);
      };
    }
    try {
      for (let i = 0; i < 100_000; i++) box.append([rec('1', 10)]);
    } finally {
      // biome-ignore lint/suspicious/noExplicitAny: restoring the originals
      for (const [name, original] of saved) (Array.prototype as any)[name] = original;
    }
    expect(box.stats().queued).toBe(10_000);
    expect(touched / 100_000).toBeLessThan(4);
  });

  it('rejects nonsense bounds', () => {
    expect(() => memoryOutbox({ maxEvents: 0 })).toThrow(RangeError);
  });
});
