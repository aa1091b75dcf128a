import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MOCK_USER, type MockGraph, startMockGraph } from '../src/index.js';
import { PIXEL, post, sha256, TOKEN, validEvent } from './fixtures.js';

let mock: MockGraph;
const SKEW_MS = 10 * 60_000;
beforeAll(async () => {
  mock = await startMockGraph({ accessToken: TOKEN, now: () => Date.now() + SKEW_MS });
});
beforeEach(() => mock.reset());
afterAll(() => mock.close());

// biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary response JSON
type Json = any;

const get = async (
  path: string,
  token: string | null = TOKEN,
): Promise<{ status: number; headers: Headers; json: Json }> => {
  const res = await fetch(`${mock.url}${path}`, {
    headers: token === null ? {} : { authorization: `Bearer ${token}` },
  });
  return { status: res.status, headers: res.headers, json: await res.json() };
};

const DQ_FIELDS =
  'web{event_name,event_match_quality,event_coverage,dedupe_key_feedback,data_freshness}';

describe('GET /{version}/me', () => {
  it('answers the token owner', async () => {
    const res = await get('/v26.0/me?fields=id,name');
    expect(res.status).toBe(200);
    expect(res.json).toEqual(MOCK_USER);
  });

  it('answers a bad or missing token with 190', async () => {
    for (const token of ['wrong', null]) {
      const res = await get('/v26.0/me', token);
      expect(res.status).toBe(400);
      expect(res.json.error.code).toBe(190);
    }
    expect(mock.rejections().map((r) => [r.method, r.path, r.status])).toEqual([
      ['GET', '/v26.0/me', 400],
      ['GET', '/v26.0/me', 400],
    ]);
  });

  it('refuses fields the node does not have', async () => {
    const res = await get('/v26.0/me?fields=id,email');
    expect(res.json.error).toMatchObject({ code: 100 });
    expect(res.json.error.message).toContain('nonexisting field (email)');
  });

  it('dates its answers with the mock clock (for clock-skew checks)', async () => {
    const res = await get('/v26.0/me');
    const skew = Date.parse(res.headers.get('date') ?? '') - Date.now();
    expect(Math.abs(skew - SKEW_MS)).toBeLessThan(2000);
  });
});

describe('GET /{version}/{pixelId}', () => {
  it('answers id and name, and last_fired_time once events arrived', async () => {
    expect((await get(`/v26.0/${PIXEL}`)).json).toEqual({
      id: PIXEL,
      name: `capi-kit mock pixel ${PIXEL}`,
    });
    const before = await get(`/v26.0/${PIXEL}?fields=id,last_fired_time`);
    expect(before.json).toEqual({ id: PIXEL });
    await post(mock, { data: [validEvent()] });
    const after = await get(`/v26.0/${PIXEL}?fields=id,name,last_fired_time`);
    expect(after.json.last_fired_time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+0000$/);
  });

  it('answers a non-numeric id like Meta (100/33)', async () => {
    const res = await get('/v26.0/my-pixel');
    expect(res.json.error).toMatchObject({ code: 100, error_subcode: 33 });
  });

  it('still answers GET on the events edge with code 100', async () => {
    expect((await get(`/v26.0/${PIXEL}/events`)).json.error.code).toBe(100);
  });
});

describe('GET /{version}/dataset_quality', () => {
  it('computes figures from the accepted web events', async () => {
    const full = validEvent(); // em, ip, ua, fbp, event_id
    const thin = validEvent({
      event_id: undefined,
      user_data: { em: [sha256('a@b.co')], client_user_agent: 'UA' },
    });
    await post(mock, {
      data: [
        full,
        thin,
        validEvent({ action_source: 'physical_store', event_source_url: undefined }),
      ],
    });
    const res = await get(`/v26.0/dataset_quality?dataset_id=${PIXEL}&fields=${DQ_FIELDS}`);
    expect(res.status).toBe(200);
    expect(res.json.web).toHaveLength(1); // web events only
    const [purchase] = res.json.web;
    expect(purchase.event_name).toBe('Purchase');
    // full: 4 (em) + 1 (fbp) + 2 (ip + ua) = 7; thin: 4 → 5.5
    expect(purchase.event_match_quality.composite_score).toBe(5.5);
    expect(purchase.event_match_quality.match_key_feedback).toEqual(
      expect.arrayContaining([
        { identifier: 'email', coverage: { percentage: 100 } },
        { identifier: 'ip_address', coverage: { percentage: 50 } },
        { identifier: 'user_agent', coverage: { percentage: 100 } },
      ]),
    );
    expect(purchase.dedupe_key_feedback[0]).toEqual({
      dedupe_key: 'event_id',
      server_events_with_dedupe_key: { percentage: 50 },
    });
    expect(purchase.data_freshness).toEqual({ upload_frequency: 'real_time' });
    expect(purchase.event_coverage).toBeUndefined();
  });

  it('answers only the requested fields', async () => {
    await post(mock, { data: [validEvent()] });
    const res = await get(
      `/v26.0/dataset_quality?dataset_id=${PIXEL}&fields=web{event_match_quality{composite_score}}`,
    );
    expect(Object.keys(res.json.web[0]).sort()).toEqual(['event_match_quality', 'event_name']);
  });

  it('serves scripted figures', async () => {
    const web = [
      {
        event_name: 'Purchase',
        event_match_quality: { composite_score: 8.1 },
        event_coverage: { percentage: 34.1, goal_percentage: 75 },
      },
    ];
    mock.setDatasetQuality(PIXEL, web);
    expect((await get(`/v26.0/dataset_quality?dataset_id=${PIXEL}`)).json).toEqual({ web });
    mock.setDatasetQuality(PIXEL);
    expect((await get(`/v26.0/dataset_quality?dataset_id=${PIXEL}`)).json).toEqual({ web: [] });
  });

  it('serves scripted figures set over HTTP', async () => {
    const web = [{ event_name: 'Lead', event_match_quality: { composite_score: 4 } }];
    await fetch(`${mock.url}/_mock/dataset-quality`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ pixelId: PIXEL, web }),
    });
    expect((await get(`/v26.0/dataset_quality?dataset_id=${PIXEL}`)).json).toEqual({ web });
  });

  it('answers Graph errors for a missing dataset_id, a misspelt field and a bad token', async () => {
    expect((await get('/v26.0/dataset_quality')).json.error.code).toBe(100);
    const misspelt = await get(
      `/v26.0/dataset_quality?dataset_id=${PIXEL}&fields=web{dedup_key_feedback}`,
    );
    expect(misspelt.json.error.message).toContain('dedup_key_feedback');
    expect((await get(`/v26.0/dataset_quality?dataset_id=${PIXEL}`, 'nope')).json.error.code).toBe(
      190,
    );
  });
});
