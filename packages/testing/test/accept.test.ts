import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type MockGraph, startMockGraph } from '../src/index.js';
import { nowSeconds, PIXEL, post, TOKEN, validEvent } from './fixtures.js';

let mock: MockGraph;
beforeEach(async () => {
  mock = await startMockGraph();
});
afterEach(() => mock.close());

describe('accepting events', () => {
  it('listens on loopback and answers a health check', async () => {
    expect(mock.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const res = await fetch(`${mock.url}/`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true, name: 'capi-kit-mock' });
    expect(mock.requests()).toEqual([]);
  });

  it("accepts a valid batch with Meta's success shape and records each event", async () => {
    const events = [validEvent(), validEvent({ event_name: 'PageView', custom_data: undefined })];
    const res = await post(mock, {
      data: events,
      test_event_code: 'TEST123',
      partner_agent: 'capi-kit',
    });
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ events_received: 2, messages: [], fbtrace_id: expect.any(String) });
    expect(res.headers.get('x-fb-trace-id')).toBe(res.json.fbtrace_id);

    const received = mock.events();
    expect(received).toHaveLength(2);
    expect(received.map((e) => e.event.event_name)).toEqual(['Purchase', 'PageView']);
    expect(received[0]).toMatchObject({
      pixelId: PIXEL,
      version: 'v26.0',
      requestIndex: 0,
      testEventCode: 'TEST123',
      event: { event_id: events[0]?.event_id },
    });
    expect(received[0]?.receivedAt).toBeGreaterThan(Date.now() - 5000);

    const [request] = mock.requests();
    expect(request).toMatchObject({
      index: 0,
      method: 'POST',
      path: `/v26.0/${PIXEL}/events`,
      pixelId: PIXEL,
      version: 'v26.0',
      status: 200,
      eventCount: 2,
      eventNames: ['Purchase', 'PageView'],
      tokenInUrl: false,
      tokenSources: ['body'],
      hasAuthorizationHeader: false,
      partnerAgent: 'capi-kit',
      testEventCode: 'TEST123',
      clientAborted: false,
    });
    expect(request?.durationMs).toBeGreaterThanOrEqual(0);
    expect(mock.rejections()).toEqual([]);
  });

  it('filters events by pixel and name', async () => {
    await post(mock, { data: [validEvent(), validEvent({ event_name: 'Lead', custom_data: {} })] });
    await post(mock, { data: [validEvent()] }, { pixelId: '999' });
    expect(mock.events({ pixelId: '999' })).toHaveLength(1);
    expect(mock.events({ event_name: 'Lead' })).toHaveLength(1);
    expect(mock.events({ pixelId: PIXEL, event_name: 'Purchase' })).toHaveLength(1);
  });

  it('accepts exactly 1000 events and rejects 1001', async () => {
    const many = (n: number) =>
      Array.from({ length: n }, (_, i) => validEvent({ event_id: `e${i}` }));
    expect((await post(mock, { data: many(1000) })).json.events_received).toBe(1000);
    const res = await post(mock, { data: many(1001) });
    expect(res.status).toBe(400);
    expect(res.json.error.error_user_msg).toContain('at most 1000 events');
    expect(mock.events()).toHaveLength(1000);
  });

  it('accepts a form-urlencoded body with data as a JSON field', async () => {
    const form = new URLSearchParams({
      data: JSON.stringify([validEvent()]),
      access_token: TOKEN,
      test_event_code: 'TEST9',
    });
    const res = await fetch(mock.eventsUrl(PIXEL), { method: 'POST', body: form });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ events_received: 1 });
    expect(mock.events()[0]?.testEventCode).toBe('TEST9');
  });

  it('accepts a multipart form body', async () => {
    const form = new FormData();
    form.set('data', JSON.stringify([validEvent()]));
    form.set('access_token', TOKEN);
    const res = await fetch(mock.eventsUrl(PIXEL), { method: 'POST', body: form });
    expect(res.status).toBe(200);
    expect(mock.events()).toHaveLength(1);
  });

  it('rejects a form body whose data is not JSON', async () => {
    const form = new URLSearchParams({ data: 'not json', access_token: TOKEN });
    const res = await fetch(mock.eventsUrl(PIXEL), { method: 'POST', body: form });
    expect(res.status).toBe(400);
    expect((await res.json()).error).toMatchObject({ code: 100, error_subcode: 2804019 });
  });

  it('accepts an event_time a little in the past and one a minute ahead (clock skew)', async () => {
    const res = await post(mock, {
      data: [
        validEvent({ event_time: nowSeconds() - 6 * 86_400 }),
        validEvent({ event_time: nowSeconds() + 60 }),
      ],
    });
    expect(res.status).toBe(200);
  });

  it('uses the injected clock for event_time checks', async () => {
    await mock.close();
    const past = Date.now() - 30 * 86_400_000;
    mock = await startMockGraph({ now: () => past });
    const old = Math.floor(past / 1000) - 60;
    expect((await post(mock, { data: [validEvent({ event_time: old })] })).status).toBe(200);
  });
});

