import { afterEach, describe, expect, it } from 'vitest';
import { appsecretProof, type MockGraph, startMockGraph } from '../src/index.js';
import { post, TOKEN, validEvent } from './fixtures.js';

let mock: MockGraph;
afterEach(() => mock.close());

const body = () => ({ data: [validEvent()] });

describe('access token', () => {
  it('rejects a request without a token with 190 and WWW-Authenticate', async () => {
    mock = await startMockGraph();
    const res = await post(mock, body(), { token: null });
    expect(res.status).toBe(400);
    expect(res.json.error).toMatchObject({ type: 'OAuthException', code: 190 });
    expect(res.json.error.fbtrace_id).toEqual(expect.any(String));
    expect(res.headers.get('www-authenticate')).toContain('invalid_token');
    expect(mock.events()).toEqual([]);
    expect(mock.requests()[0]?.tokenSources).toEqual([]);
  });

  it.each([
    ['body', ['body'], false, false],
    ['header', ['header'], false, true],
    ['query', ['query'], true, false],
  ] as const)(
    'accepts the token in the %s and records where it was',
    async (tokenIn, sources, inUrl, header) => {
      mock = await startMockGraph({ accessToken: TOKEN });
      const res = await post(mock, body(), { tokenIn });
      expect(res.status).toBe(200);
      expect(mock.requests()[0]).toMatchObject({
        tokenSources: sources,
        tokenInUrl: inUrl,
        hasAuthorizationHeader: header,
      });
    },
  );

  it('never stores the token itself, and keeps the query string out of the recorded path', async () => {
    mock = await startMockGraph();
    await post(mock, body(), { tokenIn: 'query' });
    await post(mock, body(), { tokenIn: 'header' });
    await post(mock, body(), { tokenIn: 'body' });
    const recorded = JSON.stringify([mock.requests(), mock.events(), mock.rejections()]);
    expect(recorded).not.toContain(TOKEN);
    expect(mock.requests()[0]?.path).not.toContain('?');
    expect(mock.events()[0]?.event).not.toHaveProperty('access_token');
  });

  it('rejects a token that does not match options.accessToken', async () => {
    mock = await startMockGraph({ accessToken: TOKEN });
    const res = await post(mock, body(), { token: 'someone-else', tokenIn: 'header' });
    expect(res.status).toBe(400);
    expect(res.json.error.code).toBe(190);
  });

  it('rejects two different tokens in one request', async () => {
    mock = await startMockGraph();
    const res = await post(mock, body(), {
      tokenIn: 'body',
      headers: { authorization: 'Bearer other' },
    });
    expect(res.json.error.code).toBe(190);
    expect(res.json.error.message).toContain('Conflicting');
  });

  it('checks the token before the payload, like Meta', async () => {
    mock = await startMockGraph({ accessToken: TOKEN });
    const res = await post(mock, { data: [] }, { token: 'wrong' });
    expect(res.json.error.code).toBe(190);
  });
});

describe('appsecret_proof', () => {
  const APP_SECRET = 'app-secret';

  it('computes HMAC-SHA256(appSecret, token) hex', () => {
    // Known answer from `printf %s EAAB-test-token | openssl dgst -sha256 -hmac app-secret`.
    expect(appsecretProof(APP_SECRET, TOKEN)).toBe(
      '49efda963bd3f270b60282f2251506579fe399c7f554045f03b3e54c08cb6ec1',
    );
    expect(appsecretProof(APP_SECRET, TOKEN)).not.toBe(appsecretProof(APP_SECRET, 'other'));
  });

  it('is required when appSecret is set', async () => {
    mock = await startMockGraph({ appSecret: APP_SECRET });
    const res = await post(mock, body());
    expect(res.status).toBe(400);
    expect(res.json.error).toMatchObject({ code: 100, is_transient: false });
    expect(res.json.error.message).toContain('appsecret_proof');
  });

  it('must be right', async () => {
    mock = await startMockGraph({ appSecret: APP_SECRET });
    const res = await post(mock, { ...body(), appsecret_proof: appsecretProof('wrong', TOKEN) });
    expect(res.json.error.code).toBe(100);
    expect(res.json.error.message).toContain('Invalid appsecret_proof');
  });

  it('passes when it matches the token (body token or header token)', async () => {
    mock = await startMockGraph({ appSecret: APP_SECRET, accessToken: TOKEN });
    const proof = appsecretProof(APP_SECRET, TOKEN);
    expect((await post(mock, { ...body(), appsecret_proof: proof })).status).toBe(200);
    expect(
      (await post(mock, { ...body(), appsecret_proof: proof }, { tokenIn: 'header' })).status,
    ).toBe(200);
  });
});
