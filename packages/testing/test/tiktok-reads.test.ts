import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  type EventsManagerView,
  type MockGraph,
  type MockTikTokRequest,
  startMockGraph,
} from '../src/index.js';
import { PIXEL, post, sha256, validEvent } from './fixtures.js';
import { PIXEL_CODE, postTikTok, tiktokBody, validTikTokEvent } from './tiktok-fixtures.js';

let mock: MockGraph;
let logged: MockTikTokRequest[];
beforeEach(async () => {
  logged = [];
  mock = await startMockGraph({ onTikTokRequest: (r) => logged.push(r) });
});
afterEach(() => mock.close());

const control = async (method: string, path: string, body?: unknown) => {
  const res = await fetch(`${mock.url}/_mock/${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, json: await res.json() };
};

describe('reading what TikTok received', () => {
  it('serves the endpoint from the same server as Meta, at TikTok path', () => {
    expect(mock.tiktok.url).toBe(`${mock.url}/open_api/v1.3/event/track/`);
  });

  it('filters events by pixel code and event name, and finds duplicates', async () => {
    await postTikTok(mock, tiktokBody([validTikTokEvent({ event_id: 'a' })]));
    await postTikTok(mock, tiktokBody([validTikTokEvent({ event_id: 'a' })]));
    await postTikTok(
      mock,
      tiktokBody([validTikTokEvent({ event: 'SubmitForm', event_id: 'b' })], {
        event_source_id: 'C4OTHER',
      }),
    );
    expect(mock.tiktok.events()).toHaveLength(3);
    expect(mock.tiktok.events({ pixelCode: 'C4OTHER' }).map((e) => e.event.event)).toEqual([
      'SubmitForm',
    ]);
    expect(mock.tiktok.events({ event: 'Purchase' })).toHaveLength(2);
    expect(mock.tiktok.duplicates()).toEqual([
      { pixelCode: PIXEL_CODE, event: 'Purchase', event_id: 'a', count: 2 },
    ]);
  });

  it('logs every request, marked platform tiktok, once finished', async () => {
    await postTikTok(
      mock,
      tiktokBody([validTikTokEvent(), validTikTokEvent({ event: 'AddToCart' })]),
    );
    await postTikTok(mock, tiktokBody([{ event: 'Purchase' }]));
    await expect.poll(() => logged.length).toBe(2);
    expect(logged[0]).toMatchObject({
      platform: 'tiktok',
      index: 0,
      method: 'POST',
      path: '/open_api/v1.3/event/track/',
      pixelCode: PIXEL_CODE,
      status: 200,
      code: 0,
      eventCount: 2,
      eventNames: ['Purchase', 'AddToCart'],
      hasAccessToken: true,
      tokenInUrl: false,
      tokenInBody: false,
      clientAborted: false,
    });
    expect(logged[0]?.responseBody).toBeUndefined();
    expect(logged[1]).toMatchObject({ index: 1, code: 40002 });
    expect(mock.tiktok.requests()).toEqual(logged);
    expect(mock.tiktok.rejections()).toEqual([logged[1]]);
    expect(mock.requests()).toEqual([]); // Meta's log stays Meta's
  });

  it('waitForEvents resolves when enough arrived and explains a timeout', async () => {
    const waiting = mock.tiktok.waitForEvents(2, { event: 'Purchase' });
    await postTikTok(mock, tiktokBody([validTikTokEvent(), validTikTokEvent()]));
    expect(await waiting).toHaveLength(2);
    mock.tiktok.failNext('throttle');
    await postTikTok(mock);
    await expect(mock.tiktok.waitForEvents(3, { timeoutMs: 50 })).rejects.toThrow(
      /expected at least 3 accepted TikTok event\(s\) within 50 ms, got 2 \(2 request\(s\), 1 rejected; last rejection: HTTP 200 \(fault tiktok\) code 40100/,
    );
  });

  it('close() rejects a pending wait', async () => {
    const waiting = mock.tiktok.waitForEvents(1, { timeoutMs: 5000 });
    await mock.close();
    await expect(waiting).rejects.toThrow(/closed before enough events arrived/);
    await expect(mock.tiktok.waitForEvents(1)).rejects.toThrow(/closed/);
  });

  it("tiktok.reset() forgets TikTok's events only; the server's reset and clearEvents forget both", async () => {
    await post(mock, { data: [validEvent()] });
    await postTikTok(mock);
    mock.tiktok.reset();
    expect(mock.tiktok.events()).toEqual([]);
    expect(mock.tiktok.requests()).toEqual([]);
    expect(mock.events()).toHaveLength(1);
    await postTikTok(mock);
    expect(mock.tiktok.requests()[0]?.index).toBe(0);
    mock.clearEvents();
    expect(mock.tiktok.events()).toEqual([]);
    expect(mock.events()).toEqual([]);
    await postTikTok(mock);
    mock.reset();
    expect(mock.tiktok.events()).toEqual([]);
  });

  it('has control routes under /_mock/tiktok/ for a mock in another process', async () => {
    expect((await control('POST', 'tiktok/faults', { fault: 'throttle', times: 2 })).json).toEqual({
      ok: true,
      pending: 2,
    });
    expect((await postTikTok(mock)).json.code).toBe(40100);
    expect((await postTikTok(mock)).json.code).toBe(40100);
    expect((await postTikTok(mock)).json.code).toBe(0);
    expect((await control('GET', 'tiktok/events')).json).toHaveLength(1);
    expect((await control('GET', 'tiktok/requests')).json).toHaveLength(3);
    expect((await control('GET', 'tiktok/rejections')).json).toHaveLength(2);
    await control('POST', 'tiktok/outage', { fault: 503 });
    expect((await postTikTok(mock)).status).toBe(503);
    await control('DELETE', 'tiktok/outage');
    expect((await postTikTok(mock)).json.code).toBe(0);
    expect((await control('POST', 'tiktok/faults', { fault: 'nonsense' })).status).toBe(400);
    await control('POST', 'tiktok/reset');
    expect(mock.tiktok.requests()).toEqual([]);
  });
});

describe('TikTok events on the Events Manager page', () => {
  const view = async (query = ''): Promise<EventsManagerView> =>
    (await (await fetch(`${mock.url}/_mock/events-manager${query}`)).json()) as EventsManagerView;

  it('shows them as server copies marked TikTok, apart from Meta copies with the same event_id', async () => {
    await post(mock, { data: [validEvent({ event_id: 'order-1' })] });
    await postTikTok(
      mock,
      tiktokBody([validTikTokEvent({ event_id: 'order-1' })], { test_event_code: 'T1' }),
    );
    const v = await view();
    expect(v.rows).toHaveLength(2);
    const tiktok = v.rows.find((r) => r.platform === 'tiktok');
    const meta = v.rows.find((r) => r.pixelId === PIXEL);
    expect(meta?.platform).toBeUndefined();
    expect(meta?.copies[0]?.platform).toBeUndefined();
    expect(tiktok).toMatchObject({
      pixelId: PIXEL_CODE,
      eventName: 'Purchase',
      eventId: 'order-1',
      dedup: 'server-only',
    });
    expect(tiktok?.copies[0]).toMatchObject({
      source: 'server',
      platform: 'tiktok',
      actionSource: 'web',
      matchQuality: 0,
      testEventCode: 'T1',
      validation: { ok: true, warnings: [] },
    });
    expect(tiktok?.copies[0]?.customData).toContain('value=9.5 currency=EUR');
    expect(tiktok?.copies[0]?.matchKeys).toEqual([
      { key: 'email', hashPrefix: sha256('jane@example.com').slice(0, 8) },
      { key: 'phone', hashPrefix: sha256('+16505551212').slice(0, 8) },
      { key: 'external_id', hashPrefix: sha256('customer-42').slice(0, 8) },
      { key: 'ttclid' },
      { key: 'ttp' },
      { key: 'ip' },
      { key: 'user_agent' },
    ]);
    const summary = v.summaries.find((s) => s.platform === 'tiktok');
    expect(summary).toMatchObject({ pixelId: PIXEL_CODE, server: 1, matchQuality: null });
    expect(v.summaries.find((s) => s.pixelId === PIXEL)?.matchQuality).toEqual(expect.any(Number));
    expect(v.pixels).toEqual([PIXEL, PIXEL_CODE].sort());
    expect((await view(`?pixelId=${PIXEL_CODE}`)).rows.map((r) => r.platform)).toEqual(['tiktok']);
    // Never a value: the page's JSON has hash prefixes, not hashes nor the raw ttclid or IP.
    const text = JSON.stringify(v);
    expect(text).not.toContain(sha256('jane@example.com'));
    expect(text).not.toContain('E.C.P.abc123');
    expect(text).not.toContain('203.0.113.7');
  });

  it('shows a refused TikTok batch with the rule, and moves the live stream', async () => {
    const stream = await fetch(`${mock.url}/_mock/stream`);
    const reader = stream.body?.getReader();
    const first = new TextDecoder().decode((await reader?.read())?.value);
    expect(first).toContain('data: 0');
    await postTikTok(
      mock,
      tiktokBody([validTikTokEvent({ event_id: 'bad', properties: { currency: 'eur' } })]),
    );
    const next = new TextDecoder().decode((await reader?.read())?.value);
    expect(next).toMatch(/data: [1-9]/);
    await reader?.cancel();
    const [row] = (await view()).rows;
    expect(row).toMatchObject({ platform: 'tiktok', dedup: 'rejected', eventId: 'bad' });
    expect(row?.copies[0]?.validation).toMatchObject({
      ok: false,
      field: 'properties.currency',
      reason: 'must be uppercase (ISO 4217)',
      isInvalidOne: true,
    });
  });

  it("labels TikTok's rows on the page", async () => {
    const html = await (await fetch(`${mock.url}/`, { headers: { accept: 'text/html' } })).text();
    expect(html).toContain("'TikTok pixel '");
    expect(html).toContain('server (TikTok Events API)');
  });
});
