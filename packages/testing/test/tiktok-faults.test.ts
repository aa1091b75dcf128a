import { afterEach, beforeEach, describe, expect, it } from 'vitest';
// The classifier @capi-kit/tiktok ships, from source (see the README's note on the build order):
// every fault the mock scripts must read as the class it is meant to exercise.
import { classifyTikTokResponse } from '../../tiktok/src/index.js';
import { type MockGraph, startMockGraph } from '../src/index.js';
import { post, postInTwoParts, validEvent } from './fixtures.js';
import { postTikTok, TIKTOK_TOKEN, tiktokBody } from './tiktok-fixtures.js';

let mock: MockGraph;
beforeEach(async () => {
  mock = await startMockGraph();
});
afterEach(() => mock.close());

const classOf = (res: { status: number; headers: Headers; text: string }) =>
  classifyTikTokResponse({ status: res.status, body: res.text, headers: res.headers }).class;

describe('TikTok faults', () => {
  it.each([
    ['throttle', 200, 40100, 'throttled'],
    ['auth', 200, 40105, 'auth'],
    [{ kind: 'tiktok', code: 40001 }, 200, 40001, 'auth'],
    [{ kind: 'tiktok', code: 40007 }, 200, 40007, 'auth'],
    [{ kind: 'tiktok', code: 40002, message: 'Invalid parameters.' }, 200, 40002, 'invalid'],
    [{ kind: 'tiktok', code: 50000, status: 500 }, 500, 50000, 'transient'],
    [{ kind: 'http', status: 429, body: 'tiktok' }, 429, 40100, 'throttled'],
  ] as const)('%j answers HTTP %i with code %i (%s)', async (fault, status, code, verdict) => {
    mock.tiktok.failNext(fault);
    const res = await postTikTok(mock);
    expect(res.status).toBe(status);
    expect(res.json).toMatchObject({ code, data: {} });
    expect(res.json.request_id).toEqual(expect.any(String));
    expect(classOf(res)).toBe(verdict);
    expect(mock.tiktok.events()).toEqual([]);
    expect(mock.tiktok.rejections()[0]).toMatchObject({
      fault: fault === 'throttle' || fault === 'auth' ? 'tiktok' : fault.kind,
      code,
    });
  });

  it('sends Retry-After and extra headers with a throttle', async () => {
    mock.tiktok.failNext({
      kind: 'tiktok',
      code: 40100,
      retryAfterSeconds: 7,
      headers: { 'x-a': 'b' },
    });
    const res = await postTikTok(mock);
    expect(res.headers.get('retry-after')).toBe('7');
    expect(res.headers.get('x-a')).toBe('b');
    expect(
      classifyTikTokResponse({ status: res.status, body: res.text, headers: res.headers })
        .retryAfterMs,
    ).toBe(7000);
  });

  it.each([
    [503, undefined, 'text/html'],
    [502, 'text', 'text/plain'],
    [500, 'empty', null],
  ] as const)(
    'an edge %i (%s body) is not TikTok-shaped and reads as transient',
    async (status, body, type) => {
      mock.tiktok.failNext(body === undefined ? status : { kind: 'http', status, body });
      const res = await postTikTok(mock);
      expect(res.status).toBe(status);
      if (type === null) expect(res.headers.get('content-type')).toBeNull();
      else expect(res.headers.get('content-type')).toContain(type);
      expect(classOf(res)).toBe('transient');
      expect(mock.tiktok.rejections()[0]).toMatchObject({ status, fault: 'http' });
      expect(mock.tiktok.rejections()[0]?.code).toBeUndefined();
    },
  );

  it('hangs until the client gives up, and records the abort', async () => {
    mock.tiktok.failNext('hang');
    await expect(
      postTikTok(mock, tiktokBody(), { signal: AbortSignal.timeout(150) }),
    ).rejects.toThrow();
    await expect.poll(() => mock.tiktok.requests()[0]?.clientAborted).toBe(true);
    expect(mock.tiktok.rejections()[0]).toMatchObject({ status: 0, fault: 'hang' });
  });

  it('drops the connection on reset', async () => {
    mock.tiktok.failNext({ kind: 'reset', latencyMs: 20 });
    await expect(postTikTok(mock)).rejects.toThrow();
    await expect.poll(() => mock.tiktok.rejections()[0]?.fault).toBe('reset');
    expect(mock.tiktok.requests()[0]?.clientAborted).toBe(false);
  });

  it('delays an answer it still processes on latency', async () => {
    mock.tiktok.failNext({ kind: 'latency', latencyMs: 120 });
    const started = performance.now();
    const res = await postTikTok(mock);
    expect(performance.now() - started).toBeGreaterThanOrEqual(100);
    expect(res.json.code).toBe(0);
    expect(mock.tiktok.events()).toHaveLength(1);
    expect(mock.tiktok.rejections()).toEqual([]);
  });

  it('queues faults FIFO, `times` at once, and then answers normally', async () => {
    mock.tiktok.failNext('throttle', 2).failNext(503);
    expect(mock.tiktok.pendingFaults()).toBe(3);
    const codes = [];
    for (let i = 0; i < 4; i++) {
      const res = await postTikTok(mock);
      codes.push(res.json?.code ?? res.status);
    }
    expect(codes).toEqual([40100, 40100, 503, 0]);
    expect(mock.tiktok.pendingFaults()).toBe(0);
  });

  it('keeps an outage until recover(), after queued faults', async () => {
    mock.tiktok.outage('throttle').failNext('auth');
    expect((await postTikTok(mock)).json.code).toBe(40105);
    expect((await postTikTok(mock)).json.code).toBe(40100);
    expect((await postTikTok(mock)).json.code).toBe(40100);
    mock.tiktok.recover();
    expect((await postTikTok(mock)).json.code).toBe(0);
  });

  it("has its own queue: a TikTok outage leaves Meta's endpoint alone, and Meta's faults leave TikTok's", async () => {
    mock.tiktok.outage(503);
    mock.failNext(500);
    expect((await post(mock, { data: [validEvent()] })).status).toBe(500);
    expect((await post(mock, { data: [validEvent()] })).status).toBe(200);
    expect((await postTikTok(mock)).status).toBe(503);
    expect(mock.events()).toHaveLength(1);
    expect(mock.pendingFaults()).toBe(0);
    mock.tiktok.recover();
    mock.failNext(500);
    expect((await postTikTok(mock)).json.code).toBe(0);
    expect(mock.pendingFaults()).toBe(1);
  });

  it('refuses nonsense at the call site', () => {
    expect(() => mock.tiktok.failNext(40100)).toThrow(/kind: 'tiktok', code: 40100/);
    expect(() => mock.tiktok.failNext({ kind: 'tiktok', code: 0 })).toThrow(TypeError);
    expect(() => mock.tiktok.failNext({ kind: 'http', status: 200 })).toThrow(TypeError);
    // biome-ignore lint/suspicious/noExplicitAny: a caller without types
    expect(() => mock.tiktok.failNext({ kind: 'short-ack' } as any)).toThrow(
      /Unknown TikTok fault/,
    );
    // biome-ignore lint/suspicious/noExplicitAny: a caller without types
    expect(() => mock.tiktok.failNext({ kind: 'http', status: 500, body: 'xml' } as any)).toThrow(
      TypeError,
    );
    expect(mock.tiktok.pendingFaults()).toBe(0);
  });

  it('reset() clears the queue and the outage; the server-wide reset too', async () => {
    mock.tiktok.failNext('throttle').outage(503);
    mock.tiktok.reset();
    expect(mock.tiktok.pendingFaults()).toBe(0);
    expect((await postTikTok(mock)).json.code).toBe(0);
    mock.tiktok.failNext('throttle').outage(503);
    mock.reset();
    expect(mock.tiktok.pendingFaults()).toBe(0);
    expect((await postTikTok(mock)).json.code).toBe(0);
  });
});

