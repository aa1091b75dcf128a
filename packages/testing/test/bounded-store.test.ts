import { afterEach, describe, expect, it } from 'vitest';
import { BoundedLog } from '../src/bounded-log.js';
import { type MockGraph, startMockGraph } from '../src/index.js';
import { PIXEL, post, validEvent } from './fixtures.js';

// A dev server left running keeps the newest `maxEvents` of each kind of record, not every event it
// ever received, and says how many it let go: nothing leaves without a count.

let mock: MockGraph | undefined;
afterEach(() => mock?.close());

describe('maxEvents', () => {
  it('keeps the newest events, counts the ones let go, and shows them on the page and over HTTP', async () => {
    mock = await startMockGraph({ maxEvents: 3 });
    const ids = ['a', 'b', 'c', 'd', 'e'];
    const sent = ids.map((id) => validEvent({ event_id: id }));
    expect((await post(mock, { data: sent.slice(0, 2) })).status).toBe(200);
    expect((await post(mock, { data: sent.slice(2) })).status).toBe(200);
    mock.rejectEvents(() => true);
    expect((await post(mock, { data: [validEvent(), validEvent()] })).status).toBe(400);
    expect((await post(mock, { data: [validEvent(), validEvent()] })).status).toBe(400);

    expect(mock.events().map((e) => e.event.event_id)).toEqual(['c', 'd', 'e']);
    expect(mock.uniqueEventIds()).toEqual(['c', 'd', 'e']);
    expect(mock.requests().map((r) => r.index)).toEqual([1, 2, 3]);
    const stats = mock.stats();
    expect(stats).toEqual({
      maxEvents: 3,
      kept: { events: 3, browserEvents: 0, rejectedEvents: 3, requests: 3 },
      evicted: { events: 2, browserEvents: 0, rejectedEvents: 1, requests: 1 },
      tiktok: {
        kept: { events: 0, browserEvents: 0, rejectedEvents: 0, requests: 0 },
        evicted: { events: 0, browserEvents: 0, rejectedEvents: 0, requests: 0 },
      },
    });
    expect(mock.eventsManager()).toMatchObject({ maxEvents: 3, evicted: 3 });
    expect(await (await fetch(`${mock.url}/_mock/stats`)).json()).toEqual(stats);

    // An explicit clear forgets the count with the records.
    mock.clearEvents();
    expect(mock.stats().evicted).toEqual({
      events: 0,
      browserEvents: 0,
      rejectedEvents: 0,
      requests: 0,
    });
    expect(mock.eventsManager().evicted).toBe(0);
  });

  it('defaults to 100 000 and refuses a cap that is not a whole number ≥ 1, before listening', async () => {
    mock = await startMockGraph();
    expect(mock.stats().maxEvents).toBe(100_000);
    for (const maxEvents of [0, -1, 1.5, Number.NaN, '10' as unknown as number]) {
      await expect(startMockGraph({ maxEvents })).rejects.toThrow(TypeError);
    }
    expect((await post(mock, { data: [validEvent()] }, { pixelId: PIXEL })).status).toBe(200);
  });
});

describe('BoundedLog', () => {
  it('keeps the newest max items in order, whatever the batch sizes', () => {
    const log = new BoundedLog<number>(100);
    let next = 0;
    for (let round = 0; round < 500; round++) {
      const batch = Array.from({ length: round % 7 === 0 ? 250 : round % 5 }, () => next++);
      log.push(...batch);
      const expected = Array.from(
        { length: Math.min(next, 100) },
        (_, i) => next - Math.min(next, 100) + i,
      );
      expect(log.values()).toEqual(expected);
      expect([...log]).toEqual(expected);
      expect(log.size + log.evicted).toBe(next);
    }
    log.clear();
    expect([log.size, log.evicted, log.values()]).toEqual([0, 0, []]);
  });
});
