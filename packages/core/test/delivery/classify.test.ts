import { describe, expect, it } from 'vitest';
import {
  classifyResponse,
  isMetaAcknowledgement,
  parseGraphError,
  parseRegainAccess,
  parseRetryAfter,
  type ResponseClass,
  rejectedEventIndex,
  retryDelayFromHeaders,
} from '../../src/delivery/classify.js';

const graph = (code: number, extra: Record<string, unknown> = {}) => ({
  error: { message: 'x', type: 'OAuthException', code, fbtrace_id: 'T', ...extra },
});

describe('classifyResponse', () => {
  // [status, body, headers, expected, why]
  const table: [number, unknown, Record<string, string> | undefined, ResponseClass, string][] = [
    [200, { events_received: 1, messages: [], fbtrace_id: 'A' }, undefined, 'success', '2xx'],
    [200, undefined, undefined, 'success', '2xx empty body'],
    [204, '', undefined, 'success', '2xx no content'],
    [0, undefined, undefined, 'transient', 'network error / timeout'],
    // Throttling: Meta answers with 400, the code wins.
    ...[4, 17, 32, 341, 368, 613, 80003, 80004].flatMap(
      (code) =>
        [
          [400, graph(code), undefined, 'throttled', `code ${code} @400`],
          [403, graph(code), undefined, 'throttled', `code ${code} @403`],
          [500, graph(code, { is_transient: true }), undefined, 'throttled', `code ${code} @500`],
        ] as [number, unknown, undefined, ResponseClass, string][],
    ),
    [400, graph(613, { error_subcode: 1487742 }), undefined, 'throttled', '613/1487742'],
    [400, graph(17, { error_subcode: 2446079 }), undefined, 'throttled', '17/2446079'],
    // Auth / permission
    ...[190, 102, 10, 3, 294, 200, 210, 250, 299].flatMap(
      (code) =>
        [
          [400, graph(code), undefined, 'auth', `code ${code} @400`],
          [403, graph(code), undefined, 'auth', `code ${code} @403`],
          [
            401,
            graph(code, { is_transient: true }),
            undefined,
            'auth',
            `code ${code} is_transient ignored`,
          ],
        ] as [number, unknown, undefined, ResponseClass, string][],
    ),
    [400, graph(190, { error_subcode: 463 }), undefined, 'auth', '190/463 expired token'],
    [
      400,
      graph(100, { error_subcode: 33 }),
      undefined,
      'auth',
      '100/33 object missing or no permission',
    ],
    [400, graph(100, { error_subcode: '33' }), undefined, 'auth', 'subcode as string'],
    [400, graph(199), undefined, 'transient', '199 is outside 200–299: a request-level code'],
    [400, graph(300), undefined, 'transient', '300 is outside 200–299: a request-level code'],
    // Transient codes and hints
    [500, graph(1), undefined, 'transient', 'code 1'],
    [500, graph(2), undefined, 'transient', 'code 2'],
    [400, graph(1), undefined, 'transient', 'code 1 even @400'],
    [
      400,
      graph(2, { is_transient: false }),
      undefined,
      'transient',
      'code 2 wins over is_transient:false',
    ],
    [
      400,
      graph(12345, { is_transient: true }),
      undefined,
      'transient',
      'unknown code, is_transient',
    ],
    [400, graph(100, { is_transient: true }), undefined, 'transient', '100 with is_transient hint'],
    // Invalid
    [400, graph(100), undefined, 'invalid', 'code 100'],
    [
      400,
      graph(100, { error_subcode: 2804019 }),
      undefined,
      'invalid',
      '100/2804019 parameter error',
    ],
    [
      400,
      graph(100, { error_subcode: 2804003 }),
      undefined,
      'invalid',
      '100/2804003 older than 7 days',
    ],
    [
      400,
      graph(100, { error_subcode: 2804050, is_transient: false }),
      undefined,
      'invalid',
      '100/2804050',
    ],
    [500, graph(100), undefined, 'invalid', 'code 100 wins over 5xx'],
    // Rejections that concern the request, not its events: retried, never bisected.
    [400, graph(12345), undefined, 'transient', 'unknown code @400'],
    [400, graph(2635), undefined, 'transient', 'deprecated API version (2635) @400'],
    [
      400,
      graph(100, { message: 'Invalid appsecret_proof provided in the API argument' }),
      undefined,
      'auth',
      'a wrong app secret (100, appsecret_proof)',
    ],
    [
      400,
      graph(100, { message: 'API calls from the server require an appsecret_proof argument' }),
      undefined,
      'auth',
      'a missing app secret (100, appsecret_proof)',
    ],
    [400, '<html>bad request</html>', undefined, 'transient', 'non-JSON 400'],
    [413, '', undefined, 'invalid', '413 body too large: split'],
    [422, undefined, undefined, 'transient', 'other 4xx'],
    [404, 'Not Found', undefined, 'transient', '404'],
    // Status fallbacks
    [429, undefined, undefined, 'throttled', 'HTTP 429'],
    [429, graph(12345), undefined, 'throttled', '429 with unknown code'],
    [
      400,
      undefined,
      {
        'x-business-use-case-usage':
          '{"1":[{"type":"ads_management","estimated_time_to_regain_access":5}]}',
      },
      'throttled',
      'BUC usage header with regain estimate',
    ],
    [
      400,
      undefined,
      { 'x-business-use-case-usage': '{"1":[{"estimated_time_to_regain_access":0}]}' },
      'transient',
      'BUC usage header without a wait',
    ],
    [401, undefined, undefined, 'auth', 'HTTP 401'],
    [403, '<html>forbidden</html>', undefined, 'auth', 'HTTP 403'],
    [408, undefined, undefined, 'transient', 'HTTP 408'],
    [500, '<html>oops</html>', undefined, 'transient', 'HTTP 500 html'],
    [502, undefined, undefined, 'transient', 'HTTP 502'],
    [503, 'Service Unavailable', { 'retry-after': '5' }, 'transient', 'HTTP 503'],
    [504, undefined, undefined, 'transient', 'HTTP 504'],
    [500, graph(12345), undefined, 'transient', 'unknown code @500'],
    [200, graph(12345), undefined, 'transient', '2xx carrying an unknown error'],
    [200, graph(190), undefined, 'auth', '2xx carrying an auth error'],
    [302, undefined, undefined, 'transient', 'unexpected 3xx'],
    [500, JSON.stringify(graph(4)), undefined, 'throttled', 'body as JSON text'],
  ];

  it.each(table)('%i %j %j → %s (%s)', (status, body, headers, expected) => {
    expect(classifyResponse(status, body, headers)).toBe(expected);
  });

  // Given the number of events sent, a 2xx is a delivery only when it is Meta's acknowledgement.
  const acknowledgements: [number, unknown, ResponseClass, string][] = [
    [200, { events_received: 3, messages: [], fbtrace_id: 'A' }, 'success', "Meta's answer"],
    [200, { events_received: 2, fbtrace_id: 'A' }, 'transient', 'short count'],
    [200, { events_received: 4 }, 'transient', 'count above the events sent'],
    [200, { events_received: '3' }, 'transient', 'count as a string'],
    [200, {}, 'transient', '{} from a proxy'],
    [200, undefined, 'transient', 'empty body'],
    [200, '<html>Welcome to the hotel Wi-Fi</html>', 'transient', 'captive portal'],
    [200, '{"events_rec', 'transient', 'truncated JSON'],
    [200, [3], 'transient', 'an array'],
    [204, undefined, 'transient', '204 no content'],
    [302, undefined, 'transient', 'a redirect (not followed)'],
    [200, graph(100), 'invalid', 'an error object still classifies as the error'],
  ];

  it.each(acknowledgements)('%i %j with 3 sent → %s (%s)', (status, body, expected) => {
    expect(classifyResponse(status, body, undefined, 3)).toBe(expected);
  });

  it('accepts Headers objects', () => {
    const headers = new Headers({
      'X-Business-Use-Case-Usage': '{"9":[{"estimated_time_to_regain_access":2}]}',
    });
    expect(classifyResponse(400, undefined, headers)).toBe('throttled');
  });
});

