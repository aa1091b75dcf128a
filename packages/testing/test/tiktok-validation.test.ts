import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type MockGraph, startMockGraph, TIKTOK_CODE } from '../src/index.js';
import { nowSeconds, sha256 } from './fixtures.js';
import {
  PIXEL_CODE,
  postTikTok,
  TIKTOK_TOKEN,
  tiktokBody,
  validTikTokEvent,
} from './tiktok-fixtures.js';

let mock: MockGraph;
beforeAll(async () => {
  mock = await startMockGraph();
});
beforeEach(() => mock.reset());
afterAll(() => mock.close());

const DAY = 86_400;
type Fields = Record<string, unknown>;
const event = (overrides: Fields = {}): Fields => validTikTokEvent(overrides);
const withUser = (user: Fields): Fields => {
  const base = validTikTokEvent();
  return { ...base, user: { ...(base.user as Fields), ...user } };
};
const withProperties = (properties: Fields): Fields => {
  const base = validTikTokEvent();
  return { ...base, properties: { ...(base.properties as Fields), ...properties } };
};
const withContent = (content: Fields): Fields =>
  withProperties({ contents: [{ content_id: 'sku-1', ...content }] });

describe('valid requests are accepted with code 0', () => {
  it.each<[string, Fields]>([
    ['a full Purchase', tiktokBody()],
    [
      'the smallest event: name, time and an empty user',
      tiktokBody([{ event: 'ViewContent', event_time: nowSeconds(), user: {} }]),
    ],
    ['a custom event name', tiktokBody([event({ event: 'StartTrial' })])],
    ['limited data use', tiktokBody([event({ limited_data_use: true })])],
    ['test_event_code', tiktokBody([event()], { test_event_code: 'TEST12345' })],
    ['partner_name', tiktokBody([event()], { partner_name: 'capi-kit' })],
    ['no page and no properties', tiktokBody([event({ page: undefined, properties: undefined })])],
    ['a page without referrer', tiktokBody([event({ page: { url: 'http://a.example/' } })])],
    ['content_type inside contents', tiktokBody([withContent({ content_type: 'product_group' })])],
    ['custom properties pass', tiktokBody([withProperties({ coupon: 'WINTER' })])],
    ['null user keys are ignored', tiktokBody([withUser({ email: null })])],
    ['an IPv6 address', tiktokBody([withUser({ ip: '2001:db8::1' })])],
    ['event_time at the 28-day edge', tiktokBody([event({ event_time: nowSeconds() - 27 * DAY })])],
    [
      'event_time 4 minutes ahead (clock skew)',
      tiktokBody([event({ event_time: nowSeconds() + 240 })]),
    ],
    ['1,000 events', tiktokBody(Array.from({ length: 1000 }, () => event()))],
  ])('%s', async (_, body) => {
    const res = await postTikTok(mock, body);
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ code: 0, message: 'OK', data: {} });
    expect(res.json.request_id).toMatch(/^\d{14}[0-9A-F]{18}$/);
    const count = (body.data as unknown[]).length;
    expect(mock.tiktok.events()).toHaveLength(count);
    expect(mock.tiktok.rejections()).toEqual([]);
  });

  it('records each event as sent, with its pixel code, request and test code', async () => {
    const sent = event({ event_id: 'order-7' });
    await postTikTok(mock, tiktokBody([sent], { test_event_code: 'TEST1' }));
    const [recorded] = mock.tiktok.events();
    expect(recorded).toMatchObject({
      platform: 'tiktok',
      pixelCode: PIXEL_CODE,
      requestIndex: 0,
      testEventCode: 'TEST1',
    });
    expect(recorded?.event).toEqual(sent);
    expect(mock.events()).toEqual([]); // Meta's list is Meta's
  });
});