describe('TikTok: what holds when a request comes in decides its answer', () => {
  const postInTwo = (between: () => void) =>
    postInTwoParts(
      mock.tiktok.url,
      { 'content-type': 'application/json', 'access-token': TIKTOK_TOKEN },
      JSON.stringify(tiktokBody()),
      () => mock.tiktok.requests().length,
      between,
    );

  it('an outage: a request that came in during it is refused even if recover() comes before its body ends', async () => {
    mock.tiktok.outage({ kind: 'tiktok', code: 50000, status: 500 });
    expect(await postInTwo(() => mock.tiktok.recover())).toBe(500);
    expect(mock.tiktok.events()).toEqual([]);
    expect((await postTikTok(mock)).status).toBe(200);
    expect(mock.tiktok.events()).toHaveLength(1);
  });

  it('reset(): events of a request that came in before it are answered and recorded nowhere', async () => {
    expect(await postInTwo(() => mock.tiktok.reset())).toBe(200);
    expect(mock.tiktok.events()).toEqual([]);
    expect((await postTikTok(mock)).status).toBe(200);
    expect(mock.tiktok.events()).toHaveLength(1);
  });

  it("failNext(): a fault queued after a request came in is the next request's, not that one's", async () => {
    const status = await postInTwo(() => {
      mock.tiktok.reset();
      mock.tiktok.failNext({ kind: 'tiktok', code: 50000, status: 500 });
    });
    expect(status).toBe(200);
    expect(mock.tiktok.pendingFaults()).toBe(1);
    expect((await postTikTok(mock)).status).toBe(500);
  });
});