describe('parseGraphError', () => {
  it('reads every field', () => {
    expect(
      parseGraphError({
        error: {
          message: 'Invalid parameter',
          type: 'OAuthException',
          code: 100,
          error_subcode: 2804019,
          is_transient: false,
          error_user_title: 'T',
          error_user_msg: 'M',
          fbtrace_id: 'F',
        },
      }),
    ).toEqual({
      message: 'Invalid parameter',
      type: 'OAuthException',
      code: 100,
      subcode: 2804019,
      isTransient: false,
      userTitle: 'T',
      userMessage: 'M',
      fbtraceId: 'F',
    });
  });
  it.each([undefined, null, 'text', '{"x":1}', { error: 'x' }, [], 42])(
    'is undefined for %j',
    (body) => {
      expect(parseGraphError(body)).toBeUndefined();
    },
  );
  it('ignores wrongly typed fields', () => {
    expect(parseGraphError({ error: { code: 'abc', is_transient: 'yes', message: 3 } })).toEqual(
      {},
    );
  });
});

describe('parseRetryAfter', () => {
  const now = Date.parse('2026-09-12T10:00:00Z');
  it.each([
    ['5', 5000],
    ['0', 0],
    [' 120 ', 120_000],
    ['1.5', 1500],
    ['Sat, 12 Sep 2026 10:00:30 GMT', 30_000],
    ['Sat, 12 Sep 2026 09:59:00 GMT', 0],
  ])('%j → %i ms', (value, ms) => {
    expect(parseRetryAfter(value, now)).toBe(ms);
  });
  it.each([undefined, '', 'soon', '-5'])('%j → undefined', (value) => {
    expect(parseRetryAfter(value, now)).toBeUndefined();
  });
});