// [case, request body, path the message names, the value that must never be echoed]
const INVALID: [string, Fields, string, string?][] = [
  [
    'event_source missing',
    { ...tiktokBody(), event_source: undefined },
    'event_source: it is required',
  ],
  [
    'event_source app',
    tiktokBody([event()], { event_source: 'app' }),
    "event_source: it must be 'web'",
  ],
  [
    'event_source_id missing',
    { ...tiktokBody(), event_source_id: undefined },
    'event_source_id: it is required',
  ],
  [
    'event_source_id not a code',
    tiktokBody([event()], { event_source_id: 'C4 AB' }),
    'event_source_id: it must be a TikTok pixel code',
  ],
  [
    'test_event_code empty',
    tiktokBody([event()], { test_event_code: ' ' }),
    'test_event_code: it must be a non-empty string',
  ],
  [
    'access_token in the body',
    tiktokBody([event()], { access_token: TIKTOK_TOKEN }),
    'access_token: it must not be in the body',
    TIKTOK_TOKEN,
  ],
  [
    "Events API 1.0's pixel_code",
    tiktokBody([event()], { pixel_code: PIXEL_CODE }),
    "pixel_code: it is Events API 1.0's",
  ],
  ['an unknown top-level key', tiktokBody([event()], { batch: 1 }), 'batch: it is not a field'],
  ['data missing', { ...tiktokBody(), data: undefined }, 'data: it is required'],
  ['data not a list', { ...tiktokBody(), data: 'x' }, 'data: it must be a list of events'],
  ['data empty', tiktokBody([]), 'data: it must contain at least one event'],
  [
    '1,001 events',
    tiktokBody(Array.from({ length: 1001 }, () => event())),
    'data: it must contain at most 1000 events (got 1001)',
  ],
  [
    'an event that is not an object',
    tiktokBody(['Purchase']),
    'data[0]: it must be an event object',
  ],
  ['event missing', tiktokBody([event({ event: undefined })]), 'data[0].event: it is required'],
  [
    'event empty',
    tiktokBody([event({ event: '  ' })]),
    'data[0].event: it must be a non-empty string',
  ],
  [
    "Meta's event_name",
    tiktokBody([{ ...event(), event_name: 'Purchase' }]),
    "data[0].event_name: it is Meta's name; TikTok's is event",
  ],
  [
    "Meta's user_data",
    tiktokBody([{ ...event(), user_data: {} }]),
    "data[0].user_data: it is Meta's name; TikTok's is user",
  ],
  ["Meta's custom_data", tiktokBody([{ ...event(), custom_data: {} }]), "TikTok's is properties"],
  [
    "Meta's action_source",
    tiktokBody([{ ...event(), action_source: 'website' }]),
    'data[0].action_source',
  ],
  [
    "Meta's event_source_url",
    tiktokBody([{ ...event(), event_source_url: 'https://a.example/' }]),
    "TikTok's is page.url",
  ],
  [
    "Events API 1.0's context",
    tiktokBody([{ ...event(), context: {} }]),
    "data[0].context: it is Events API 1.0's",
  ],
  [
    'event_time missing',
    tiktokBody([event({ event_time: undefined })]),
    'data[0].event_time: it is required',
  ],
  [
    'event_time as a string',
    tiktokBody([event({ event_time: String(nowSeconds()) })]),
    'data[0].event_time: it must be a Unix timestamp in whole seconds',
  ],
  [
    'event_time fractional',
    tiktokBody([event({ event_time: nowSeconds() + 0.5 })]),
    'whole seconds',
  ],
  [
    'event_time in milliseconds',
    tiktokBody([event({ event_time: Date.now() })]),
    'looks like milliseconds',
  ],
  [
    'event_time an hour ahead',
    tiktokBody([event({ event_time: nowSeconds() + 3600 })]),
    'is in the future',
  ],
  [
    'event_time 29 days old',
    tiktokBody([event({ event_time: nowSeconds() - 29 * DAY })]),
    'is more than 28 days in the past',
  ],
  [
    'event_id a number',
    tiktokBody([event({ event_id: 42 })]),
    'data[0].event_id: it must be a non-empty string',
  ],
  ['event_id empty', tiktokBody([event({ event_id: '' })]), 'data[0].event_id'],
  [
    'limited_data_use a string',
    tiktokBody([event({ limited_data_use: 'true' })]),
    'data[0].limited_data_use: it must be a boolean',
  ],
  ['user missing', tiktokBody([event({ user: undefined })]), 'data[0].user: it is required'],
  ['user a list', tiktokBody([event({ user: [] })]), 'data[0].user: it must be an object'],
  [
    'email unhashed',
    tiktokBody([withUser({ email: 'jane.doe@example.com' })]),
    'data[0].user.email: it must be SHA-256 hashed',
    'jane.doe@example.com',
  ],
  [
    'email uppercase hex',
    tiktokBody([withUser({ email: sha256('a@b.co').toUpperCase() })]),
    'data[0].user.email: it must be lowercase hex',
    sha256('a@b.co').toUpperCase(),
  ],
  ['email a list', tiktokBody([withUser({ email: [sha256('a@b.co')] })]), 'not a list'],
  [
    'email the hash of nothing',
    tiktokBody([withUser({ email: sha256('') })]),
    'SHA-256 of an empty string',
  ],
  [
    'phone unhashed',
    tiktokBody([withUser({ phone: '+16505551234' })]),
    'data[0].user.phone: it must be SHA-256 hashed',
    '+16505551234',
  ],
  [
    'external_id unhashed',
    tiktokBody([withUser({ external_id: 'customer-9071' })]),
    'data[0].user.external_id',
    'customer-9071',
  ],
  [
    'external_id a number',
    tiktokBody([withUser({ external_id: 9071 })]),
    'data[0].user.external_id: it must be a SHA-256 hex string',
  ],
  [
    'ttclid hashed',
    tiktokBody([withUser({ ttclid: sha256('x') })]),
    'data[0].user.ttclid: it must be sent raw',
  ],
  [
    'ttclid empty',
    tiktokBody([withUser({ ttclid: '' })]),
    'data[0].user.ttclid: it must be a non-empty string',
  ],
  ['ttp a number', tiktokBody([withUser({ ttp: 7 })]), 'data[0].user.ttp'],
  [
    'ip hashed',
    tiktokBody([withUser({ ip: sha256('203.0.113.9') })]),
    'data[0].user.ip: it must be sent raw',
    sha256('203.0.113.9'),
  ],
  [
    'ip with a port',
    tiktokBody([withUser({ ip: '203.0.113.9:443' })]),
    'data[0].user.ip: it must be a raw IPv4 or IPv6 address',
    '203.0.113.9',
  ],
  ['user_agent empty', tiktokBody([withUser({ user_agent: '' })]), 'data[0].user.user_agent'],
  [
    "Meta's em in user",
    tiktokBody([withUser({ em: sha256('a@b.co') })]),
    "data[0].user.em: it is Meta's name; TikTok's is user.email",
  ],
  [
    "Meta's client_ip_address",
    tiktokBody([withUser({ client_ip_address: '203.0.113.9' })]),
    "TikTok's is user.ip",
    '203.0.113.9',
  ],
  [
    'an unknown user key',
    tiktokBody([withUser({ zip: '94025' })]),
    'data[0].user.zip: it is not a TikTok user field',
    '94025',
  ],
  [
    'page a string',
    tiktokBody([event({ page: 'https://a.example/' })]),
    'data[0].page: it must be an object',
  ],
  [
    'page without url',
    tiktokBody([event({ page: { referrer: 'https://a.example/' } })]),
    'data[0].page.url: it is required',
  ],
  [
    'page.url relative',
    tiktokBody([event({ page: { url: '/checkout' } })]),
    'data[0].page.url: it must be an absolute http(s) URL',
  ],
  [
    'page.referrer not http',
    tiktokBody([event({ page: { url: 'https://a.example/', referrer: 'javascript:alert(1)' } })]),
    'data[0].page.referrer',
  ],
  [
    'properties a list',
    tiktokBody([event({ properties: [] })]),
    'data[0].properties: it must be an object',
  ],
  [
    'value a string',
    tiktokBody([withProperties({ value: '9.50' })]),
    'data[0].properties.value: it must be a number, not a string',
  ],
  ['value NaN', tiktokBody([withProperties({ value: Number.NaN })]), 'data[0].properties.value'],
  [
    'currency lowercase',
    tiktokBody([withProperties({ currency: 'eur' })]),
    'data[0].properties.currency: it must be uppercase',
  ],
  [
    'currency not ISO 4217',
    tiktokBody([withProperties({ currency: 'EUX' })]),
    'data[0].properties.currency: it must be an ISO 4217 currency code',
  ],
  [
    'currency a number',
    tiktokBody([withProperties({ currency: 978 })]),
    'data[0].properties.currency',
  ],
  [
    'content_type unknown',
    tiktokBody([withProperties({ content_type: 'service' })]),
    "data[0].properties.content_type: it must be 'product' or 'product_group'",
  ],
  [
    'contents not a list',
    tiktokBody([withProperties({ contents: { content_id: 'a' } })]),
    'data[0].properties.contents: it must be a list',
  ],
  [
    'a content without content_id',
    tiktokBody([withProperties({ contents: [{ id: 'sku-1' }] })]),
    'data[0].properties.contents[0].content_id: it is required',
  ],
  [
    'content_id a number',
    tiktokBody([withContent({ content_id: 1077218 })]),
    'data[0].properties.contents[0].content_id: it must be a non-empty string',
  ],
  [
    'content price a string',
    tiktokBody([withContent({ price: '4.75' })]),
    'data[0].properties.contents[0].price',
  ],
  [
    'content quantity a string',
    tiktokBody([withContent({ quantity: '2' })]),
    'data[0].properties.contents[0].quantity',
  ],
  [
    'content_type inside contents unknown',
    tiktokBody([withContent({ content_type: 'sku' })]),
    'data[0].properties.contents[0].content_type',
  ],
  [
    'order_id a number',
    tiktokBody([withProperties({ order_id: 1 })]),
    'data[0].properties.order_id: it must be a string',
  ],
];

