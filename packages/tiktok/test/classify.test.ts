import { classifyTikTokResponse, parseTikTokBody } from '@capi-kit/tiktok';
import { describe, expect, it } from 'vitest';

const NOW = Date.UTC(2026, 11, 4, 12, 0, 0);

describe('classifyTikTokResponse', () => {
  it.each([
    [0, undefined, 'transient'],
    [200, { code: 0, message: 'OK', request_id: 'r', data: {} }, 'success'],
    [200, '{"code":0,"message":"OK"}', 'success'],
    [200, { code: '0', message: 'OK' }, 'success'],
    [500, { code: 0 }, 'transient'],
    [200, { code: 40100, message: 'Too many requests' }, 'throttled'],
    [
      200,
      { code: 40100, message: 'App 7 reaches the QPS limit 10, current QPS is 12' },
      'throttled',
    ],
    [200, { code: 40100 }, 'throttled'],
    // 40100 as some pages read it, a token TikTok no longer accepts: its message says so.
    [200, { code: 40100, message: 'Access token is invalid or has expired' }, 'auth'],
    [200, { code: 40100, message: 'Authentication failed' }, 'auth'],
    [200, { code: 40001, message: 'No permission' }, 'auth'],
    [200, { code: 40007, message: 'Pixel does not exist' }, 'auth'],
    [200, { code: 40102, message: 'Access token expired' }, 'auth'],
    [200, { code: 40105, message: 'Access token is incorrect' }, 'auth'],
    [200, { code: 40002, message: 'Invalid parameters' }, 'invalid'],
    // A code TikTok's table does not name ([CODES]): transient, retried until retry.maxAttempts.
    [200, { code: 40050 }, 'transient'],
    [200, { code: 40000, message: 'Invalid value for event_source_id' }, 'transient'],
    [200, { code: 40106 }, 'transient'],
    [200, { code: 40199 }, 'transient'],
    [200, { code: 40300 }, 'transient'],
    [400, { code: 49999 }, 'transient'],
    [200, { code: 40101, message: 'Authentication failed' }, 'auth'],
    // The request itself, not an event: splitting the batch cannot help (auth: stop, keep events).
    [200, { code: 40002, message: 'test_event_code: must be a non-empty string' }, 'auth'],
    [200, { code: 40002, message: 'Invalid value for event_source_id' }, 'auth'],
    [200, { code: 40002, message: 'data[3].event_source_id: not allowed here' }, 'invalid'],
    [200, { code: 40002, message: 'data.user.email: must be a SHA-256 hash' }, 'invalid'],
    [200, { code: 50000, message: 'Internal error' }, 'transient'],
    [200, { code: 51234 }, 'transient'],
    [200, { code: 12345 }, 'transient'],
    [200, undefined, 'transient'],
    [200, {}, 'transient'],
    [200, '<html>captive portal</html>', 'transient'],
    [200, { code: 1.5 }, 'transient'],
    [429, undefined, 'throttled'],
    [401, '', 'auth'],
    [403, 'Forbidden', 'auth'],
    [413, 'Payload Too Large', 'invalid'],
    [502, '<html>Bad gateway</html>', 'transient'],
    [302, undefined, 'transient'],
    // A gateway's JSON page echoing its status is not TikTok's envelope: the status decides.
    [429, { code: 429, message: 'Too Many Requests' }, 'throttled'],
    [401, { code: 401, message: 'Unauthorized' }, 'auth'],
    [413, { code: 413, message: 'Request Entity Too Large' }, 'invalid'],
    [503, { code: 503, message: 'Service Unavailable' }, 'transient'],
  ])('status %i with %j → %s', (status, body, expected) => {
    expect(classifyTikTokResponse({ status, body }, NOW).class).toBe(expected);
  });

  it('lets TikTok’s code win over the HTTP status', () => {
    expect(classifyTikTokResponse({ status: 429, body: { code: 40002 } }).class).toBe('invalid');
    expect(classifyTikTokResponse({ status: 400, body: { code: 40100 } }).class).toBe('throttled');
  });

  it('reports code, message and request_id', () => {
    expect(
      classifyTikTokResponse({
        status: 200,
        body: { code: 40002, message: 'bad', request_id: 'req-9' },
      }),
    ).toEqual({ class: 'invalid', code: 40002, message: 'bad', requestId: 'req-9' });
  });

  it('reads Retry-After from Headers or a plain object, on failures only', () => {
    expect(
      classifyTikTokResponse({ status: 429, headers: new Headers({ 'Retry-After': '7' }) }, NOW)
        .retryAfterMs,
    ).toBe(7000);
    expect(
      classifyTikTokResponse(
        {
          status: 200,
          body: { code: 40100 },
          headers: { 'retry-after': new Date(NOW + 30_000).toUTCString() },
        },
        NOW,
      ).retryAfterMs,
    ).toBe(30_000);
    expect(
      classifyTikTokResponse(
        { status: 200, body: { code: 0 }, headers: { 'retry-after': '5' } },
        NOW,
      ),
    ).toEqual({ class: 'success', code: 0 });
  });
});

describe('parseTikTokBody', () => {
  it('reads the envelope and nothing else', () => {
    expect(parseTikTokBody('{"code":40002,"message":"m","request_id":"r"}')).toEqual({
      code: 40002,
      message: 'm',
      request_id: 'r',
    });
    expect(parseTikTokBody('{')).toBeUndefined();
    expect(parseTikTokBody([{ code: 0 }])).toBeUndefined();
    expect(parseTikTokBody({ code: 'x' })).toBeUndefined();
    expect(parseTikTokBody({ code: 429, message: 'Too Many Requests' })).toBeUndefined();
    expect(parseTikTokBody(null)).toBeUndefined();
  });
});
