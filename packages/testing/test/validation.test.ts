import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type MockGraph, startMockGraph } from '../src/index.js';
import { nowSeconds, post, sha256, validEvent } from './fixtures.js';

let mock: MockGraph;
beforeAll(async () => {
  mock = await startMockGraph();
});
beforeEach(() => mock.reset());
afterAll(() => mock.close());

const DAY = 86_400;
const HASH = sha256('x');
const PARAM = 2804019;
const TOO_OLD = 2804003;
const INSUFFICIENT = 2804050;

type Event = Record<string, unknown>;
const withUserData = (userData: Record<string, unknown>): Event => {
  const event = validEvent();
  return { ...event, user_data: { ...(event.user_data as Event), ...userData } };
};
const withCustomData = (customData: Record<string, unknown> | undefined): Event =>
  validEvent({ custom_data: customData });

// [name, the invalid event, subcode, path in Meta's notation, dotted field]
const INVALID: [string, Event, number, string][] = [
  [
    'event_name missing',
    validEvent({ event_name: undefined }),
    PARAM,
    "['event_name'] is required",
  ],
  ['event_name empty', validEvent({ event_name: '  ' }), PARAM, "['event_name'] is invalid"],
  [
    'event_time missing',
    validEvent({ event_time: undefined }),
    PARAM,
    "['event_time'] is required",
  ],
  ['event_time in ms', validEvent({ event_time: Date.now() }), PARAM, 'milliseconds'],
  [
    'event_time fractional',
    validEvent({ event_time: nowSeconds() + 0.5 }),
    PARAM,
    "['event_time'] is invalid",
  ],
  [
    'event_time as string',
    validEvent({ event_time: String(nowSeconds()) }),
    PARAM,
    "['event_time'] is invalid",
  ],
  [
    'event_time in the future',
    validEvent({ event_time: nowSeconds() + 3600 }),
    PARAM,
    'in the future',
  ],
  ['event_time 8 days old', validEvent({ event_time: nowSeconds() - 8 * DAY }), TOO_OLD, '7 days'],
  [
    'physical_store event_time 63 days old',
    validEvent({ action_source: 'physical_store', event_time: nowSeconds() - 63 * DAY }),
    TOO_OLD,
    '62 days',
  ],
  [
    'action_source missing',
    validEvent({ action_source: undefined }),
    PARAM,
    "['action_source'] is required",
  ],
  [
    'action_source unknown',
    validEvent({ action_source: 'web' }),
    PARAM,
    "['action_source'] is invalid",
  ],
  ['event_id not a string', validEvent({ event_id: 42 }), PARAM, "['event_id'] is invalid"],
  ['opt_out not a boolean', validEvent({ opt_out: 'yes' }), PARAM, "['opt_out'] is invalid"],
  ['user_data missing', validEvent({ user_data: undefined }), PARAM, "['user_data'] is required"],
  ['user_data not an object', validEvent({ user_data: [] }), PARAM, "['user_data'] is invalid"],
  [
    'em unhashed',
    withUserData({ em: 'john@example.com' }),
    PARAM,
    "['user_data']['em'] is invalid",
  ],
  ['em uppercase hex', withUserData({ em: HASH.toUpperCase() }), PARAM, 'lowercase'],
  [
    'em list with an unhashed item',
    withUserData({ em: [HASH, 'x@y.z'] }),
    PARAM,
    "['em'][1] is invalid",
  ],
  ['em empty list', withUserData({ em: [] }), PARAM, "['user_data']['em'] is invalid"],
  ['ph a number', withUserData({ ph: 16505551212 }), PARAM, "['user_data']['ph'] is invalid"],
  ['em the hash of an empty string', withUserData({ em: sha256('') }), PARAM, 'empty string'],
  [
    'external_id unhashed',
    withUserData({ external_id: 'user-1' }),
    PARAM,
    "['external_id'] is invalid",
  ],
  [
    'hash with a too-long appendix',
    withUserData({ em: `${HASH}.AQQCAQIBX` }),
    PARAM,
    "['em'] is invalid",
  ],
  [
    'client_ip_address invalid',
    withUserData({ client_ip_address: '300.1.1.1' }),
    PARAM,
    "['client_ip_address'] is invalid",
  ],
  [
    'client_ip_address hashed',
    withUserData({ client_ip_address: HASH }),
    PARAM,
    "['client_ip_address'] is invalid",
  ],
  [
    'client_ip_address with a space',
    withUserData({ client_ip_address: ' 1.2.3.4' }),
    PARAM,
    "['client_ip_address'] is invalid",
  ],
  [
    'client_user_agent empty',
    withUserData({ client_user_agent: '' }),
    PARAM,
    "['client_user_agent'] is invalid",
  ],
  ['client_user_agent hashed', withUserData({ client_user_agent: HASH }), PARAM, 'unhashed'],
  ['fbc malformed', withUserData({ fbc: 'abc' }), PARAM, "['user_data']['fbc'] is invalid"],
  ['fbc hashed', withUserData({ fbc: HASH }), PARAM, 'unhashed'],
  [
    'fbp two-digit subdomain index',
    withUserData({ fbp: 'fb.12.1700000000000.1' }),
    PARAM,
    "['fbp'] is invalid",
  ],
  [
    'unknown user_data key',
    withUserData({ email: HASH }),
    PARAM,
    'not a known user_data parameter',
  ],
  [
    'fb_login_id not an integer',
    withUserData({ fb_login_id: 'abc' }),
    PARAM,
    "['fb_login_id'] is invalid",
  ],
  [
    'website without client_user_agent',
    validEvent({ user_data: { em: HASH } }),
    PARAM,
    "['user_data']['client_user_agent'] is required",
  ],
  [
    'website without event_source_url',
    validEvent({ event_source_url: undefined }),
    PARAM,
    "['event_source_url'] is required",
  ],
  [
    'event_source_url not a URL',
    validEvent({ event_source_url: '/checkout' }),
    PARAM,
    "['event_source_url'] is invalid",
  ],
  [
    'user_data empty',
    validEvent({ action_source: 'system_generated', user_data: {} }),
    INSUFFICIENT,
    'at least one',
  ],
  [
    'user_data too broad (location + UA only)',
    validEvent({ user_data: { ct: HASH, country: HASH, client_user_agent: 'UA' } }),
    INSUFFICIENT,
    'too broad',
  ],
  [
    'user_data too broad (fn + ge)',
    validEvent({ action_source: 'email', user_data: { fn: HASH, ge: HASH } }),
    INSUFFICIENT,
    'too broad',
  ],
  ['Purchase without custom_data', withCustomData(undefined), PARAM, "['custom_data'] is required"],
  [
    'Purchase without value',
    withCustomData({ currency: 'USD' }),
    PARAM,
    "['custom_data']['value'] is required",
  ],
  [
    'Purchase without currency',
    withCustomData({ value: 1 }),
    PARAM,
    "['custom_data']['currency'] is required",
  ],
  [
    'value as a string',
    withCustomData({ value: '10', currency: 'USD' }),
    PARAM,
    "['value'] is invalid",
  ],
  [
    'currency not 3 letters',
    withCustomData({ value: 1, currency: 'US$' }),
    PARAM,
    "['currency'] is invalid",
  ],
  // [CD]: ISO 4217. Three letters that name no currency passed the mock (RMB for CNY, a typo).
  [
    'currency not ISO 4217',
    withCustomData({ value: 1, currency: 'RMB' }),
    PARAM,
    "['currency'] is invalid",
  ],
  [
    'currency a typo',
    withCustomData({ value: 1, currency: 'UDS' }),
    PARAM,
    "['currency'] is invalid",
  ],
  [
    'custom_data not an object',
    validEvent({ event_name: 'Lead', custom_data: 'x' }),
    PARAM,
    "['custom_data'] is invalid",
  ],
  [
    'contents item without id',
    withCustomData({ value: 1, currency: 'USD', contents: [{ quantity: 1 }] }),
    PARAM,
    "['contents'][0]['id'] is required",
  ],
  [
    'content_ids not a list',
    withCustomData({ value: 1, currency: 'USD', content_ids: 'sku-1' }),
    PARAM,
    "['content_ids'] is invalid",
  ],
  [
    'LDU without country',
    validEvent({ data_processing_options: ['LDU'] }),
    PARAM,
    "['data_processing_options_country'] is required",
  ],
  [
    'LDU without state',
    validEvent({ data_processing_options: ['LDU'], data_processing_options_country: 1 }),
    PARAM,
    "['data_processing_options_state'] is required",
  ],
  [
    'LDU with country 2',
    validEvent({
      data_processing_options: ['LDU'],
      data_processing_options_country: 2,
      data_processing_options_state: 1000,
    }),
    PARAM,
    "['data_processing_options_country'] is invalid",
  ],
  [
    'country without LDU',
    validEvent({ data_processing_options: [], data_processing_options_country: 1 }),
    PARAM,
    "['data_processing_options_country'] is invalid",
  ],
  [
    'unknown processing option',
    validEvent({ data_processing_options: ['GDPR'] }),
    PARAM,
    "['data_processing_options'][0] is invalid",
  ],
  [
    'app event without app_data',
    validEvent({ action_source: 'app' }),
    PARAM,
    "['app_data'] is required",
  ],
  // [SE]: extinfo holds 16 positional values; the mock took any app_data object, which Meta refuses.
  [
    'app event without extinfo',
    validEvent({ action_source: 'app', app_data: { advertiser_tracking_enabled: true } }),
    PARAM,
    "['app_data']['extinfo'] is required",
  ],
  [
    'app event with a short extinfo',
    validEvent({ action_source: 'app', app_data: { extinfo: ['a2'] } }),
    PARAM,
    "['app_data']['extinfo'] is invalid",
  ],
  [
    'app event with a number in extinfo',
    validEvent({ action_source: 'app', app_data: { extinfo: ['a2', ...Array(14).fill(''), 7] } }),
    PARAM,
    "['app_data']['extinfo'][15] is invalid",
  ],
  [
    'app event with an extinfo for no platform',
    validEvent({ action_source: 'app', app_data: { extinfo: Array(16).fill('') } }),
    PARAM,
    "['app_data']['extinfo'][0] is invalid",
  ],
  ['event not an object', 'PageView' as unknown as Event, PARAM, '[2] is invalid'],
];