describe('malformed requests', () => {
  it('answers malformed JSON with a Graph code 100 error', async () => {
    const res = await fetch(mock.eventsUrl(PIXEL), {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
      body: '{"data": [',
    });
    expect(res.status).toBe(400);
    const body = await res.json();
    expect(body.error).toMatchObject({ type: 'OAuthException', code: 100 });
    expect(body.error.error_user_msg).toContain('not valid JSON');
  });

  it('refuses a body without a JSON or form Content-Type', async () => {
    const res = await fetch(`${mock.eventsUrl(PIXEL)}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}` },
      body: JSON.stringify({ data: [validEvent()] }),
    });
    expect(res.status).toBe(400);
    expect((await res.json()).error.error_user_msg).toContain('text/plain');
  });

  // Graph reads a POST's parameters from the query string as well as the body (Meta's own
  // examples post `?message=…&access_token=…`, developers.facebook.com/docs/pages/publishing):
  // events sent with `?test_event_code=` are test events at Meta, so they are here too.
  it('reads test_event_code from the query string when the body has none', async () => {
    const url = `${mock.eventsUrl(PIXEL)}?test_event_code=TEST77`;
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
      body: JSON.stringify({ data: [validEvent()] }),
    });
    expect(res.status).toBe(200);
    expect(mock.events()[0]?.testEventCode).toBe('TEST77');
    expect(mock.requests()[0]?.testEventCode).toBe('TEST77');

    // The body's, the documented place [MB], wins over the query's.
    const both = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
      body: JSON.stringify({ data: [validEvent()], test_event_code: 'BODY1' }),
    });
    expect(both.status).toBe(200);
    expect(mock.events()[1]?.testEventCode).toBe('BODY1');
  });

  it('answers bodies over the limit with 413', async () => {
    await mock.close();
    mock = await startMockGraph({ maxBodyBytes: 1024 });
    const res = await post(mock, { data: [validEvent({ padding: 'x'.repeat(4096) })] });
    expect(res.status).toBe(413);
    expect(res.json.error.code).toBe(100);
    expect(mock.rejections()[0]?.status).toBe(413);
  });

  // Graph answers a path it does not know with HTTP 400 and OAuthException 2500 ("Unknown path
  // components"), not 404: a client that sorts answers by status must see what Graph sends.
  it.each([
    ['POST', `/v26.0/${PIXEL}/nope`],
    ['GET', '/v26.0/nothing/here/at/all'],
    ['POST', '/unknown'],
  ])('answers the unknown route %s %s with Graph 400, code 2500', async (method, path) => {
    const res = await fetch(`${mock.url}${path}`, { method });
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toContain('application/json');
    const { error } = await res.json();
    expect(error).toMatchObject({
      type: 'OAuthException',
      code: 2500,
      message: expect.stringMatching(/^Unknown path components: \//),
      fbtrace_id: expect.any(String),
    });
    expect(mock.rejections().map((r) => r.status)).toEqual([400]);
  });

  it('answers GET on the events edge with a Graph error', async () => {
    const res = await fetch(mock.eventsUrl(PIXEL));
    expect(res.status).toBe(400);
    expect((await res.json()).error.code).toBe(100);
  });

  it.each(['v26', '26.0', 'v26.0.1', 'latest'])('rejects the API version %s', async (version) => {
    const res = await post(mock, { data: [validEvent()] }, { version });
    expect(res.status).toBe(400);
    expect(res.json.error.code).toBe(2500);
    expect(res.json.error.message).toContain(version);
    expect(mock.events()).toEqual([]);
  });

  // [CHG]/[VER]: v20.0 was usable until 2026-09-24; older versions ended before it. A user
  // pinning one passed against the mock and got Graph's 2635 on every request in production.
  it('refuses a Graph API version past its end with 2635, on the mock clock', async () => {
    await mock.close();
    const at = Date.parse('2026-10-01T12:00:00Z');
    mock = await startMockGraph({ now: () => at });
    const event = () => validEvent({ event_time: Math.floor(at / 1000) - 60 });
    for (const version of ['v20.0', 'v19.0', 'v2.5']) {
      const res = await post(mock, { data: [event()] }, { version });
      expect(res.status).toBe(400);
      expect(res.json.error).toMatchObject({ code: 2635, is_transient: false });
      expect(res.json.error.message).toContain('v26.0');
    }
    expect(mock.events()).toEqual([]);
    // Still served that day, and a version newer than the table (released since) too.
    for (const version of ['v21.0', 'v26.0', 'v27.0']) {
      expect((await post(mock, { data: [event()] }, { version })).status).toBe(200);
    }
    await mock.close();
    mock = await startMockGraph({ now: () => Date.parse('2026-09-23T12:00:00Z') });
    const before = validEvent({
      event_time: Math.floor(Date.parse('2026-09-23T12:00:00Z') / 1000) - 60,
    });
    expect((await post(mock, { data: [before] }, { version: 'v20.0' })).status).toBe(200);
  });

  it('rejects a non-numeric pixel id like Meta (100/33)', async () => {
    const res = await post(mock, { data: [validEvent()] }, { pixelId: 'my-pixel' });
    expect(res.status).toBe(400);
    expect(res.json.error).toMatchObject({ code: 100, error_subcode: 33 });
  });
});

describe('odd paths', () => {
  it('answers a malformed percent-encoded pixel id with a Graph error, not a crash', async () => {
    const res = await fetch(`${mock.url}/v26.0/%E0%A4%A/events`, { method: 'POST' });
    expect(res.status).toBe(400);
    expect((await res.json()).error).toMatchObject({ code: 100, error_subcode: 33 });
  });
});
