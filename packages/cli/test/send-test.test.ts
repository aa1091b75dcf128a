import { type MockGraph, startMockGraph } from '@capi-kit/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { graphEnv, PIXEL, runBin, TOKEN } from './helpers.js';

let mock: MockGraph;
beforeAll(async () => {
  mock = await startMockGraph({ accessToken: TOKEN });
});
beforeEach(() => mock.reset());
afterAll(() => mock.close());

describe('capi-kit send-test', () => {
  it('sends one realistic test event and prints Meta’s answer', async () => {
    const result = await runBin(
      ['send-test', '--event', 'Purchase'],
      graphEnv(mock.url, { META_TEST_EVENT_CODE: 'TEST4242' }),
    );
    expect(result.code).toBe(0);
    // The mock says who it is (x-capi-kit-mock), so the CLI does not send the user to Events Manager.
    expect(result.stdout).toContain('The mock Graph API accepted the test event');
    expect(result.stdout).toContain(`This went to the mock Graph API at ${mock.url}, not to Meta`);
    expect(result.stdout).not.toContain('Look for it in Events Manager');
    expect(result.stdout).toMatch(/events_received\s+1/);
    expect(result.stdout).toMatch(/fbtrace_id\s+A\S+/);
    expect(result.stdout).toMatch(/messages\s+\(none\)/);
    const [event] = mock.events();
    expect(event).toMatchObject({ pixelId: PIXEL, testEventCode: 'TEST4242' });
    expect(event?.event.user_data).toHaveProperty('em');
    expect(mock.requests()[0]).toMatchObject({ tokenInUrl: false, partnerAgent: 'capi-kit-cli' });
    expect(result.stdout + result.stderr).not.toContain(TOKEN);
  });

  it('prints JSON with --json and takes the code from --test-event-code', async () => {
    const result = await runBin(
      ['send-test', '-e', 'Lead', '--test-event-code', 'TEST1', '--json'],
      graphEnv(mock.url),
    );
    expect(result.code).toBe(0);
    const json = JSON.parse(result.stdout);
    expect(json).toMatchObject({
      ok: true,
      eventName: 'Lead',
      testEventCode: 'TEST1',
      eventsReceived: 1,
      messages: [],
    });
    expect(mock.events({ event_name: 'Lead' })[0]?.event.event_id).toBe(json.eventId);
  });

  it('prints the core’s warnings on an event it sent anyway (a misspelled --event)', async () => {
    // `--event Purchse` went out as a custom event with nothing said; TikTok's warnings were shown.
    const result = await runBin(
      ['send-test', '--event', 'Purchse', '--test-event-code', 'TEST1'],
      graphEnv(mock.url),
    );
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('The mock Graph API accepted the test event');
    expect(result.stdout).toMatch(/event_name nonstandard_event_name: .*did you mean Purchase\?/);
    const json = JSON.parse(
      (
        await runBin(
          ['send-test', '-e', 'Purchse', '--test-event-code', 'T', '--json'],
          graphEnv(mock.url),
        )
      ).stdout,
    );
    expect(json.issues).toEqual([
      expect.objectContaining({ path: 'event_name', code: 'nonstandard_event_name' }),
    ]);
  });

  it('exits 1 with Meta’s error when the token is refused (190), without printing the token', async () => {
    const result = await runBin(
      ['send-test', '--test-event-code', 'TEST1'],
      graphEnv(mock.url, { META_ACCESS_TOKEN: 'EAAB-wrong-token-abcdef' }),
    );
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('190');
    expect(result.stdout + result.stderr).not.toContain('EAAB-wrong-token-abcdef');
    expect(mock.events()).toEqual([]);
  });

  it('exits 1 when the event fails local validation', async () => {
    const result = await runBin(
      ['send-test', '--test-event-code', 'T', '--url', 'not-a-url'],
      graphEnv(mock.url),
    );
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('invalid_event_source_url');
    expect(mock.requests()).toEqual([]);
  });

  it('exits 2 without a test event code or credentials, 3 without a reachable Graph', async () => {
    const noCode = await runBin(['send-test'], graphEnv(mock.url));
    expect(noCode.code).toBe(2);
    expect(noCode.stderr).toContain('META_TEST_EVENT_CODE (or --test-event-code)');
    const noToken = await runBin(['send-test', '--test-event-code', 'T'], { META_PIXEL_ID: PIXEL });
    expect(noToken.code).toBe(2);
    expect(noToken.stderr).toContain('META_ACCESS_TOKEN');
    const offline = await runBin(
      ['send-test', '--test-event-code', 'T'],
      graphEnv('http://127.0.0.1:9'),
    );
    expect(offline.code).toBe(3);
    expect(offline.stdout).toContain('could not reach');
  });
});
