import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type MockGraph, type MockRequest, startMockGraph } from '../src/index.js';
import { PIXEL, post, validEvent } from './fixtures.js';

let mock: MockGraph;
beforeEach(async () => {
  mock = await startMockGraph();
});
afterEach(() => mock.close());

describe('duplicates and event ids', () => {
  it('counts events received more than once by (pixelId, event_name, event_id)', async () => {
    const purchase = validEvent({ event_id: 'order-1' });
    await post(mock, { data: [purchase, validEvent({ event_id: 'order-2' })] });
    await post(mock, { data: [purchase] }); // a retry after a timeout
    await post(mock, { data: [purchase] });
    await post(mock, { data: [{ ...purchase, event_name: 'Lead' }] }); // other name: not a duplicate
    await post(mock, { data: [purchase] }, { pixelId: '42' }); // other pixel: not a duplicate
    await post(mock, { data: [validEvent({ event_id: undefined })] }); // no id: ignored
    expect(mock.duplicates()).toEqual([
      { pixelId: PIXEL, event_name: 'Purchase', event_id: 'order-1', count: 3 },
    ]);
    expect(mock.uniqueEventIds()).toEqual(['order-1', 'order-2']);
  });

  it('does not count rejected batches', async () => {
    const purchase = validEvent({ event_id: 'order-1' });
    mock.failNext(503);
    await post(mock, { data: [purchase] });
    await post(mock, { data: [purchase] });
    expect(mock.duplicates()).toEqual([]);
    expect(mock.events()).toHaveLength(1);
  });
});

