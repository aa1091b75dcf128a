import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { EVENTS_MANAGER_HTML } from '../src/events-manager-page.js';
import { type EventsManagerView, type MockGraph, startMockGraph } from '../src/index.js';
import { nowSeconds, PIXEL, post, sha256, validEvent } from './fixtures.js';

let mock: MockGraph;
beforeEach(async () => {
  mock = await startMockGraph();
});
afterEach(() => mock.close());

/** What the Pixel stub posts for `fbq('track', name, data, { eventID })`. */
const beacon = (fields: Record<string, unknown>, headers: Record<string, string> = {}) =>
  fetch(`${mock.url}/tr`, {
    method: 'POST',
    headers: { 'content-type': 'text/plain', 'user-agent': 'Mozilla/5.0 test', ...headers },
    body: JSON.stringify({
      v: 1,
      id: PIXEL,
      m: 'track',
      ev: 'PageView',
      dl: 'https://shop.example.com/',
      ts: Date.now() - 1000,
      cd: {},
      ud: [],
      fbp: true,
      fbc: false,
      ...fields,
    }),
  });

const view = async (query = ''): Promise<EventsManagerView> => {
  const res = await fetch(`${mock.url}/_mock/events-manager${query}`);
  expect(res.status).toBe(200);
  return (await res.json()) as EventsManagerView;
};

