import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type MockGraph, startMockGraph } from '@capi-kit/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  graphEnv,
  PIXEL,
  type RunResult,
  runBin,
  TIKTOK_PIXEL,
  TIKTOK_TOKEN,
  TOKEN,
  tiktokEnv,
} from './helpers.js';

// `capi-kit send-test` with TikTok, against the strict TikTok Events API mock that shares the
// mock Graph API's server (@capi-kit/testing): one track() through the core's client with a
// tiktok() destination, the answer classified by @capi-kit/tiktok's classifier.

let mock: MockGraph;
beforeAll(async () => {
  mock = await startMockGraph({ accessToken: TOKEN, tiktokAccessToken: TIKTOK_TOKEN });
});
beforeEach(() => {
  mock.reset();
  mock.tiktok.reset();
});
afterAll(() => mock.close());

const bothEnv = (extra: Record<string, string> = {}) => ({
  ...graphEnv(mock.url, { META_TEST_EVENT_CODE: 'TEST4242' }),
  ...tiktokEnv(mock.tiktok.url),
  ...extra,
});
const tiktokOnly = (extra: Record<string, string> = {}) => tiktokEnv(mock.tiktok.url, extra);

const expectNoTikTokToken = (result: RunResult, token = TIKTOK_TOKEN): void => {
  const printed = result.stdout + result.stderr;
  expect(printed).not.toContain(token);
  // Nor a recognisable piece of it.
  expect(printed).not.toContain(token.slice(4, 20));
};