describe('each broken rule is answered with code 40002, the path and never the value', () => {
  it.each(INVALID)('%s', async (_, body, expected, secret) => {
    const res = await postTikTok(mock, body);
    expect(res.status).toBe(200); // TikTok answers 200 and puts the verdict in `code`
    expect(res.json.code).toBe(TIKTOK_CODE.invalidParameter);
    expect(res.json.message).toContain(expected);
    expect(res.json.request_id).toEqual(expect.any(String));
    if (secret !== undefined) {
      expect(res.text).not.toContain(secret);
      expect(JSON.stringify(mock.tiktok.requests())).not.toContain(secret);
    }
    expect(mock.tiktok.events()).toEqual([]);
    const [rejection] = mock.tiktok.rejections();
    expect(rejection).toMatchObject({ status: 200, code: 40002, message: res.json.message });
  });

  it('names the first invalid event of a batch, refuses the whole batch and keeps its events for the page', async () => {
    const body = tiktokBody([event(), withUser({ email: 'bob@example.com' }), event()]);
    const res = await postTikTok(mock, body);
    expect(res.json.message).toBe(
      'Invalid parameter data[1].user.email: it must be SHA-256 hashed (64 lowercase hex characters); it looks unhashed.',
    );
    expect(mock.tiktok.events()).toEqual([]);
    expect(mock.tiktok.rejections()[0]?.invalidEvent).toEqual({
      index: 1,
      field: 'user.email',
      reason: 'must be SHA-256 hashed (64 lowercase hex characters); it looks unhashed',
    });
    const refused = mock.tiktok.rejectedEvents();
    expect(refused.map((e) => e.isInvalidOne)).toEqual([false, true, false]);
    expect(refused.every((e) => e.platform === 'tiktok' && e.pixelCode === PIXEL_CODE)).toBe(true);
  });
});

