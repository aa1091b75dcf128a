import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type EventsManagerView, type MockGraph, startMockGraph } from '../src/index.js';
import { PIXEL, post, validEvent } from './fixtures.js';
import { PIXEL_CODE, postTikTok, tiktokBody, validTikTokEvent } from './tiktok-fixtures.js';

let mock: MockGraph;
beforeEach(async () => {
  mock = await startMockGraph();
});
afterEach(() => mock.close());

/** What the TikTok Pixel stub posts for `ttq.track(event, properties, { event_id })`. */
const beacon = (fields: Record<string, unknown>, init: RequestInit = {}) =>
  fetch(`${mock.url}/tiktok/pixel`, {
    method: 'POST',
    headers: { 'content-type': 'text/plain', 'user-agent': 'Mozilla/5.0 test' },
    body: JSON.stringify({
      v: 1,
      code: PIXEL_CODE,
      m: 'track',
      ev: 'CompletePayment',
      url: 'https://shop.example.com/checkout',
      ts: Date.now() - 1000,
      p: { value: 9.5, currency: 'EUR' },
      user: [],
      ttp: false,
      ttclid: false,
      ...fields,
    }),
    ...init,
  });

const view = async (): Promise<EventsManagerView> =>
  (await (await fetch(`${mock.url}/_mock/events-manager`)).json()) as EventsManagerView;

