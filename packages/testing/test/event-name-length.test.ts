import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type MockGraph, startMockGraph } from '../src/index.js';
import { PIXEL, post, validEvent } from './fixtures.js';
import { PIXEL_CODE, postTikTok, tiktokBody, validTikTokEvent } from './tiktok-fixtures.js';

// Anyone who reaches the mock can send an event name (a web page can post to /tr): a megabyte one
// must be refused whole, and nothing the mock keeps or shows may carry it.

let mock: MockGraph;
beforeAll(async () => {
  mock = await startMockGraph();
});
beforeEach(() => mock.reset());
afterAll(() => mock.close());

const HUGE = 'A'.repeat(1_000_000);
const LONGEST = 'B'.repeat(100);

/** Every event name the mock keeps or shows, Meta's and TikTok's. */
const keptNames = (): string[] => [
  ...mock.eventsManager().eventNames,
  ...mock.eventsManager().rows.map((row) => row.eventName),
  ...mock.requests().flatMap((r) => r.eventNames),
  ...mock.rejections().flatMap((r) => r.eventNames),
  ...mock.tiktok.requests().flatMap((r) => r.eventNames),
  ...mock.tiktok.rejectedEvents().map((e) => String(e.event.event)),
];

describe('event names longer than 100 characters', () => {
  it('are refused by the Graph events edge, naming the field and the limit, not the name', async () => {
    const res = await post(mock, { data: [validEvent({ event_name: HUGE })] });
    expect(res.status).toBe(400);
    expect(res.json.error).toMatchObject({ code: 100, error_subcode: 2804019 });
    expect(res.json.error.error_user_msg).toContain("$['data'][0]['event_name']");
    expect(res.json.error.error_user_msg).toContain('100 characters');
    expect(res.text.length).toBeLessThan(2000);
    expect(mock.events()).toEqual([]);
    expect(mock.rejections()[0]?.invalidEvent).toMatchObject({ index: 0, field: 'event_name' });
    for (const name of keptNames()) expect(name.length).toBeLessThanOrEqual(101);
    // The refused event's row keeps the name's start, clipped.
    expect(mock.eventsManager().rows[0]?.eventName).toBe(`${'A'.repeat(100)}…`);

    const ok = await post(mock, { data: [validEvent({ event_name: LONGEST })] });
    expect(ok.status).toBe(200);
    expect(mock.events()[0]?.event.event_name).toBe(LONGEST);
  });

  it('are refused by the Pixel stub (/tr), which keeps nothing of them', async () => {
    const res = await fetch(`${mock.url}/tr`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: JSON.stringify({ v: 1, id: PIXEL, m: 'trackCustom', ev: 'C'.repeat(60_000), cd: {} }),
    });
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('100 characters');
    expect(mock.browserEvents()).toEqual([]);
    expect(mock.eventsManager().eventNames).toEqual([]);
  });

  it('are refused by TikTok’s endpoint and its Pixel stub', async () => {
    const res = await postTikTok(mock, tiktokBody([validTikTokEvent({ event: HUGE })]));
    expect(res.status).toBe(200); // TikTok answers its errors with 200 and a code
    expect(res.json.code).not.toBe(0);
    expect(res.json.message).toContain('100 characters');
    expect(res.text.length).toBeLessThan(2000);
    expect(mock.tiktok.events()).toEqual([]);
    for (const name of keptNames()) expect(name.length).toBeLessThanOrEqual(101);

    const beacon = await fetch(`${mock.url}/tiktok/pixel`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: JSON.stringify({ v: 1, code: PIXEL_CODE, m: 'track', ev: 'D'.repeat(60_000) }),
    });
    expect(beacon.status).toBe(400);
    expect(mock.tiktok.browserEvents()).toEqual([]);
    expect(mock.eventsManager().eventNames.every((n) => n.length <= 101)).toBe(true);
  });
});