describe('the request around the payload', () => {
  it('takes application/json only', async () => {
    const res = await postTikTok(mock, tiktokBody(), { headers: { 'content-type': 'text/plain' } });
    expect(res.json).toMatchObject({ code: 40002 });
    expect(res.json.message).toContain('Content-Type must be application/json (got text/plain)');
  });

  it('refuses a body that is not JSON, or not an object', async () => {
    expect((await postTikTok(mock, {}, { raw: '{"data": [' })).json.message).toContain(
      'not valid JSON',
    );
    expect((await postTikTok(mock, {}, { raw: '[1]' })).json.message).toContain(
      'must be a JSON object',
    );
  });

  it('answers 413 with code 40002 past the body limit', async () => {
    const small = await startMockGraph({ maxBodyBytes: 1024 });
    try {
      const res = await postTikTok(small, tiktokBody(Array.from({ length: 20 }, () => event())));
      expect(res.status).toBe(413);
      expect(res.json.code).toBe(40002);
      expect(small.tiktok.rejections()[0]?.eventCount).toBe(0);
    } finally {
      await small.close();
    }
  });

  it('accepts the path without its trailing slash, and 404s other /open_api/ paths', async () => {
    expect(
      (await postTikTok(mock, tiktokBody(), { path: '/open_api/v1.3/event/track' })).json.code,
    ).toBe(0);
    const other = await postTikTok(mock, tiktokBody(), { path: '/open_api/v1.2/event/track/' });
    expect(other.status).toBe(404);
    expect(mock.tiktok.requests().map((r) => r.status)).toEqual([200, 404]);
  });

  it('answers 405 to another method', async () => {
    const res = await postTikTok(mock, {}, { method: 'GET' });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('POST');
    expect(mock.tiktok.rejections()[0]).toMatchObject({ method: 'GET', status: 405 });
  });

  it('checks event_time against the mock clock and maxFutureSeconds', async () => {
    const skewed = await startMockGraph({ now: () => Date.now() - 3600_000, maxFutureSeconds: 10 });
    try {
      const res = await postTikTok(skewed, tiktokBody([event({ event_time: nowSeconds() - 60 })]));
      expect(res.json.message).toContain('data[0].event_time: it is in the future');
    } finally {
      await skewed.close();
    }
  });
});