describe('the Events Manager page', () => {
  it('is served to a browser at / with a strict CSP, small, and sets no HTML from data', async () => {
    const res = await fetch(`${mock.url}/`, { headers: { accept: 'text/html,*/*' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'none'");
    expect(csp).toMatch(/script-src 'sha256-[A-Za-z0-9+/=]+'(;|$)/);
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).toContain("connect-src 'self'");
    const html = await res.text();
    expect(Buffer.byteLength(html)).toBeLessThan(25 * 1024);
    expect(html).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(/);
    // Nothing from another origin: no CDN, no external script or style.
    expect(html).not.toMatch(/(src|href)="https?:/);
    expect(mock.requests()).toEqual([]);
  });

  it('keeps the JSON health check for scripts and curl', async () => {
    const res = await fetch(`${mock.url}/`, { headers: { accept: '*/*' } });
    expect(await res.json()).toEqual({ ok: true, name: 'capi-kit-mock' });
  });
});

describe('the Pixel stub', () => {
  it('serves fbevents.js to any origin and records what it posts to /tr, key names only', async () => {
    const script = await fetch(`${mock.url}/fbevents.js`);
    expect(script.status).toBe(200);
    expect(script.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(script.headers.get('access-control-allow-origin')).toBe('*');
    const source = await script.text();
    expect(source).toContain('f.callMethod = call');
    expect(source).toContain("new URL('/tr', me || location.href)");

    const res = await beacon({
      ev: 'Purchase',
      eid: 'order-1',
      cd: { value: 10, currency: 'EUR' },
      ud: ['em', 'ph', 'not-a-key'],
    });
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect(mock.browserEvents()).toEqual([
      {
        pixelId: PIXEL,
        event_name: 'Purchase',
        event_id: 'order-1',
        method: 'track',
        custom_data: { value: 10, currency: 'EUR' },
        event_source_url: 'https://shop.example.com/',
        event_time: expect.any(Number),
        matchKeys: ['client_ip_address', 'client_user_agent', 'fbp', 'em', 'ph'],
        receivedAt: expect.any(Number),
      },
    ]);
    const overHttp = await (await fetch(`${mock.url}/_mock/browser-events`)).json();
    expect(overHttp).toEqual(mock.browserEvents());
    // Not Graph traffic: requests() stays Graph's.
    expect(mock.requests()).toEqual([]);
  });

  it('refuses what the stub would never send', async () => {
    for (const [fields, reason] of [
      [{ id: 'abc' }, 'id must be a Pixel ID'],
      [{ ev: '' }, 'ev must be an event name'],
      [{ eid: 42 }, 'eid must be a string'],
    ] as const) {
      const res = await beacon(fields);
      expect(res.status).toBe(400);
      expect(await res.text()).toContain(reason);
    }
    const notJson = await fetch(`${mock.url}/tr`, { method: 'POST', body: '{' });
    expect(notJson.status).toBe(400);
    const get = await fetch(`${mock.url}/tr`);
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST, OPTIONS');
    expect(mock.browserEvents()).toEqual([]);
  });

  // The script's path took only GET and HEAD: any other method fell through to Graph, which
  // answered 400 "Unknown path components" and logged it in requests() as Graph traffic.
  it('answers another method on fbevents.js with 405 and Allow, not as a Graph request', async () => {
    for (const method of ['POST', 'PUT', 'DELETE']) {
      const res = await fetch(`${mock.url}/fbevents.js`, { method, body: '' });
      expect(res.status).toBe(405);
      expect(res.headers.get('allow')).toBe('GET, HEAD');
      expect(res.headers.get('access-control-allow-origin')).toBe('*');
      expect(await res.text()).toContain('fetched with GET');
    }
    expect(mock.requests()).toEqual([]);
    expect(mock.browserEvents()).toEqual([]);
  });
});

describe('GET /_mock/events-manager', () => {
  it("averages the match-quality estimate over web copies only, as client.diagnostics() and Meta's EMQ", async () => {
    // A web purchase (5.25) and a store sale with an email (3.0): Meta scores web events only.
    const web = validEvent({ event_id: 'web-1' });
    const store = validEvent({
      event_id: 'store-1',
      action_source: 'physical_store',
      event_source_url: undefined,
      user_data: { em: [sha256('jane@example.com')] },
    });
    expect((await post(mock, { data: [web, store] })).status).toBe(200);
    expect((await view()).summaries.find((s) => s.eventName === 'Purchase')).toMatchObject({
      server: 2,
      matchQuality: 5.3,
    });
    // Only a store sale: no figure at all, as Meta gives none.
    mock.reset();
    expect((await post(mock, { data: [store] })).status).toBe(200);
    expect((await view()).summaries[0]).toMatchObject({ server: 1, matchQuality: null });
  });

  it('groups the browser and server copies of one event_name + event_id into one deduplicated row', async () => {
    const server = validEvent({
      event_name: 'PageView',
      event_id: 'pv-1',
      custom_data: undefined,
      event_time: nowSeconds() - 3,
    });
    expect((await post(mock, { data: [server] })).status).toBe(200);
    expect((await beacon({ eid: 'pv-1' })).status).toBe(204);
    // Same id, other name: Meta's key is the pair, so this is another row, and the newest (rows are
    // ordered by arrival in milliseconds: it must arrive in a later one).
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect((await beacon({ ev: 'ViewContent', eid: 'pv-1' })).status).toBe(204);

    const v = await view();
    expect(v.rows.map((r) => [r.eventName, r.eventId, r.dedup])).toEqual([
      ['ViewContent', 'pv-1', 'browser-only'],
      ['PageView', 'pv-1', 'deduplicated'],
    ]);
    const pair = v.rows[1];
    expect(pair?.copies.map((c) => c.source).sort()).toEqual(['browser', 'server']);
    expect(pair?.flag).toBeUndefined();
    const pageView = v.summaries.find((s) => s.eventName === 'PageView');
    // em 3 + IP and user agent together 1.5 + fbp 0.75 (docs/diagnostics.md), as client.diagnostics().
    expect(pageView).toMatchObject({
      server: 1,
      browser: 1,
      deduplicated: 1,
      dedupCoverage: 100,
      matchQuality: 5.3,
    });
    expect(pair?.copies.find((c) => c.source === 'server')?.matchQuality).toBe(5.25);
    expect(pageView?.freshness.p50Seconds).toBeGreaterThanOrEqual(3);
    expect(pageView?.freshness.buckets.map((b) => b.label)).toEqual([
      '≤ 10 s',
      '≤ 1 min',
      '≤ 10 min',
      '≤ 1 h',
      '≤ 1 day',
      '> 1 day',
    ]);
    expect(pageView?.freshness.buckets.reduce((n, b) => n + b.count, 0)).toBe(1);
    expect(v.pixels).toEqual([PIXEL]);
    expect(v.eventNames).toEqual(['PageView', 'ViewContent']);
  });

  // [DD] (capi.md §6): duplicates are discarded within 48 h of the first event with that id. The
  // page paired copies days apart and told "counted once" where Meta counts the late copy again.
  it('pairs copies only within 48 h of the first one, as Meta deduplicates', async () => {
    const start = Date.now();
    vi.useFakeTimers({ toFake: ['Date'], now: start });
    try {
      const server = () =>
        validEvent({ event_name: 'PageView', event_id: 'pv-late', custom_data: undefined });
      expect((await beacon({ eid: 'pv-late' })).status).toBe(204);
      vi.setSystemTime(start + 3600_000);
      expect((await post(mock, { data: [server()] })).status).toBe(200);
      vi.setSystemTime(start + 49 * 3600_000);
      expect((await post(mock, { data: [server()] })).status).toBe(200);

      const v = await view();
      expect(v.rows.map((r) => [r.eventId, r.dedup, r.copies.length])).toEqual([
        ['pv-late', 'server-only', 1],
        ['pv-late', 'deduplicated', 2],
      ]);
      expect(v.summaries[0]).toMatchObject({ server: 2, browser: 1, deduplicated: 1 });
    } finally {
      vi.useRealTimers();
    }
  });

  // [DD] (capi.md §6): a retried copy (same event_name + event_id, sent again after a lost answer)
  // is discarded as a duplicate. The summary counted it as a second server event received.
  it('counts a retried server copy once and says it was deduplicated', async () => {
    const order = () => validEvent({ event_id: 'order-7', event_time: nowSeconds() - 2 });
    expect((await post(mock, { data: [order()] })).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect((await post(mock, { data: [order()] })).status).toBe(200);
    expect((await post(mock, { data: [validEvent({ event_id: 'order-8' })] })).status).toBe(200);

    const v = await view();
    expect(v.rows.map((r) => [r.eventId, r.dedup, r.copies.length])).toEqual([
      ['order-8', 'server-only', 1],
      ['order-7', 'server-only', 2],
    ]);
    const purchase = v.summaries.find((s) => s.eventName === 'Purchase');
    expect(purchase).toMatchObject({ server: 2, retriesDeduplicated: 1, deduplicated: 0 });
    // The retry is the same event: its later arrival is not a second freshness figure.
    expect(purchase?.freshness.buckets.reduce((n, b) => n + b.count, 0)).toBe(2);
  });

  it('flags a one-sided copy only when the other source sends that event name too', async () => {
    await post(mock, {
      data: [
        validEvent({ event_name: 'PageView', event_id: 'pv-a', custom_data: undefined }),
        validEvent({ event_name: 'PageView', event_id: 'pv-b', custom_data: undefined }),
        validEvent({ event_name: 'Purchase', event_id: 'order-9' }),
      ],
    });
    await beacon({ eid: 'pv-a' });
    await beacon({ eid: undefined });
    const rows = (await view()).rows;
    const byId = (id: string | null) => rows.find((r) => r.eventId === id);
    expect(byId('pv-a')?.dedup).toBe('deduplicated');
    expect(byId('pv-b')).toMatchObject({ dedup: 'server-only' });
    expect(byId('pv-b')?.flag).toContain('no browser copy with this event_id');
    // Nothing sends Purchase from the browser here, so no copy was expected.
    expect(byId('order-9')).toMatchObject({ dedup: 'server-only' });
    expect(byId('order-9')?.flag).toBeUndefined();
    const noId = byId(null);
    expect(noId?.dedup).toBe('browser-only');
    expect(noId?.flag).toContain('no event_id');
    expect(noId?.copies[0]?.validation).toEqual({
      ok: true,
      warnings: ['no eventID: Meta cannot deduplicate it'],
    });
    const summary = (await view()).summaries.find((s) => s.eventName === 'PageView');
    expect(summary).toMatchObject({ server: 2, browser: 2, deduplicated: 1, dedupCoverage: 50 });
  });

  it('shows the events of a refused batch with the rule the invalid one broke', async () => {
    const invalid = validEvent({ event_id: 'bad-1', custom_data: { value: 10 } });
    const res = await post(mock, { data: [validEvent({ event_id: 'ok-1' }), invalid] });
    expect(res.status).toBe(400);
    const rows = (await view()).rows;
    expect(rows.map((r) => [r.eventId, r.dedup])).toEqual(
      expect.arrayContaining([
        ['ok-1', 'rejected'],
        ['bad-1', 'rejected'],
      ]),
    );
    const bad = rows.find((r) => r.eventId === 'bad-1')?.copies[0]?.validation;
    expect(bad).toMatchObject({
      ok: false,
      field: 'custom_data.currency',
      isInvalidOne: true,
      message: expect.stringContaining("$['data'][1]['custom_data']['currency']"),
    });
    const other = rows.find((r) => r.eventId === 'ok-1')?.copies[0]?.validation;
    expect(other).toMatchObject({ ok: false, field: 'custom_data.currency', isInvalidOne: false });
    expect((await view()).summaries).toEqual([
      expect.objectContaining({
        eventName: 'Purchase',
        server: 0,
        rejected: 2,
        matchQuality: null,
      }),
    ]);
    // The existing inspection API is unchanged: nothing accepted, one rejection.
    expect(mock.events()).toEqual([]);
    expect(mock.rejections()).toHaveLength(1);
  });

  it('lists a refused event without an event_name under a label, not as a second "All events"', async () => {
    const nameless = validEvent({ event_id: 'nameless' });
    delete nameless.event_name;
    expect((await post(mock, { data: [nameless] })).status).toBe(400);
    const page = await view('?limit=500');
    // The filter's list starts with '' (all events): an empty name there was a second "All events".
    expect(page.eventNames).toEqual([]);
    expect(page.rows.map((r) => [r.eventId, r.eventName, r.dedup])).toEqual([
      ['nameless', '', 'rejected'],
    ]);
    expect(EVENTS_MANAGER_HTML).toContain("'(no event_name)'");
  });

  it('shows hashed keys as a name and an 8-digit prefix, and never a clear or whole value', async () => {
    const email = 'ada.lovelace@example.com';
    const hashed = sha256(email);
    await post(mock, {
      data: [
        validEvent({
          event_id: 'h-1',
          user_data: { em: [hashed], client_ip_address: '203.0.113.9', client_user_agent: 'UA/1' },
        }),
      ],
    });
    await post(mock, {
      data: [
        validEvent({
          event_id: 'h-2',
          user_data: { em: [email], client_ip_address: '203.0.113.9' },
        }),
      ],
    });
    const v = await view();
    const keys = (id: string) => v.rows.find((r) => r.eventId === id)?.copies[0]?.matchKeys;
    expect(keys('h-1')).toEqual([
      { key: 'em', hashPrefix: hashed.slice(0, 8) },
      { key: 'client_ip_address' },
      { key: 'client_user_agent' },
    ]);
    expect(keys('h-2')).toEqual([{ key: 'em', notHashed: true }, { key: 'client_ip_address' }]);
    const json = JSON.stringify(v);
    for (const secret of [email, hashed, '203.0.113.9', 'UA/1']) expect(json).not.toContain(secret);
  });

  it('filters by pixel, event name and source, like the page', async () => {
    await post(mock, { data: [validEvent({ event_id: 'p-1' })] });
    await post(mock, { data: [validEvent({ event_id: 'p-2' })] }, { pixelId: '999' });
    // Rows are ordered by arrival in milliseconds: the newest must arrive in a later one.
    await new Promise((resolve) => setTimeout(resolve, 5));
    await beacon({ eid: 'v-1', ev: 'ViewContent' });
    expect((await view('?pixelId=999')).rows.map((r) => r.eventId)).toEqual(['p-2']);
    expect((await view('?event_name=ViewContent')).rows.map((r) => r.eventId)).toEqual(['v-1']);
    expect((await view('?source=browser')).rows.map((r) => r.eventId)).toEqual(['v-1']);
    expect((await view('?source=server')).rows.map((r) => r.eventId).sort()).toEqual([
      'p-1',
      'p-2',
    ]);
    expect(mock.eventsManager({ source: 'browser' }).rows).toHaveLength(1);
    const newest = await view('?limit=1');
    expect(newest.rows.map((r) => r.eventId)).toEqual(['v-1']);
    expect(newest.totalRows).toBe(3);
    // Summaries still count every event.
    expect(newest.summaries.reduce((n, s) => n + s.server + s.browser, 0)).toBe(3);
  });

  it('DELETE /_mock/events (the Clear button) forgets events but keeps scripted faults', async () => {
    await post(mock, { data: [validEvent()] });
    await beacon({});
    mock.failNext(503);
    const res = await fetch(`${mock.url}/_mock/events`, { method: 'DELETE' });
    expect(await res.json()).toEqual({ ok: true });
    expect((await view()).rows).toEqual([]);
    expect(mock.events()).toEqual([]);
    expect(mock.browserEvents()).toEqual([]);
    expect(mock.pendingFaults()).toBe(1);
    await beacon({});
    mock.reset();
    expect(mock.browserEvents()).toEqual([]);
  });

  it('GET /_mock/stream announces each change with a new version (Server-Sent Events)', async () => {
    const controller = new AbortController();
    const res = await fetch(`${mock.url}/_mock/stream`, { signal: controller.signal });
    expect(res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    let text = '';
    const nextVersion = async (): Promise<number> => {
      for (;;) {
        const match = /data: (\d+)\n\n/.exec(text);
        if (match) {
          text = text.slice((match.index ?? 0) + match[0].length);
          return Number(match[1]);
        }
        const { value, done } = await reader.read();
        if (done) throw new Error('stream ended');
        text += decoder.decode(value, { stream: true });
      }
    };
    const first = await nextVersion();
    await beacon({});
    const second = await nextVersion();
    expect(second).toBeGreaterThan(first);
    await post(mock, { data: [validEvent()] });
    expect(await nextVersion()).toBeGreaterThan(second);
    expect((await view()).version).toBeGreaterThan(second);
    controller.abort();
  });
});
