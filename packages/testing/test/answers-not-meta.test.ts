import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type MockGraph, startMockGraph } from '../src/index.js';
import { PIXEL, post, validEvent } from './fixtures.js';

// Answers that do not come from Meta, or do not concern the events: 2xx pages from a portal or a
// proxy, short acknowledgements, redirects, and request-level Graph errors.

let mock: MockGraph;
beforeEach(async () => {
  mock = await startMockGraph();
});
afterEach(() => mock.close());

const batch = (n: number) => ({
  data: Array.from({ length: n }, (_, i) => validEvent({ event_id: `evt-${i}` })),
});

describe('2xx answers that are not Meta’s acknowledgement', () => {
  it.each([
    ['html', 'text/html', /^<!DOCTYPE html>/],
    ['empty', null, /^$/],
    ['empty-object', 'application/json', /^\{\}$/],
    ['text', 'text/plain', /^OK$/],
  ] as const)(
    'body %s: answers 200, records no event, keeps the body',
    async (body, type, text) => {
      mock.failNext({ kind: 'non-meta-2xx', body });
      const res = await post(mock, batch(3));
      expect(res.status).toBe(200);
      if (type === null) expect(res.headers.get('content-type')).toBeNull();
      else expect(res.headers.get('content-type')).toContain(type);
      expect(res.text).toMatch(text);
      expect(mock.events()).toEqual([]);
      expect(mock.requests()[0]).toMatchObject({
        status: 200,
        fault: 'non-meta-2xx',
        eventCount: 3,
        responseBody: res.text,
      });
      // Not Meta's acknowledgement, so it is a rejection even though the status is 200.
      expect(mock.rejections()).toHaveLength(1);
      // The next request reaches "Meta".
      expect((await post(mock, batch(3))).json.events_received).toBe(3);
      expect(mock.events()).toHaveLength(3);
    },
  );

  it('truncated: Meta’s acknowledgement cut off mid-JSON, with the real count in it', async () => {
    mock.failNext({ kind: 'non-meta-2xx', body: 'truncated', status: 202 });
    const res = await post(mock, batch(4));
    expect(res.status).toBe(202);
    expect(res.text.startsWith('{"events_received":4,')).toBe(true);
    expect(() => JSON.parse(res.text)).toThrow(SyntaxError);
    expect(res.json).toBeUndefined();
    expect(mock.events()).toEqual([]);
  });

  it('refuses a status outside 2xx and an unknown body at the call site', () => {
    expect(() => mock.failNext({ kind: 'non-meta-2xx', body: 'html', status: 302 })).toThrow(
      /between 200 and 299/,
    );
    expect(() => mock.failNext({ kind: 'non-meta-2xx', body: 'xml' as never })).toThrow(
      /html, empty, truncated, empty-object, text/,
    );
    expect(mock.pendingFaults()).toBe(0);
  });
});

describe('short acknowledgement', () => {
  it('acknowledges and records one event fewer than sent by default', async () => {
    mock.failNext({ kind: 'short-ack' });
    const res = await post(mock, batch(5));
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ events_received: 4, messages: [] });
    expect(mock.events().map((e) => e.event.event_id)).toEqual([
      'evt-0',
      'evt-1',
      'evt-2',
      'evt-3',
    ]);
    expect(mock.requests()[0]).toMatchObject({ status: 200, fault: 'short-ack', eventCount: 5 });
    expect(mock.rejections()).toHaveLength(1);
  });

  it('records exactly eventsReceived events; a retry of the whole batch shows up as duplicates', async () => {
    mock.failNext({ kind: 'short-ack', eventsReceived: 2 });
    expect((await post(mock, batch(5))).json.events_received).toBe(2);
    expect((await post(mock, batch(5))).json.events_received).toBe(5);
    expect(mock.uniqueEventIds()).toHaveLength(5);
    expect(mock.duplicates().map((d) => [d.event_id, d.count])).toEqual([
      ['evt-0', 2],
      ['evt-1', 2],
    ]);
  });

  it('is still checked like any request: an invalid batch gets Meta’s 400, not an acknowledgement', async () => {
    mock.failNext({ kind: 'short-ack', eventsReceived: 1 });
    const res = await post(mock, { data: [validEvent({ event_name: '' })] });
    expect(res.status).toBe(400);
    expect(res.json.error.code).toBe(100);
    expect(mock.events()).toEqual([]);
  });

  it('refuses a negative or fractional count', () => {
    expect(() => mock.failNext({ kind: 'short-ack', eventsReceived: -1 })).toThrow(TypeError);
    expect(() => mock.failNext({ kind: 'short-ack', eventsReceived: 1.5 })).toThrow(TypeError);
  });
});

