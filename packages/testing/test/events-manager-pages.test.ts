import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EVENTS_MANAGER_HTML } from '../src/events-manager-page.js';
import { type EventsManagerView, type MockGraph, startMockGraph } from '../src/index.js';
import { post, validEvent } from './fixtures.js';

// At tens of thousands of events the page must not cost the mock a full rebuild of every event's
// copy at each refresh, nor ship every row: it reads one page of rows at a time.

let mock: MockGraph;
beforeEach(async () => {
  mock = await startMockGraph();
});
afterEach(() => mock.close());

const viewText = async (query: string): Promise<string> => {
  const res = await fetch(`${mock.url}/_mock/events-manager${query}`);
  expect(res.status).toBe(200);
  return res.text();
};

describe('Events Manager pages', () => {
  it('pages through the rows with limit and offset, in the view and over HTTP', async () => {
    for (const id of ['a', 'b', 'c', 'd', 'e']) {
      expect((await post(mock, { data: [validEvent({ event_id: id })] })).status).toBe(200);
    }
    const all = mock.eventsManager().rows.map((row) => row.eventId);
    expect(all).toHaveLength(5);
    const page = mock.eventsManager({ limit: 2, offset: 2 });
    expect(page.rows.map((row) => row.eventId)).toEqual(all.slice(2, 4));
    expect(page.totalRows).toBe(5);
    const last = JSON.parse(await viewText('?limit=2&offset=4')) as EventsManagerView;
    expect(last.rows.map((row) => row.eventId)).toEqual(all.slice(4));
    expect(last.totalRows).toBe(5);
    expect(mock.eventsManager({ offset: 3 }).rows.map((row) => row.eventId)).toEqual(all.slice(3));
  });

  it("builds each event's copy once, not at every refresh", async () => {
    await post(mock, { data: [validEvent({ event_id: 'first' })] });
    const copyOf = (view: EventsManagerView) =>
      view.rows.find((row) => row.eventId === 'first')?.copies[0];
    const before = copyOf(mock.eventsManager());
    await post(mock, { data: [validEvent({ event_id: 'second' })] });
    const after = copyOf(mock.eventsManager());
    expect(after).toBeDefined();
    expect(after).toBe(before);
    // Shared by every view that shows it, so no caller can change what the next one sees.
    expect(Object.isFrozen(after)).toBe(true);
    expect(Object.isFrozen(after?.matchKeys)).toBe(true);
  });

  it('answers the same state and filter from the last answer, and a new state afresh', async () => {
    await post(mock, { data: [validEvent({ event_id: 'one' })] });
    const first = await viewText('?limit=10');
    await sleep(5); // a view computed again would carry a later generatedAt
    expect(await viewText('?limit=10')).toBe(first);
    await post(mock, { data: [validEvent({ event_id: 'two' })] });
    const next = JSON.parse(await viewText('?limit=10')) as EventsManagerView;
    expect(next.rows.map((row) => row.eventId)).toContain('two');
    expect(JSON.parse(await viewText('?limit=1')).rows).toHaveLength(1);
    mock.clearEvents();
    expect(JSON.parse(await viewText('?limit=10')).totalRows).toBe(0);
  });

  it('does not keep an answer with every row (it can be tens of MB): it is computed each time', async () => {
    await post(mock, { data: [validEvent({ event_id: 'one' })] });
    const first = JSON.parse(await viewText('')) as EventsManagerView;
    await sleep(5);
    const again = JSON.parse(await viewText('')) as EventsManagerView;
    expect(again.generatedAt).toBeGreaterThan(first.generatedAt);
    expect(again.rows).toEqual(first.rows);
  });

  it('answers a page with the cards of the 100 event names last received, not one per name ever sent', async () => {
    // Any web page can post to /tr, and trackCustom takes any name: 20 000 names made every
    // refresh of the page 10 MB and 20 000 cards.
    for (let batch = 0; batch < 3; batch++) {
      const data = Array.from({ length: 50 }, (_, i) =>
        validEvent({ event_name: `Custom${batch * 50 + i}`, event_id: `e${batch}-${i}` }),
      );
      expect((await post(mock, { data })).status).toBe(200);
      await sleep(5); // the last batch arrives last
    }
    const page = JSON.parse(await viewText('?limit=500')) as EventsManagerView;
    expect(page.totalSummaries).toBe(150);
    expect(page.summaries).toHaveLength(100);
    const names = page.summaries.map((s) => s.eventName);
    for (let i = 100; i < 150; i++) expect(names).toContain(`Custom${i}`);
    expect([...names].sort()).toEqual(names);
    // A name's card is there when the filter asks for it; the API without a limit has them all.
    const one = JSON.parse(await viewText('?limit=500&event_name=Custom0')) as EventsManagerView;
    expect(one.summaries.map((s) => s.eventName)).toEqual(['Custom0']);
    expect(mock.eventsManager().summaries).toHaveLength(150);
    expect(EVENTS_MANAGER_HTML).toContain('view.totalSummaries');
  });

  it('lists at most 1000 event names in a page, those received last, and the one the filter chose', async () => {
    // The filter's list is the way to every name's card, but 100 000 custom names (any web page
    // can post them to /tr) sent megabytes of names at every refresh and as many <option>s.
    for (let batch = 0; batch < 3; batch++) {
      const data = Array.from({ length: 500 }, (_, i) =>
        validEvent({ event_name: `Name${batch * 500 + i}`, event_id: `n${batch}-${i}` }),
      );
      expect((await post(mock, { data })).status).toBe(200);
      await sleep(5); // the last batches arrive last
    }
    const page = JSON.parse(await viewText('?limit=500')) as EventsManagerView;
    expect(page.totalEventNames).toBe(1500);
    expect(page.eventNames).toHaveLength(1000);
    for (let i = 500; i < 1500; i++) expect(page.eventNames).toContain(`Name${i}`);
    expect([...page.eventNames].sort()).toEqual(page.eventNames);
    const chosen = JSON.parse(await viewText('?limit=500&event_name=Name0')) as EventsManagerView;
    expect(chosen.eventNames).toContain('Name0');
    expect(chosen.eventNames.length).toBeLessThanOrEqual(1001);
    // The API without a limit lists them all.
    expect(mock.eventsManager().eventNames).toHaveLength(1500);
    expect(mock.eventsManager().totalEventNames).toBe(1500);
    expect(EVENTS_MANAGER_HTML).toContain('view.totalEventNames');
  }, 30_000);

  it('rebuilds the view for many open pages at a pace, answering the others their last view', async () => {
    // Ten tabs, each with its own filter, each refreshing after every change: each rebuilt the
    // whole view in turn, so the app's requests waited behind ten rebuilds (seconds at 100 000 events).
    for (let batch = 0; batch < 20; batch++) {
      const data = Array.from({ length: 1000 }, (_, i) =>
        validEvent({ event_id: `p${batch}-${i}` }),
      );
      expect((await post(mock, { data })).status).toBe(200);
    }
    const filters = Array.from({ length: 10 }, (_, i) => `?limit=50&offset=${i * 50}`);
    const before = await Promise.all(filters.map(async (q) => JSON.parse(await viewText(q))));
    expect((await post(mock, { data: [validEvent()] })).status).toBe(200);
    const after = (await Promise.all(
      filters.map(async (q) => JSON.parse(await viewText(q))),
    )) as EventsManagerView[];
    // Not each in turn: a tab asking between two rebuilds gets its last view, whose older version
    // tells the page to ask again (it does, after its own wait), and gets the new state then.
    const fresh = after.filter((view, i) => view.version > before[i].version);
    expect(fresh.length).toBeLessThan(filters.length);
    for (const query of filters) {
      await expect
        .poll(async () => (JSON.parse(await viewText(query)) as EventsManagerView).totalRows, {
          timeout: 10_000,
        })
        .toBe(20_001);
    }
    expect(EVENTS_MANAGER_HTML).toContain('v.version < latest');
  }, 60_000);

  it('the page asks the mock for one page of rows, filtered, with Newer and Older', () => {
    expect(EVENTS_MANAGER_HTML).toContain("'&offset=' + offset");
    expect(EVENTS_MANAGER_HTML).toMatch(/id="newer"[^>]*>Newer</);
    expect(EVENTS_MANAGER_HTML).toMatch(/id="older"[^>]*>Older</);
  });
});