describe('the TikTok Pixel stub', () => {
  it("is served at TikTok's path on the mock's host, to any origin, whatever the base code's query", async () => {
    expect(mock.tiktok.pixelScriptUrl).toBe(`${mock.url}/i18n/pixel/events.js`);
    const res = await fetch(`${mock.tiktok.pixelScriptUrl}?sdkid=${PIXEL_CODE}&lib=ttq`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    const source = await res.text();
    expect(source).toContain("new URL('/tiktok/pixel', me || location.href)");
    expect(source).toContain('TiktokAnalyticsObject');
    expect(() => new Function(source)).not.toThrow(); // it parses
    const post = await fetch(mock.tiktok.pixelScriptUrl, { method: 'POST' });
    expect(post.status).toBe(405);
    // HTTP requires a 405 to say what the resource takes (RFC 9110 §15.5.6).
    expect(post.headers.get('allow')).toBe('GET, HEAD');
  });

  it('records a beacon as a TikTok browser event: key names in Events API terms, never a value', async () => {
    const res = await beacon({
      eid: 'order-1',
      user: ['email', 'phone_number', 'external_id', 'sha256_email', 'password', 42],
      ttp: true,
      ttclid: true,
    });
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    const [event] = mock.tiktok.browserEvents();
    expect(event).toEqual({
      platform: 'tiktok',
      source: 'browser',
      pixelCode: PIXEL_CODE,
      event: 'CompletePayment',
      event_id: 'order-1',
      method: 'track',
      properties: { value: 9.5, currency: 'EUR' },
      page_url: 'https://shop.example.com/checkout',
      event_time: expect.any(Number),
      // identify's phone_number is the Events API's `phone`; an unknown key is dropped.
      matchKeys: ['email', 'phone', 'external_id', 'ttclid', 'ttp', 'ip', 'user_agent'],
      receivedAt: expect.any(Number),
    });
    expect(Math.abs((event?.event_time ?? 0) - Date.now() / 1000)).toBeLessThan(5);
    // Read over HTTP like the rest of the TikTok mock; Meta's browser events stay Meta's.
    const overHttp = await (await fetch(`${mock.url}/_mock/tiktok/browser-events`)).json();
    expect(overHttp).toEqual(mock.tiktok.browserEvents());
    expect(mock.browserEvents()).toEqual([]);
    expect(mock.tiktok.requests()).toEqual([]); // the Events API's log stays the Events API's
  });

  it('filters by pixel code and event name, and records page() as Pageview without event_id', async () => {
    await beacon({ m: 'page', ev: 'Pageview', p: {} });
    await beacon({ code: 'C4OTHERPIXEL', ev: 'ViewContent', eid: 'v-1' });
    await beacon({ eid: '' });
    expect(mock.tiktok.browserEvents().map((e) => [e.method, e.event, e.event_id])).toEqual([
      ['page', 'Pageview', undefined],
      ['track', 'ViewContent', 'v-1'],
      ['track', 'CompletePayment', undefined],
    ]);
    expect(mock.tiktok.browserEvents({ pixelCode: 'C4OTHERPIXEL' })).toHaveLength(1);
    expect(mock.tiktok.browserEvents({ event: 'CompletePayment' })).toHaveLength(1);
    expect(mock.tiktok.browserEvents({ pixelCode: PIXEL_CODE, event: 'ViewContent' })).toEqual([]);
  });

  it('refuses what the stub would not send, and records nothing of it', async () => {
    const text = async (res: Promise<Response>) => {
      const r = await res;
      return [r.status, await r.text()];
    };
    expect(await text(fetch(`${mock.url}/tiktok/pixel`, { method: 'POST', body: '{' }))).toEqual([
      400,
      'Not a TikTok Pixel stub event: the body is not JSON.',
    ]);
    expect(await text(beacon({ code: 'not a code!' }))).toEqual([
      400,
      'Not a TikTok Pixel stub event: code must be a TikTok pixel code (letters and digits).',
    ]);
    expect((await beacon({ ev: '' })).status).toBe(400);
    expect((await beacon({ eid: 7 })).status).toBe(400);
    const get = await fetch(`${mock.url}/tiktok/pixel`);
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST, OPTIONS');
    const preflight = await fetch(`${mock.url}/tiktok/pixel`, { method: 'OPTIONS' });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-methods')).toBe('POST');
    // Bounded like Meta's /tr: 64 KiB.
    const big = await beacon({ p: { note: 'x'.repeat(70 * 1024) } });
    expect(big.status).toBe(413);
    expect(mock.tiktok.browserEvents()).toEqual([]);
  });

  it('is forgotten by tiktok.reset(), reset() and the page’s Clear; Meta’s reset keeps nothing either', async () => {
    await beacon({ eid: 'a' });
    mock.tiktok.reset();
    expect(mock.tiktok.browserEvents()).toEqual([]);
    await beacon({ eid: 'b' });
    expect((await fetch(`${mock.url}/_mock/events`, { method: 'DELETE' })).status).toBe(200);
    expect(mock.tiktok.browserEvents()).toEqual([]);
    await beacon({ eid: 'c' });
    await fetch(`${mock.url}/_mock/tiktok/reset`, { method: 'POST' });
    expect(mock.tiktok.browserEvents()).toEqual([]);
    await beacon({ eid: 'd' });
    mock.reset();
    expect(mock.tiktok.browserEvents()).toEqual([]);
  });
});

describe('TikTok browser and server copies on the Events Manager page', () => {
  it('pairs the Pixel copy with the Events API copy of the same pixel code, event and event_id', async () => {
    await beacon({ eid: 'X' });
    const server = await postTikTok(
      mock,
      tiktokBody([validTikTokEvent({ event: 'CompletePayment', event_id: 'X' })]),
    );
    expect(server.json).toMatchObject({ code: 0 });
    const { rows, summaries } = await view();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      platform: 'tiktok',
      pixelId: PIXEL_CODE,
      eventName: 'CompletePayment',
      eventId: 'X',
      dedup: 'deduplicated',
    });
    expect(rows[0]?.copies.map((c) => [c.platform, c.source]).sort()).toEqual([
      ['tiktok', 'browser'],
      ['tiktok', 'server'],
    ]);
    const browser = rows[0]?.copies.find((c) => c.source === 'browser');
    expect(browser).toMatchObject({
      actionSource: 'web',
      matchQuality: 0,
      customData: 'value=9.5 currency=EUR',
      validation: { ok: true, warnings: [] },
    });
    expect(summaries).toEqual([
      expect.objectContaining({
        platform: 'tiktok',
        pixelId: PIXEL_CODE,
        eventName: 'CompletePayment',
        server: 1,
        browser: 1,
        deduplicated: 1,
        dedupCoverage: 100,
        matchQuality: null,
      }),
    ]);
  });

  it('never pairs across platforms, nor across event names or pixel codes', async () => {
    // A Meta Pixel event and a Meta server event under TikTok's pixel code, name and id.
    await fetch(`${mock.url}/tr`, {
      method: 'POST',
      body: JSON.stringify({ v: 1, id: PIXEL, ev: 'CompletePayment', eid: 'X', ts: Date.now() }),
    });
    await post(mock, { data: [validEvent({ event_name: 'CompletePayment', event_id: 'X' })] });
    await beacon({ eid: 'X' });
    await beacon({ eid: 'X', ev: 'Purchase' });
    await beacon({ eid: 'X', code: 'C4OTHERPIXEL' });
    await postTikTok(
      mock,
      tiktokBody([validTikTokEvent({ event: 'CompletePayment', event_id: 'Y' })]),
    );
    const { rows } = await view();
    const shape = rows
      .map((r) => [r.platform ?? 'meta', r.pixelId, r.eventName, r.eventId, r.dedup].join(' '))
      .sort();
    expect(shape).toEqual([
      `meta ${PIXEL} CompletePayment X deduplicated`,
      'tiktok C4ABCDEFGHIJ12345678 CompletePayment X browser-only',
      'tiktok C4ABCDEFGHIJ12345678 CompletePayment Y server-only',
      'tiktok C4ABCDEFGHIJ12345678 Purchase X browser-only',
      'tiktok C4OTHERPIXEL CompletePayment X browser-only',
    ]);
    const tiktokX = rows.find(
      (r) =>
        r.platform === 'tiktok' &&
        r.pixelId === PIXEL_CODE &&
        r.eventId === 'X' &&
        r.eventName === 'CompletePayment',
    );
    expect(tiktokX?.flag).toBe(
      'no server copy with this event_id, though the server sends CompletePayment too',
    );
  });

  it('flags a TikTok Pixel event without event_id, naming TikTok, when the server sends that event too', async () => {
    await beacon({});
    await postTikTok(mock, tiktokBody([validTikTokEvent({ event: 'CompletePayment' })]));
    const noId = (await view()).rows.find((r) => r.eventId === null);
    expect(noId).toMatchObject({ platform: 'tiktok', dedup: 'browser-only' });
    expect(noId?.flag).toBe(
      'no event_id: TikTok cannot pair this browser event with its server copy',
    );
    expect(noId?.copies[0]?.validation).toEqual({
      ok: true,
      warnings: ['no event_id: TikTok cannot deduplicate it'],
    });
  });

  it('moves the page’s version when a TikTok Pixel event arrives', async () => {
    const before = (await view()).version;
    await beacon({ eid: 'v' });
    expect((await view()).version).toBeGreaterThan(before);
  });
});
