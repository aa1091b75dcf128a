import { type MockGraph, startMockGraph } from '@capi-kit/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { graphEnv, runBin, TIKTOK_PIXEL, TIKTOK_TOKEN, TOKEN, tiktokEnv } from './helpers.js';

let mock: MockGraph;
beforeAll(async () => {
  mock = await startMockGraph({ accessToken: TOKEN, tiktokAccessToken: TIKTOK_TOKEN });
});
beforeEach(() => {
  mock.reset();
  mock.tiktok.reset();
});
afterAll(() => mock.close());

type Check = { name: string; status: string; message: string };
const statuses = (stdout: string): Record<string, string> =>
  Object.fromEntries((JSON.parse(stdout).checks as Check[]).map((c) => [c.name, c.status]));
const check = (stdout: string, name: string): Check | undefined =>
  (JSON.parse(stdout).checks as Check[]).find((c) => c.name === name);

/** TikTok's variables without a test event code: the doctor then sends nothing. */
const tiktokConfigOnly = (extra: Record<string, string> = {}) => {
  const { TIKTOK_TEST_EVENT_CODE: _, ...env } = tiktokEnv(mock.tiktok.url);
  return { ...env, ...extra };
};

describe('capi-kit doctor with TikTok configured', () => {
  it('adds a TikTok section to Meta’s checks and sends nothing without a test event code', async () => {
    const result = await runBin(['doctor', '--json'], {
      ...graphEnv(mock.url),
      ...tiktokConfigOnly(),
    });
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(statuses(result.stdout)).toEqual({
      'access token': 'ok',
      // The mock's pixel has received nothing yet: Meta's warnings, unchanged by TikTok's section.
      pixel: 'warn',
      'API version': 'ok',
      clock: 'ok',
      'dataset quality': 'warn',
      'TikTok pixel code': 'ok',
      'TikTok access token': 'ok',
      'TikTok endpoint': 'ok',
      'TikTok test event': 'skip',
    });
    expect(check(result.stdout, 'TikTok test event')?.message).toContain(
      'TikTok documents no read-only check of an Events API token',
    );
    // Side-effect free: not one request to TikTok's endpoint.
    expect(mock.tiktok.requests()).toEqual([]);
    const json = JSON.parse(result.stdout);
    expect(json.platforms).toEqual(['meta', 'tiktok']);
    expect(json.tiktok).toEqual({
      pixelCode: TIKTOK_PIXEL,
      eventsUrl: mock.tiktok.url,
      testEvent: null,
    });
    expect(result.stdout + result.stderr).not.toContain(TIKTOK_TOKEN);
  });

  it('sends one labelled test event with TIKTOK_TEST_EVENT_CODE, and takes the clock from TikTok alone', async () => {
    const result = await runBin(['doctor'], tiktokEnv(mock.tiktok.url));
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toContain(
      `TikTok pixel ${TIKTOK_PIXEL}, Events API at ${mock.tiktok.url}`,
    );
    expect(result.stdout).not.toContain('Graph');
    expect(result.stdout).toMatch(
      /✔ TikTok test event\s+sent one test event \(test_event_code TTTEST42\): the mock TikTok Events API accepted it, code 0, request_id \S+/,
    );
    expect(result.stdout).toMatch(/✔ clock\s+in sync with TikTok's clock/);
    expect(result.stdout).toContain('5 passed, 0 warnings, 0 failed');
    // Meta was not configured, so not asked; TikTok got exactly one test event.
    expect(mock.requests()).toEqual([]);
    expect(mock.tiktok.events()).toHaveLength(1);
    expect(mock.tiktok.events()[0]).toMatchObject({ testEventCode: 'TTTEST42' });
    expect(mock.tiktok.requests()[0]).toMatchObject({ tokenInUrl: false, tokenInBody: false });
    expect(result.stdout + result.stderr).not.toContain(TIKTOK_TOKEN);
  });

  it('fails on a refused token, warns on a throttle (fails with --strict)', async () => {
    const wrong = 'tt-doctor-wrong-token-0123456789';
    const refused = await runBin(
      ['doctor', '--json'],
      tiktokEnv(mock.tiktok.url, { TIKTOK_ACCESS_TOKEN: wrong }),
    );
    expect(refused.code).toBe(1);
    const test = check(refused.stdout, 'TikTok test event');
    expect(test?.status).toBe('fail');
    expect(test?.message).toContain('refused the credentials');
    expect(test?.message).toContain('code 40105');
    expect(JSON.parse(refused.stdout).tiktok.testEvent).toMatchObject({
      class: 'auth',
      code: 40105,
    });
    expect(refused.stdout + refused.stderr).not.toContain(wrong);

    mock.tiktok.failNext('throttle');
    const throttled = await runBin(['doctor'], tiktokEnv(mock.tiktok.url));
    expect(throttled.code).toBe(0);
    expect(throttled.stdout).toMatch(/⚠ TikTok test event\s+.*rate-limiting/);
    mock.tiktok.failNext('throttle');
    expect((await runBin(['doctor', '--strict'], tiktokEnv(mock.tiktok.url))).code).toBe(1);
  });

  it('takes the clock from TikTok’s Date header when Meta is not checked', async () => {
    // The mock's TikTok answers carry the real clock; a scripted answer carries one 10 min back.
    mock.tiktok.failNext({
      kind: 'tiktok',
      code: 40100,
      headers: { date: new Date(Date.now() - 10 * 60_000).toUTCString() },
    });
    const result = await runBin(['doctor', '--json'], tiktokEnv(mock.tiktok.url));
    expect(result.code).toBe(1);
    const clock = check(result.stdout, 'clock');
    expect(clock?.status).toBe('fail');
    expect(clock?.message).toMatch(/local clock is (59\d|6\d\d) s ahead of TikTok's/);
    // With Meta checked too, the one clock check is Graph's.
    mock.tiktok.failNext({
      kind: 'tiktok',
      code: 40100,
      headers: { date: new Date(Date.now() - 10 * 60_000).toUTCString() },
    });
    const both = await runBin(['doctor', '--json'], {
      ...graphEnv(mock.url),
      ...tiktokEnv(mock.tiktok.url),
    });
    const clocks = (JSON.parse(both.stdout).checks as Check[]).filter((c) => c.name === 'clock');
    expect(clocks).toHaveLength(1);
    expect(clocks[0]?.message).toContain("Graph's clock");
  });

  it('fails an unreachable endpoint as a check, and the rest still report', async () => {
    const result = await runBin(
      ['doctor', '--json'],
      tiktokEnv('http://127.0.0.1:9/open_api/v1.3/event/track/'),
    );
    expect(result.code).toBe(1);
    expect(check(result.stdout, 'TikTok test event')?.message).toContain(
      'could not reach http://127.0.0.1:9/open_api/v1.3/event/track/',
    );
    expect(check(result.stdout, 'TikTok pixel code')?.status).toBe('ok');
  });

  it('reports configuration problems as failed checks and sends nothing', async () => {
    const noToken = await runBin(['doctor', '--json'], {
      TIKTOK_PIXEL_CODE: TIKTOK_PIXEL,
      TIKTOK_EVENTS_URL: mock.tiktok.url,
      TIKTOK_TEST_EVENT_CODE: 'T1',
    });
    expect(noToken.code).toBe(1);
    expect(statuses(noToken.stdout)).toMatchObject({
      'TikTok pixel code': 'ok',
      'TikTok access token': 'fail',
      'TikTok test event': 'skip',
      clock: 'skip',
    });
    const badCode = await runBin(
      ['doctor', '--json', '--tiktok-pixel-code', 'not a code'],
      tiktokEnv(mock.tiktok.url),
    );
    expect(badCode.code).toBe(1);
    expect(check(badCode.stdout, 'TikTok pixel code')).toMatchObject({ status: 'fail' });
    expect(check(badCode.stdout, 'TikTok pixel code')?.message).toContain('--tiktok-pixel-code');
    const badUrl = await runBin(['doctor', '--json'], tiktokEnv('ftp://tiktok.example/track'));
    expect(check(badUrl.stdout, 'TikTok endpoint')?.message).toContain('TIKTOK_EVENTS_URL');
    // Plain http to another host would carry the token unencrypted: a warning.
    const plain = await runBin(
      ['doctor', '--json'],
      tiktokConfigOnly({ TIKTOK_EVENTS_URL: 'http://tiktok.example/open_api/v1.3/event/track/' }),
    );
    expect(check(plain.stdout, 'TikTok endpoint')).toMatchObject({ status: 'warn' });
    expect(mock.tiktok.requests()).toEqual([]);
  });
});