describe('capi-kit send-test with TikTok configured', () => {
  it('sends one event to Meta and TikTok with one event_id, each with its test code', async () => {
    const result = await runBin(['send-test', '--event', 'Lead'], bothEnv());
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toContain('The mock Graph API accepted the test event');
    expect(result.stdout).toContain('The mock TikTok Events API accepted the test event');
    // TikTok's answer, classified.
    expect(result.stdout).toMatch(/code\s+0\n/);
    expect(result.stdout).toMatch(/message\s+OK\n/);
    expect(result.stdout).toMatch(/request_id\s+\d{14}[0-9A-F]{18}\n/);
    expect(result.stdout).toMatch(/class\s+success\n/);
    expect(result.stdout).toContain(`curl ${mock.url}/_mock/tiktok/events`);

    const [meta] = mock.events();
    const [tt] = mock.tiktok.events();
    expect(meta?.testEventCode).toBe('TEST4242');
    expect(tt).toMatchObject({ pixelCode: TIKTOK_PIXEL, testEventCode: 'TTTEST42' });
    // The whole point: the two copies share one event_id (and TikTok's carries TikTok's name).
    expect(tt?.event.event_id).toBe(meta?.event.event_id);
    expect(tt?.event.event).toBe('Lead');
    expect(result.stdout).toMatch(/event\s+Lead \(event_id capi-kit-test-[\w-]+\)\n/);
    expect(meta?.event.event_name).toBe('Lead');
    expect(result.stdout).toContain(`One event_id for both platforms: ${meta?.event.event_id}`);
    // A realistic event: hashed keys, a _ttp as a page with the Pixel gives one, IP, UA, page.
    const user = tt?.event.user as Record<string, unknown>;
    expect(Object.keys(user).sort()).toEqual(
      ['email', 'external_id', 'ip', 'phone', 'ttp', 'user_agent'].sort(),
    );
    // The token travels in the Access-Token header only.
    expect(mock.tiktok.requests()).toHaveLength(1);
    expect(mock.tiktok.requests()[0]).toMatchObject({
      hasAccessToken: true,
      tokenInUrl: false,
      tokenInBody: false,
      code: 0,
    });
    expectNoTikTokToken(result);
    expect(result.stdout + result.stderr).not.toContain(TOKEN);
  });

  it('prints both platforms in --json, with the one event_id', async () => {
    const result = await runBin(['send-test', '--json'], bothEnv());
    expect(result.code).toBe(0);
    const json = JSON.parse(result.stdout);
    expect(json).toMatchObject({
      ok: true,
      platforms: ['meta', 'tiktok'],
      eventName: 'Purchase',
      pixelId: PIXEL,
      testEventCode: 'TEST4242',
      eventsReceived: 1,
      mock: true,
      tiktok: {
        ok: true,
        pixelCode: TIKTOK_PIXEL,
        eventName: 'Purchase',
        testEventCode: 'TTTEST42',
        mock: true,
        class: 'success',
        status: 200,
        code: 0,
        message: 'OK',
      },
    });
    expect(json.tiktok.requestId).toBe(mock.tiktok.requests()[0]?.requestId);
    expect(mock.events()[0]?.event.event_id).toBe(json.eventId);
    expect(mock.tiktok.events()[0]?.event.event_id).toBe(json.eventId);
    expectNoTikTokToken(result);
  });

  it('--platform picks one; a TikTok-only setup needs no META_* at all', async () => {
    const onlyTikTok = await runBin(['send-test', '--platform', 'tiktok'], bothEnv());
    expect(onlyTikTok.code).toBe(0);
    expect(mock.requests()).toEqual([]);
    expect(mock.tiktok.events()).toHaveLength(1);
    expect(onlyTikTok.stdout).not.toContain('Graph');

    const onlyMeta = await runBin(['send-test', '--platform', 'meta'], bothEnv());
    expect(onlyMeta.code).toBe(0);
    expect(mock.events()).toHaveLength(1);
    expect(mock.tiktok.events()).toHaveLength(1);

    const noMeta = await runBin(['send-test', '--json'], tiktokOnly());
    expect(noMeta.code).toBe(0);
    const json = JSON.parse(noMeta.stdout);
    expect(json.platforms).toEqual(['tiktok']);
    expect(json).not.toHaveProperty('pixelId');
    expect(mock.tiktok.events()[1]?.event.event_id).toBe(json.eventId);
  });

  it('exits 1 when TikTok refuses the token (40105), and Meta still gets its copy', async () => {
    const wrong = 'tt-wrong-token-0123456789abcdef';
    const result = await runBin(['send-test'], bothEnv({ TIKTOK_ACCESS_TOKEN: wrong }));
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('The mock Graph API accepted the test event');
    expect(result.stdout).toContain(
      'TikTok did not accept the test event: TikTok refused the credentials',
    );
    expect(result.stdout).toMatch(/code\s+40105\n/);
    expect(result.stdout).toMatch(/class\s+auth\n/);
    expect(result.stdout).toMatch(/request_id\s+\S+/);
    // A TikTok refusal neither delays nor loses Meta's event.
    expect(mock.events()).toHaveLength(1);
    expect(mock.tiktok.events()).toEqual([]);
    expectNoTikTokToken(result, wrong);
  });

  it('names the field TikTok refused (40002, invalid) and exits 1', async () => {
    mock.tiktok.failNext({
      kind: 'tiktok',
      code: 40002,
      message: 'Invalid parameter data[0].properties.currency: it must be an ISO 4217 code.',
    });
    const result = await runBin(['send-test', '--json'], tiktokOnly());
    expect(result.code).toBe(1);
    const { tiktok } = JSON.parse(result.stdout);
    expect(tiktok).toMatchObject({ ok: false, class: 'invalid', code: 40002 });
    expect(tiktok.error).toContain('refused the event as invalid');
    expect(tiktok.error).toContain('data[0].properties.currency');
    // One event: nothing to bisect, one request.
    expect(mock.tiktok.requests()).toHaveLength(1);
  });

  it('exits 3 when TikTok throttles (40100), with its Retry-After', async () => {
    mock.tiktok.failNext({ kind: 'tiktok', code: 40100, retryAfterSeconds: 30 });
    const started = Date.now();
    const result = await runBin(['send-test'], tiktokOnly());
    expect(result.code).toBe(3);
    // It reports the wait; it does not sit through it.
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(result.stdout).toContain('TikTok is rate-limiting this token');
    expect(result.stdout).toMatch(/class\s+throttled\n/);
    expect(result.stdout).toMatch(/Retry-After\s+30 s\n/);
    expect(mock.tiktok.requests()).toHaveLength(1);
  });

  it('exits 3 on a 5xx page that is not TikTok’s envelope', async () => {
    mock.tiktok.failNext(503);
    const result = await runBin(['send-test', '--json'], tiktokOnly());
    expect(result.code).toBe(3);
    const { tiktok } = JSON.parse(result.stdout);
    expect(tiktok).toMatchObject({ ok: false, class: 'transient', status: 503 });
    expect(tiktok).not.toHaveProperty('code');
    expect(tiktok.error).toMatch(/HTTP 503 without TikTok's answer envelope: <!DOCTYPE html>/);
  });

  it('exits 3 when TikTok hangs past --timeout, and says it timed out', async () => {
    mock.tiktok.failNext('hang');
    const started = Date.now();
    const result = await runBin(['send-test', '--timeout', '1'], tiktokOnly());
    expect(result.code).toBe(3);
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(result.stdout).toContain(`could not reach ${mock.tiktok.url}`);
    expect(result.stdout).toContain('timed out');
    expect(mock.tiktok.requests()[0]).toMatchObject({ fault: 'hang', clientAborted: true });
  });

  it('redacts the token from anything TikTok echoes back', async () => {
    // A stand-in that quotes the token in its message, raw and JSON-escaped.
    mock.tiktok.failNext({
      kind: 'tiktok',
      code: 40105,
      message: `Access token ${TIKTOK_TOKEN} is not valid ("${TIKTOK_TOKEN}")`,
    });
    const text = await runBin(['send-test'], tiktokOnly());
    expect(text.code).toBe(1);
    expect(text.stdout).toContain('Access token [redacted] is not valid');
    expectNoTikTokToken(text);
    mock.tiktok.failNext({ kind: 'tiktok', code: 40105, message: `token=${TIKTOK_TOKEN}` });
    const json = await runBin(['send-test', '--json'], tiktokOnly());
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout).tiktok.message).toBe('token=[redacted]');
    expectNoTikTokToken(json);
  });

  it('prints what TikTok’s copy left out, and a local refusal of one platform spares the other', async () => {
    // A page URL TikTok refuses: @capi-kit/tiktok leaves it out of TikTok's copy with a warning,
    // and sends the rest; Meta's copy is refused locally (invalid_event_source_url).
    const tiktokAlone = await runBin(['send-test', '--json', '--url', 'not-a-url'], tiktokOnly());
    expect(tiktokAlone.code).toBe(0);
    const { tiktok } = JSON.parse(tiktokAlone.stdout);
    expect(tiktok).toMatchObject({ ok: true, class: 'success' });
    expect(tiktok.issues).toContainEqual(
      expect.objectContaining({ path: 'event_source_url', severity: 'warning' }),
    );
    expect(mock.tiktok.events()[0]?.event).not.toHaveProperty('page');

    const both = await runBin(['send-test', '--url', 'not-a-url'], bothEnv());
    expect(both.code).toBe(1);
    expect(both.stdout).toContain(
      'The test event was not accepted: the event failed local validation',
    );
    expect(both.stdout).toContain('invalid_event_source_url');
    expect(both.stdout).toContain('The mock TikTok Events API accepted the test event');
    expect(both.stdout).toMatch(/event_source_url \S+: .*not sent to TikTok/);
    expect(mock.requests()).toEqual([]);
    expect(mock.tiktok.events()).toHaveLength(2);
  });
});