describe('strict validation: one invalid event rejects the whole batch', () => {
  it.each(INVALID)('%s', async (_name, bad, subcode, fragment) => {
    const res = await post(mock, { data: [validEvent(), validEvent(), bad] });
    expect(res.status).toBe(400);
    expect(res.json.error).toEqual({
      message: 'Invalid parameter',
      type: 'OAuthException',
      code: 100,
      error_subcode: subcode,
      is_transient: false,
      error_user_title: expect.any(String),
      error_user_msg: expect.stringContaining("$['data'][2]"),
      fbtrace_id: expect.any(String),
    });
    expect(res.json.error.error_user_msg).toContain(fragment);
    expect(mock.events()).toEqual([]);
    const [rejection] = mock.rejections();
    expect(rejection).toMatchObject({ status: 400, eventCount: 3, error: res.json.error });
    expect(rejection?.invalidEvent?.index).toBe(2);
  });

  it("words a missing field exactly like Meta's parameter errors", async () => {
    const res = await post(mock, {
      data: [validEvent(), validEvent(), validEvent(), withCustomData({ value: 3 })],
    });
    expect(res.json.error.error_user_msg).toBe(
      "The parameter $['data'][3]['custom_data']['currency'] is required.",
    );
    expect(mock.rejections()[0]?.invalidEvent).toEqual({
      index: 3,
      field: 'custom_data.currency',
      reason: 'is required',
    });
  });

  it('names the first invalid event when several are invalid', async () => {
    const res = await post(mock, {
      data: [validEvent(), validEvent({ event_name: '' }), validEvent({ event_time: undefined })],
    });
    expect(res.json.error.error_user_msg).toContain("$['data'][1]['event_name']");
  });

  it('reports nested list positions in the dotted field', async () => {
    await post(mock, { data: [withUserData({ em: [HASH, 'nope'] })] });
    expect(mock.rejections()[0]?.invalidEvent?.field).toBe('user_data.em[1]');
  });

  it.each([
    ['data missing', {}, "$['data'] is required"],
    ['data not a list', { data: { event_name: 'x' } }, 'list of events'],
    ['data empty', { data: [] }, 'at least one event'],
    ['test_event_code empty', { data: [validEvent()], test_event_code: '' }, 'test_event_code'],
  ])('rejects the body when %s', async (_name, body, fragment) => {
    const res = await post(mock, body);
    expect(res.status).toBe(400);
    expect(res.json.error).toMatchObject({ code: 100, error_subcode: PARAM });
    expect(res.json.error.error_user_msg).toContain(fragment);
    expect(mock.rejections()[0]?.invalidEvent).toBeUndefined();
  });
});