describe('waitForEvents', () => {
  it('resolves once enough events arrived, without polling', async () => {
    const waiting = mock.waitForEvents(3, { timeoutMs: 1000 });
    await post(mock, { data: [validEvent()] });
    await post(mock, { data: [validEvent(), validEvent()] });
    const events = await waiting;
    expect(events).toHaveLength(3);
  });

  it('resolves at once when the events are already there', async () => {
    await post(mock, { data: [validEvent()] });
    await expect(mock.waitForEvents(1)).resolves.toHaveLength(1);
  });

  it('waits for matching events only', async () => {
    const waiting = mock.waitForEvents(1, { event_name: 'Lead', timeoutMs: 1000 });
    await post(mock, { data: [validEvent()] });
    await post(mock, { data: [validEvent({ event_name: 'Lead', custom_data: undefined })] });
    const [lead] = await waiting;
    expect(lead?.event.event_name).toBe('Lead');
  });

  it('rejects on timeout with what did arrive', async () => {
    mock.failNext({ kind: 'graph', code: 190 });
    await post(mock, { data: [validEvent()] });
    await post(mock, { data: [validEvent()] });
    await expect(mock.waitForEvents(2, { timeoutMs: 50 })).rejects.toThrow(
      /expected at least 2 accepted event\(s\) within 50 ms, got 1 \(2 request\(s\), 1 rejected; last rejection: HTTP 400 \(fault graph\) 190/,
    );
  });

  it.each([Number.POSITIVE_INFINITY, 3e9])(
    'waits with timeoutMs %s (past what setTimeout keeps) rather than rejecting at once',
    async (timeoutMs) => {
      const outcome = mock.waitForEvents(1, { timeoutMs }).then(
        (events) => `resolved with ${events.length}`,
        (error: Error) => `rejected: ${error.message}`,
      );
      // A timer set after the wait's own fires after it: setTimeout ran an overflowing delay as 1 ms.
      await new Promise((resolve) => setTimeout(resolve, 20));
      await post(mock, { data: [validEvent()] });
      expect(await outcome).toBe('resolved with 1');
    },
  );

  it('rejects pending waits when the mock closes', async () => {
    const waiting = mock.waitForEvents(1, { timeoutMs: 5000 });
    await mock.close();
    await expect(waiting).rejects.toThrow(/closed/);
    await expect(mock.waitForEvents(1)).rejects.toThrow(/closed/);
  });
});

describe('requests, reset and hooks', () => {
  it('returns snapshots that callers cannot corrupt', async () => {
    await post(mock, { data: [validEvent()] });
    const [first] = mock.requests();
    if (first) first.status = 999;
    expect(mock.requests()[0]?.status).toBe(200);
  });

  it('reset() forgets events and requests and restarts the request index', async () => {
    await post(mock, { data: [validEvent()] });
    mock.reset();
    expect(mock.events()).toEqual([]);
    expect(mock.requests()).toEqual([]);
    await post(mock, { data: [validEvent()] });
    expect(mock.requests()[0]?.index).toBe(0);
    expect(mock.events()[0]?.requestIndex).toBe(0);
  });

  it('calls onRequest once per finished request', async () => {
    const seen: MockRequest[] = [];
    await mock.close();
    mock = await startMockGraph({ onRequest: (r) => seen.push(r) });
    await post(mock, { data: [validEvent()] });
    mock.failNext(503);
    await post(mock, { data: [validEvent()] });
    await expect.poll(() => seen.length).toBe(2);
    expect(seen.map((r) => r.status)).toEqual([200, 503]);
    expect(seen[0]?.eventNames).toEqual(['Purchase']);
  });

  it('close() is idempotent', async () => {
    await Promise.all([mock.close(), mock.close()]);
    await mock.close();
  });

  it('builds the events URL for a pixel and version', () => {
    expect(mock.eventsUrl('1')).toBe(`${mock.url}/v26.0/1/events`);
    expect(mock.eventsUrl('1', 'v25.0')).toBe(`${mock.url}/v25.0/1/events`);
  });
});

describe('control routes (/_mock/*) for a mock in another process', () => {
  const control = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${mock.url}/_mock/${path}`, {
      method,
      headers: { 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.status, json: await res.json() };
  };

  it('inspects, scripts faults and resets over HTTP', async () => {
    expect((await control('POST', 'faults', { fault: 503, times: 1 })).json).toEqual({
      ok: true,
      pending: 1,
    });
    expect((await post(mock, { data: [validEvent()] })).status).toBe(503);
    await post(mock, { data: [validEvent({ event_id: 'x' })] });
    await post(mock, { data: [validEvent({ event_id: 'x' })] });
    expect((await control('GET', 'events')).json).toHaveLength(2);
    expect((await control('GET', 'requests')).json).toHaveLength(3);
    expect((await control('GET', 'duplicates')).json).toEqual([
      expect.objectContaining({ event_id: 'x', count: 2 }),
    ]);

    await control('POST', 'outage', { fault: { kind: 'graph', code: 2 } });
    expect((await post(mock, { data: [validEvent()] })).status).toBe(500);
    await control('DELETE', 'outage');
    expect((await post(mock, { data: [validEvent()] })).status).toBe(200);

    await control('POST', 'reset');
    expect(mock.requests()).toEqual([]);
  });

  it('refuses a times that is not a whole number of requests, and keeps any count in constant memory', async () => {
    // 1e999 is JSON for Infinity: the mock used to queue copies until it ran out of memory.
    for (const times of ['1.5', '-1', '"2"', '1e999']) {
      const res = await fetch(`${mock.url}/_mock/faults`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: `{"fault":503,"times":${times}}`,
      });
      expect(res.status, `times ${times}`).toBe(400);
      expect(((await res.json()) as { error: string }).error).toContain('whole number');
    }
    expect(mock.pendingFaults()).toBe(0);
    expect(() => mock.tiktok.failNext('throttle', Number.POSITIVE_INFINITY)).toThrow(TypeError);

    // A billion one-shot faults, then another kind: counted, consumed one request at a time, FIFO.
    expect((await control('POST', 'faults', { fault: 503, times: 1e9 })).json).toEqual({
      ok: true,
      pending: 1e9,
    });
    mock.failNext(429, 0); // nothing queued
    expect((await post(mock, { data: [validEvent()] })).status).toBe(503);
    expect(mock.pendingFaults()).toBe(1e9 - 1);
    mock.reset();
    mock.failNext(502, 2).failNext(504);
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await post(mock, { data: [validEvent()] })).status);
    expect(statuses).toEqual([502, 502, 504, 200]);
    expect(
      (await control('POST', 'tiktok/faults', { fault: 'throttle', times: 1e9 })).json,
    ).toEqual({
      ok: true,
      pending: 1e9,
    });
  });

  it('answers bad control input with 400 and unknown control routes with 404', async () => {
    expect((await control('POST', 'faults', { fault: 42 })).status).toBe(400);
    // A body that is not JSON is refused, not read as no input (which set nothing, answering 200).
    const broken = await fetch(`${mock.url}/_mock/dataset-quality`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"pixelId": "1234567890", "web": [',
    });
    expect(broken.status).toBe(400);
    expect(((await broken.json()) as { error: string }).error).toMatch(/JSON/);
    const huge = await fetch(`${mock.url}/_mock/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ fault: 503, pad: 'x'.repeat(1024 * 1024) }),
    });
    expect(huge.status).toBe(413);
    expect(mock.pendingFaults()).toBe(0);
    // No body at all is still no input.
    expect((await fetch(`${mock.url}/_mock/reset`, { method: 'POST' })).status).toBe(200);
    expect((await control('GET', 'nothing')).status).toBe(404);
    expect(mock.requests()).toEqual([]);
  });
});