describe('redirects', () => {
  let other: MockGraph;
  beforeEach(async () => {
    other = await startMockGraph();
  });
  afterEach(() => other.close());

  it.each([301, 302, 303, 307, 308] as const)(
    '%i with a Location on another origin; nothing is recorded here',
    async (status) => {
      const location = other.eventsUrl(PIXEL);
      mock.failNext({ kind: 'redirect', status, location });
      const res = await fetch(mock.eventsUrl(PIXEL), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ ...batch(2), access_token: 'EAAB-test-token' }),
        redirect: 'manual',
      });
      expect(res.status).toBe(status);
      expect(res.headers.get('location')).toBe(location);
      expect(mock.events()).toEqual([]);
      expect(mock.rejections()[0]).toMatchObject({ status, fault: 'redirect', eventCount: 2 });
      expect(other.requests()).toEqual([]);
    },
  );

  it('a client that follows a 307 re-posts the body, token included, to the other origin', async () => {
    // What a redirect-following client does, shown on the second server's records.
    mock.failNext({ kind: 'redirect', status: 307, location: other.eventsUrl(PIXEL) });
    const res = await post(mock, batch(2));
    expect(res.status).toBe(200);
    expect(mock.events()).toEqual([]);
    expect(other.events()).toHaveLength(2);
    expect(other.requests()[0]?.tokenSources).toEqual(['body']);
  });

  it('refuses a non-redirect status or a missing location', () => {
    expect(() => mock.failNext({ kind: 'redirect', status: 304 as never, location: 'x' })).toThrow(
      /301, 302, 303, 307, 308/,
    );
    expect(() => mock.failNext({ kind: 'redirect', status: 302, location: '' })).toThrow(
      /location/,
    );
  });
});

describe('request-level Graph answers', () => {
  it('code 2635 (deprecated API version): HTTP 400, Meta’s message, not transient', async () => {
    mock.failNext({ kind: 'graph', code: 2635 });
    const res = await post(mock, batch(2));
    expect(res.status).toBe(400);
    expect(res.json.error).toMatchObject({ code: 2635, is_transient: false });
    expect(res.json.error.message).toMatch(/deprecated version/);
    expect(res.json.error.error_subcode).toBeUndefined();
    expect(mock.events()).toEqual([]);
  });

  it('an unknown code, and a 400 with an HTML body', async () => {
    mock.failNext({ kind: 'graph', code: 4242 }).failNext(400);
    const unknown = await post(mock, batch(1));
    expect(unknown.status).toBe(400);
    expect(unknown.json.error).toMatchObject({ code: 4242, message: '(#4242) Graph API error' });
    const html = await post(mock, batch(1));
    expect(html.status).toBe(400);
    expect(html.headers.get('content-type')).toContain('text/html');
    expect(html.json).toBeUndefined();
    expect(mock.rejections().map((r) => [r.status, r.error?.code])).toEqual([
      [400, 4242],
      [400, undefined],
    ]);
  });
});

describe('over HTTP', () => {
  it('POST /_mock/faults takes the new kinds', async () => {
    for (const fault of [
      { kind: 'non-meta-2xx', body: 'html' },
      { kind: 'short-ack', eventsReceived: 0 },
      { kind: 'redirect', status: 302, location: 'https://example.invalid/' },
    ]) {
      const res = await fetch(`${mock.url}/_mock/faults`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ fault }),
      });
      expect(res.status).toBe(200);
    }
    expect(mock.pendingFaults()).toBe(3);
    expect((await post(mock, batch(1))).text).toContain('<html>');
    expect((await post(mock, batch(1))).json.events_received).toBe(0);
    expect(
      (await fetch(mock.eventsUrl(PIXEL), { method: 'POST', redirect: 'manual' })).status,
    ).toBe(302);
    const bad = await fetch(`${mock.url}/_mock/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ fault: { kind: 'redirect', status: 302 } }),
    });
    expect(bad.status).toBe(400);
  });
});