describe('retryDelayFromHeaders', () => {
  it('prefers Retry-After over the usage estimate', () => {
    expect(
      retryDelayFromHeaders(
        {
          'Retry-After': '3',
          'x-business-use-case-usage': '{"1":[{"estimated_time_to_regain_access":10}]}',
        },
        0,
      ),
    ).toBe(3000);
  });
  it('falls back to estimated_time_to_regain_access (minutes)', () => {
    expect(
      retryDelayFromHeaders(
        {
          'x-business-use-case-usage':
            '{"1":[{"estimated_time_to_regain_access":1},{"estimated_time_to_regain_access":4}]}',
        },
        0,
      ),
    ).toBe(240_000);
    expect(
      parseRegainAccess({
        'x-app-usage': '{"call_count":100,"estimated_time_to_regain_access":2}',
      }),
    ).toBe(120_000);
  });
  it('ignores malformed usage headers', () => {
    expect(retryDelayFromHeaders({ 'x-business-use-case-usage': '{not json' }, 0)).toBeUndefined();
    expect(retryDelayFromHeaders(undefined, 0)).toBeUndefined();
  });
});

describe('isMetaAcknowledgement', () => {
  it('needs an object whose events_received equals the events sent', () => {
    expect(isMetaAcknowledgement({ events_received: 1000 }, 1000)).toBe(true);
    expect(isMetaAcknowledgement({ events_received: 999 }, 1000)).toBe(false);
    expect(isMetaAcknowledgement(null, 0)).toBe(false);
  });
});

describe('rejectedEventIndex', () => {
  const error = (userMessage: string, message = 'Invalid parameter') => ({
    code: 100,
    subcode: 2804019,
    message,
    userMessage,
  });
  it.each([
    ["The parameter $['data'][0]['event_time'] is required.", 10, 0],
    ["The parameter $['data'][7]['custom_data']['currency'] is required.", 10, 7],
    ['The parameter $["data"][3]["user_data"] is invalid.', 10, 3],
    ['Invalid value at data[4].event_name', 10, 4],
    ["The parameter $['data'][12]['event_time'] is required.", 10, undefined],
    ['Invalid parameter', 10, undefined],
    ["$['metadata'][2] is wrong", 10, undefined],
  ])('%s (%i sent) → %s', (text, sent, expected) => {
    expect(rejectedEventIndex(error(text), sent)).toBe(expected);
  });
  it('reads the message when error_user_msg names nothing', () => {
    expect(rejectedEventIndex(error('', "$['data'][2]['event_id']"), 5)).toBe(2);
    expect(rejectedEventIndex(undefined, 5)).toBeUndefined();
  });
});