describe('capi-kit send-test against a TikTok stand-in that echoes the token', () => {
  // What a proxy or an edge in front of TikTok might do: quote the Access-Token header back in an
  // HTML page, or redirect to a URL carrying it. Neither reaches the terminal.
  let server: Server;
  let base: string;
  beforeAll(async () => {
    server = createServer((req, res) => {
      const token = String(req.headers['access-token'] ?? '');
      req.resume();
      req.on('end', () => {
        if (req.url?.startsWith('/redirect')) {
          res.writeHead(302, {
            location: `https://tiktok.example/login?access_token=${encodeURIComponent(token)}&next=/`,
          });
          res.end();
          return;
        }
        res.writeHead(502, { 'content-type': 'text/html' });
        res.end(
          `<html><body><h1>502</h1><p>Upstream refused Access-Token: ${token}</p></body></html>`,
        );
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('prints the page, redacted, and exits 3', async () => {
    const result = await runBin(['send-test'], tiktokEnv(`${base}/open_api/v1.3/event/track/`));
    expect(result.code).toBe(3);
    expect(result.stdout).toContain(
      "HTTP 502 without TikTok's answer envelope: <html><body><h1>502</h1><p>Upstream refused Access-Token: [redacted]</p></body></html>",
    );
    expect(result.stdout).toMatch(/class\s+transient/);
    // Not the mock: nothing says so, and there is no mock to curl.
    expect(result.stdout).not.toContain('_mock');
    expectNoTikTokToken(result);
  });

  it('does not follow a redirect, says where it pointed, redacted', async () => {
    const result = await runBin(['send-test', '--json'], tiktokEnv(`${base}/redirect/track/`));
    // The URL is the user's to fix, as for Meta's redirects: exit 1, not 3.
    expect(result.code).toBe(1);
    const { tiktok } = JSON.parse(result.stdout);
    expect(tiktok.status).toBe(302);
    expect(tiktok.error).toBe(
      'HTTP 302 redirect to https://tiktok.example/login (not followed; check --tiktok-events-url / TIKTOK_EVENTS_URL)',
    );
    expectNoTikTokToken(result);
    expectNoTikTokToken(result, encodeURIComponent(TIKTOK_TOKEN));
    // Nothing of the query: a portal's session or signed return URL would be in it.
    expect(result.stdout).not.toContain('next=');
  });
});

describe('capi-kit send-test TikTok configuration errors exit 2 and name the variable', () => {
  const cases: { env: Record<string, string>; args?: string[]; names: string[] }[] = [
    { env: { TIKTOK_PIXEL_CODE: TIKTOK_PIXEL }, names: ['TIKTOK_ACCESS_TOKEN'] },
    { env: { TIKTOK_ACCESS_TOKEN: TIKTOK_TOKEN }, names: ['TIKTOK_PIXEL_CODE'] },
    {
      env: { TIKTOK_PIXEL_CODE: 'C4-not a code', TIKTOK_ACCESS_TOKEN: TIKTOK_TOKEN },
      names: ['TIKTOK_PIXEL_CODE is not a TikTok pixel code', 'letters and digits'],
    },
    {
      // A Meta pixel id where the TikTok code goes: @capi-kit/tiktok's own rule, checked up front.
      env: { TIKTOK_PIXEL_CODE: '1234567890', TIKTOK_ACCESS_TOKEN: TIKTOK_TOKEN },
      names: ['TIKTOK_PIXEL_CODE is not a TikTok pixel code', 'Meta pixel id'],
    },
    {
      env: { TIKTOK_PIXEL_CODE: TIKTOK_PIXEL, TIKTOK_ACCESS_TOKEN: 'tt token with spaces 0123' },
      names: ['TIKTOK_ACCESS_TOKEN:', 'HTTP header'],
    },
    {
      env: { TIKTOK_PIXEL_CODE: TIKTOK_PIXEL, TIKTOK_ACCESS_TOKEN: TIKTOK_TOKEN },
      args: ['--tiktok-pixel-code', 'bad!code'],
      names: ['--tiktok-pixel-code'],
    },
    {
      env: {
        TIKTOK_PIXEL_CODE: TIKTOK_PIXEL,
        TIKTOK_ACCESS_TOKEN: TIKTOK_TOKEN,
        TIKTOK_EVENTS_URL: 'http://127.0.0.1:9/open_api/v1.3/event/track/?access_token=x',
      },
      names: ['TIKTOK_EVENTS_URL', 'no query'],
    },
    {
      env: { TIKTOK_PIXEL_CODE: TIKTOK_PIXEL, TIKTOK_ACCESS_TOKEN: TIKTOK_TOKEN },
      names: ['TIKTOK_TEST_EVENT_CODE (or --tiktok-test-event-code)'],
    },
    {
      env: {},
      args: ['--platform', 'tiktok'],
      names: ['TIKTOK_PIXEL_CODE', 'TIKTOK_ACCESS_TOKEN'],
    },
    { env: {}, args: ['--platform', 'snapchat'], names: ['--platform', 'meta, tiktok or all'] },
    {
      // A flag for the platform --platform leaves out would be ignored, silently.
      env: {
        META_PIXEL_ID: '1234567890',
        META_ACCESS_TOKEN: 'EAAB-unreachable-0123456789',
        META_TEST_EVENT_CODE: 'T1',
        META_GRAPH_URL: 'http://127.0.0.1:9',
      },
      args: ['--platform', 'meta', '--tiktok-pixel-code', TIKTOK_PIXEL],
      names: ['--tiktok-pixel-code is a TikTok setting, and --platform meta leaves TikTok out'],
    },
    {
      env: {
        TIKTOK_PIXEL_CODE: TIKTOK_PIXEL,
        TIKTOK_ACCESS_TOKEN: TIKTOK_TOKEN,
        TIKTOK_TEST_EVENT_CODE: 'T2',
        TIKTOK_EVENTS_URL: 'http://127.0.0.1:9/open_api/v1.3/event/track/',
      },
      args: ['--platform', 'tiktok', '--pixel-id', '1234567890'],
      names: ['--pixel-id is a Meta setting, and --platform tiktok leaves Meta out'],
    },
  ];
  for (const { env, args = [], names } of cases) {
    it(`${Object.keys(env).join(', ') || 'no env'} ${args.join(' ')} → ${names[0]}`, async () => {
      const result = await runBin(['send-test', ...args], env);
      expect(result.code).toBe(2);
      for (const name of names) expect(result.stderr).toContain(name);
      expectNoTikTokToken(result);
      expect(mock.tiktok.requests()).toEqual([]);
    });
  }

  it('asks for TikTok’s test code before sending anything, pointing at --platform meta', async () => {
    const result = await runBin(['send-test'], bothEnv({ TIKTOK_TEST_EVENT_CODE: '' }));
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('TIKTOK_TEST_EVENT_CODE');
    expect(result.stderr).toContain('--platform meta');
    // Not even Meta's copy went out: configuration is checked first, for every platform.
    expect(mock.requests()).toEqual([]);
    expect(mock.tiktok.requests()).toEqual([]);
  });

  it('never quotes a pixel code it refuses: it may be the token, swapped', async () => {
    const token = 'a3f1c9e07b2d4e6f8a0b1c2d3e4f5a6b7c8d9e0f';
    const result = await runBin(['send-test'], {
      ...tiktokOnly(),
      TIKTOK_PIXEL_CODE: token,
      TIKTOK_ACCESS_TOKEN: TIKTOK_PIXEL,
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('swapped');
    expect(result.stdout + result.stderr).not.toContain(token);
    const doctor = await runBin(['doctor'], {
      ...tiktokOnly(),
      TIKTOK_PIXEL_CODE: token,
      TIKTOK_ACCESS_TOKEN: TIKTOK_PIXEL,
    });
    expect(doctor.code).toBe(1);
    expect(doctor.stdout).toContain('TikTok pixel (not set or invalid)');
    expect(doctor.stdout).toMatch(
      /✖ TikTok pixel code\s+TIKTOK_PIXEL_CODE is not a TikTok pixel code/,
    );
    expect(doctor.stdout + doctor.stderr).not.toContain(token);
    expect(mock.tiktok.requests()).toEqual([]);
  });

  it('never takes the token as a flag', async () => {
    const result = await runBin(
      ['send-test', '--tiktok-access-token', TIKTOK_TOKEN],
      tiktokOnly({ TIKTOK_ACCESS_TOKEN: '' }),
    );
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--tiktok-access-token');
    expect(mock.tiktok.requests()).toEqual([]);
  });
});
