import { afterEach, describe, expect, it } from 'vitest';
import { type MockGraph, type MockTikTokRequest, startMockGraph } from '../src/index.js';
import { postTikTok, TIKTOK_TOKEN, tiktokBody } from './tiktok-fixtures.js';

let mock: MockGraph;
afterEach(() => mock.close());

/** Everything the mock keeps or says about requests, to look for a token in. */
const everything = (m: MockGraph, logged: MockTikTokRequest[]): string =>
  JSON.stringify([m.tiktok.requests(), m.tiktok.rejections(), m.eventsManager(), logged]);

describe("TikTok's Access-Token header", () => {
  it('is required: without it, code 40105 and nothing recorded', async () => {
    mock = await startMockGraph();
    const res = await postTikTok(mock, tiktokBody(), { token: null });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({
      code: 40105,
      message: 'The access token is missing: send it in the Access-Token header.',
    });
    expect(mock.tiktok.events()).toEqual([]);
    expect(mock.tiktok.requests()[0]).toMatchObject({ hasAccessToken: false, code: 40105 });
  });

  it('accepts any non-empty token when none is configured', async () => {
    mock = await startMockGraph();
    expect((await postTikTok(mock, tiktokBody(), { token: 'anything' })).json.code).toBe(0);
    expect((await postTikTok(mock, tiktokBody(), { token: '  ' })).json.code).toBe(40105);
  });

  it('must equal tiktokAccessToken when configured, and a wrong one is never echoed', async () => {
    const logged: MockTikTokRequest[] = [];
    mock = await startMockGraph({
      tiktokAccessToken: TIKTOK_TOKEN,
      onTikTokRequest: (r) => logged.push(r),
    });
    const wrong = 'tt-wrong-token-abcdef';
    const res = await postTikTok(mock, tiktokBody(), { token: wrong });
    expect(res.json).toMatchObject({ code: 40105, message: 'The access token is incorrect.' });
    expect(res.text).not.toContain(wrong);
    expect((await postTikTok(mock, tiktokBody())).json.code).toBe(0);
    expect(logged).toHaveLength(2);
    const kept = everything(mock, logged);
    expect(kept).not.toContain(wrong);
    expect(kept).not.toContain(TIKTOK_TOKEN);
  });

  it('is the only place a token counts: in the URL or as a Bearer header it is missing', async () => {
    mock = await startMockGraph({ tiktokAccessToken: TIKTOK_TOKEN });
    const inUrl = await postTikTok(mock, tiktokBody(), {
      token: null,
      query: `?access_token=${TIKTOK_TOKEN}`,
    });
    expect(inUrl.json.code).toBe(40105);
    expect(inUrl.json.message).toContain('never in the URL or the body');
    const bearer = await postTikTok(mock, tiktokBody(), {
      token: null,
      headers: { authorization: `Bearer ${TIKTOK_TOKEN}` },
    });
    expect(bearer.json.code).toBe(40105);
    expect(mock.tiktok.requests().map((r) => [r.tokenInUrl, r.hasAccessToken])).toEqual([
      [true, false],
      [false, false],
    ]);
    expect(everything(mock, [])).not.toContain(TIKTOK_TOKEN);
  });

  it('flags a token in the body even with a good header, and refuses the request', async () => {
    mock = await startMockGraph({ tiktokAccessToken: TIKTOK_TOKEN });
    const res = await postTikTok(mock, tiktokBody(undefined, { access_token: TIKTOK_TOKEN }));
    expect(res.json.code).toBe(40002);
    expect(res.text).not.toContain(TIKTOK_TOKEN);
    expect(mock.tiktok.requests()[0]?.tokenInBody).toBe(true);
    expect(everything(mock, [])).not.toContain(TIKTOK_TOKEN);
  });

  it('is checked before the payload, like a gateway would', async () => {
    mock = await startMockGraph({ tiktokAccessToken: TIKTOK_TOKEN });
    const res = await postTikTok(mock, { data: 'nonsense' }, { token: 'wrong' });
    expect(res.json.code).toBe(40105);
  });

  it("keeps Meta's token and TikTok's apart", async () => {
    mock = await startMockGraph({ accessToken: 'meta-token', tiktokAccessToken: TIKTOK_TOKEN });
    expect((await postTikTok(mock, tiktokBody(), { token: 'meta-token' })).json.code).toBe(40105);
  });
});