describe('valid variants are accepted', () => {
  const VALID: [string, Event][] = [
    [
      "lowercase currency (Meta's own example sends usd)",
      withCustomData({ value: 1, currency: 'usd' }),
    ],
    ['hash with a v2 param-builder appendix', withUserData({ em: `${HASH}.AQQCAQIB` })],
    ['hash with a v1 appendix', withUserData({ ph: `${HASH}.BA` })],
    ['hashed list', withUserData({ em: [HASH, sha256('y')], ph: [HASH] })],
    ['IPv4', withUserData({ client_ip_address: '203.0.113.9' })],
    ['IP with an appendix', withUserData({ client_ip_address: '2001:db8::1.AQQCAQIB' })],
    ['fbc with an appendix', withUserData({ fbc: 'fb.1.1700000000000.IwAR2xYz_-Ab.AQQCAQIB' })],
    [
      'raw keys',
      withUserData({ subscription_id: 's1', fb_login_id: 123, lead_id: '456', madid: 'm' }),
    ],
    ['lowercase currency (Meta example)', withCustomData({ value: 0, currency: 'usd' })],
    [
      'custom keys and contents',
      withCustomData({
        value: 10,
        currency: 'EUR',
        contents: [{ id: 'a', quantity: 2 }],
        content_ids: ['a'],
        order_id: 'o1',
        my_key: 1,
      }),
    ],
    [
      'non-purchase without custom_data',
      validEvent({ event_name: 'ViewContent', custom_data: undefined }),
    ],
    ['custom event name', validEvent({ event_name: 'MyCustomEvent', custom_data: undefined })],
    [
      'physical_store 30 days old',
      validEvent({ action_source: 'physical_store', event_time: nowSeconds() - 30 * DAY }),
    ],
    [
      'LDU with country and state',
      validEvent({
        data_processing_options: ['LDU'],
        data_processing_options_country: 1,
        data_processing_options_state: 1000,
      }),
    ],
    [
      'LDU geolocated',
      validEvent({
        data_processing_options: ['LDU'],
        data_processing_options_country: 0,
        data_processing_options_state: 0,
      }),
    ],
    ['empty processing options', validEvent({ data_processing_options: [] })],
    [
      'app event with app_data',
      validEvent({
        action_source: 'app',
        app_data: {
          extinfo: ['i2', 'com.example.shop', '1.0', '1.0 long', '17.4', ...Array(11).fill('')],
        },
      }),
    ],
    [
      'system event with only external_id',
      validEvent({
        action_source: 'system_generated',
        event_source_url: undefined,
        user_data: { external_id: HASH },
      }),
    ],
    ['null user_data values are ignored', withUserData({ ph: null })],
  ];
  it.each(VALID)('%s', async (_name, event) => {
    const res = await post(mock, { data: [event] });
    expect(res.json).toMatchObject({ events_received: 1 });
  });
});
