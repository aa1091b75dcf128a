import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type MockGraph, startMockGraph } from '../src/index.js';
import { post, validEvent } from './fixtures.js';

let mock: MockGraph;
beforeEach(async () => {
  mock = await startMockGraph();
});
afterEach(() => mock.close());

const ids = (...list: string[]) => ({ data: list.map((id) => validEvent({ event_id: id })) });
const isBad = (event: { event_id?: string }) => event.event_id?.startsWith('bad-') ?? false;

describe('rejectEvents', () => {
  it('answers like Meta for an invalid event: 400, 100/2804019, naming the first one; records nothing', async () => {
    mock.rejectEvents(isBad);
    const res = await post(mock, ids('ok-0', 'ok-1', 'ok-2', 'bad-3', 'ok-4', 'bad-5'));
    expect(res.status).toBe(400);
    expect(res.json.error).toEqual({
      message: 'Invalid parameter',
      type: 'OAuthException',
      code: 100,
      error_subcode: 2804019,
      is_transient: false,
      error_user_title: 'Missing Parameter',
      error_user_msg: "The parameter $['data'][3]['custom_data']['currency'] is required.",
      fbtrace_id: expect.any(String),
    });
    expect(mock.events()).toEqual([]);
    expect(mock.rejections()[0]).toMatchObject({
      status: 400,
      eventCount: 6,
      invalidEvent: { index: 3, field: 'custom_data.currency', reason: 'is required' },
    });
    expect(mock.rejections()[0]?.fault).toBeUndefined();
  });

  it('lets batches without a matching event through, and names the field asked for', async () => {
    mock.rejectEvents(isBad, { field: 'user_data.em[1]' });
    expect((await post(mock, ids('ok-0', 'ok-1'))).json.events_received).toBe(2);
    const res = await post(mock, ids('bad-0'));
    expect(res.json.error.error_user_msg).toBe(
      "The parameter $['data'][0]['user_data']['em'][1] is required.",
    );
    expect(mock.requests()[1]?.invalidEvent?.field).toBe('user_data.em[1]');
    expect(mock.uniqueEventIds()).toEqual(['ok-0', 'ok-1']);
  });

  it('passes the index in the batch to the predicate', async () => {
    mock.rejectEvents((_event, index) => index === 1);
    const res = await post(mock, ids('a', 'b', 'c'));
    expect(res.json.error.error_user_msg).toContain("$['data'][1]");
  });

  it('an event that breaks Meta’s own rules first is named first', async () => {
    mock.rejectEvents(isBad);
    const res = await post(mock, {
      data: [validEvent({ event_id: 'ok-0', event_name: '' }), validEvent({ event_id: 'bad-1' })],
    });
    expect(res.json.error.error_user_msg).toContain("$['data'][0]['event_name']");
  });

  it('comes off with rejectEvents() and reset()', async () => {
    mock.rejectEvents(isBad);
    mock.rejectEvents();
    expect((await post(mock, ids('bad-0'))).status).toBe(200);
    mock.rejectEvents(isBad);
    mock.reset();
    expect((await post(mock, ids('bad-1'))).status).toBe(200);
  });

  it('applies after a scripted fault: the fault answers first', async () => {
    mock.rejectEvents(isBad).failNext(503);
    expect((await post(mock, ids('bad-0'))).status).toBe(503);
    expect((await post(mock, ids('bad-0'))).status).toBe(400);
  });

  it('refuses a predicate that is not a function, or an empty field', () => {
    expect(() => mock.rejectEvents('bad-' as never)).toThrow(TypeError);
    expect(() => mock.rejectEvents(isBad, { field: '' })).toThrow(TypeError);
  });
});

describe('rejectEvents over HTTP', () => {
  const control = (method: string, body?: unknown) =>
    fetch(`${mock.url}/_mock/reject-events`, {
      method,
      headers: { 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });

  it('POST by event_id prefix and/or event_name, DELETE to remove', async () => {
    expect(
      (await control('POST', { eventIdPrefix: 'bad-', field: 'custom_data.value' })).status,
    ).toBe(200);
    const res = await post(mock, ids('ok-0', 'bad-1'));
    expect(res.json.error.error_user_msg).toBe(
      "The parameter $['data'][1]['custom_data']['value'] is required.",
    );
    expect((await control('POST', { eventIdPrefix: 'bad-', eventName: 'Lead' })).status).toBe(200);
    expect((await post(mock, ids('bad-2'))).status).toBe(200); // a Purchase: the name does not match
    expect((await control('DELETE')).status).toBe(200);
    expect((await post(mock, ids('bad-3'))).status).toBe(200);
  });

  it('answers 400 to a rule without a condition or with a bad field', async () => {
    const empty = await control('POST', {});
    expect(empty.status).toBe(400);
    expect(((await empty.json()) as { error: string }).error).toMatch(/eventIdPrefix/);
    expect((await control('POST', { eventIdPrefix: 'x', field: 3 })).status).toBe(400);
    expect((await post(mock, ids('x-1'))).status).toBe(200);
  });
});
