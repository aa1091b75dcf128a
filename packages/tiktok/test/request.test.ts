import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  TIKTOK_EVENTS_URL,
  TIKTOK_MAX_EVENTS_PER_REQUEST,
  type TikTokEvent,
  tiktokEnvelope,
  tiktokRequest,
} from '@capi-kit/tiktok';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const TOKEN = 'tt-secret-token-123';
const event = (id: string): TikTokEvent => ({
  event: 'ViewContent',
  event_time: 1_764_849_600,
  event_id: id,
  user: { ip: '203.0.113.7' },
});

describe('tiktokRequest', () => {
  it('posts to the v1.3 track endpoint with the documented body', () => {
    const request = tiktokRequest({ pixelCode: 'C4ABCDEF', accessToken: TOKEN }, [
      event('a'),
      event('b'),
    ]);
    expect(request.url).toBe('https://business-api.tiktok.com/open_api/v1.3/event/track/');
    expect(request.url).toBe(TIKTOK_EVENTS_URL);
    expect(JSON.parse(request.body)).toEqual({
      event_source: 'web',
      event_source_id: 'C4ABCDEF',
      data: [event('a'), event('b')],
    });
  });

  it('carries the token in the Access-Token header only', () => {
    const request = tiktokRequest({ pixelCode: 'C4ABCDEF', accessToken: ` ${TOKEN} ` }, [
      event('a'),
    ]);
    expect(request.headers['access-token']).toBe(TOKEN);
    expect(request.headers['content-type']).toBe('application/json');
    expect(request.url).not.toContain(TOKEN);
    expect(request.body).not.toContain(TOKEN);
  });

  it('adds test_event_code at the top level when given', () => {
    const request = tiktokRequest(
      { pixelCode: 'C4ABCDEF', accessToken: TOKEN, testEventCode: 'TEST123' },
      [event('a')],
    );
    expect(request.body).toBe(
      `{"event_source":"web","event_source_id":"C4ABCDEF","test_event_code":"TEST123","data":[${JSON.stringify(event('a'))}]}`,
    );
  });

  it('escapes the test code as JSON', () => {
    const envelope = tiktokEnvelope({
      pixelCode: 'C4ABCD',
      accessToken: TOKEN,
      testEventCode: ' a\\b" ',
    });
    expect(JSON.parse(`${envelope.prefix}${envelope.suffix}`)).toEqual({
      event_source: 'web',
      event_source_id: 'C4ABCD',
      test_event_code: 'a\\b"',
      data: [],
    });
  });

  it(`holds 1 to ${TIKTOK_MAX_EVENTS_PER_REQUEST} events`, () => {
    const options = { pixelCode: 'C4ABCD', accessToken: TOKEN };
    expect(TIKTOK_MAX_EVENTS_PER_REQUEST).toBe(1000);
    expect(() => tiktokRequest(options, [])).toThrow(RangeError);
    const full = Array.from({ length: 1000 }, (_, i) => event(String(i)));
    expect(JSON.parse(tiktokRequest(options, full).body).data).toHaveLength(1000);
    expect(() => tiktokRequest(options, [...full, event('x')])).toThrow(/at most 1000/);
  });

  it('rejects a missing pixel code or token and a non-http URL at configuration time', () => {
    expect(() => tiktokEnvelope({ pixelCode: ' ', accessToken: TOKEN })).toThrow(TypeError);
    expect(() => tiktokEnvelope({ pixelCode: 'C4', accessToken: '' })).toThrow(TypeError);
    expect(() =>
      tiktokEnvelope({ pixelCode: 'C4ABCD', accessToken: TOKEN, url: 'ftp://x/' }),
    ).toThrow(TypeError);
    expect(() => tiktokEnvelope({ pixelCode: 'C4ABCD', accessToken: TOKEN, url: 'track' })).toThrow(
      TypeError,
    );
  });

  it('rejects credentials in the URL and a testEventCode that is not a string, without echoing them', () => {
    let message = '';
    try {
      tiktokEnvelope({
        pixelCode: 'C4ABCD',
        accessToken: TOKEN,
        url: 'https://proxy-user:s3cret@business-api.example/open_api/v1.3/event/track/',
      });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/must not carry a user name or password/);
    expect(message).not.toMatch(/s3cret|proxy-user/);
    // Ignored, a mistyped test code would have sent test traffic to the live pixel.
    expect(() =>
      tiktokEnvelope({ pixelCode: 'C4ABCD', accessToken: TOKEN, testEventCode: 12345 as never }),
    ).toThrow(/testEventCode must be a string, got number/);
    expect(
      tiktokEnvelope({ pixelCode: 'C4ABCD', accessToken: TOKEN, testEventCode: ' ' }).prefix,
    ).not.toContain('test_event_code');
  });

  it('never names the token in its errors', () => {
    let thrown: unknown;
    try {
      tiktokEnvelope({ pixelCode: '', accessToken: TOKEN, url: `https://x.example/?t=${TOKEN}` });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(TypeError);
    expect(String(thrown)).not.toContain(TOKEN);
    expect(() =>
      tiktokEnvelope({ pixelCode: 'C4ABCD', accessToken: TOKEN, url: `not a url ${TOKEN}` }),
    ).toThrow(/^TikTok url must be an absolute URL$/);
  });
});

describe('tiktokEnvelope: configuration mistakes', () => {
  const SWAPPED_TOKEN = '0123456789abcdef0123456789abcdef01234567';
  it.each([
    ['swapped credentials', { pixelCode: SWAPPED_TOKEN, accessToken: 'C4ABCDEFGHIJ' }, /swapped/],
    ['the token as the code', { pixelCode: 'SAMEVALUE1', accessToken: 'SAMEVALUE1' }, /swapped/],
    ['a Meta pixel id', { pixelCode: '1234567890', accessToken: TOKEN }, /Meta pixel id/],
    ['a code with punctuation', { pixelCode: 'C4-TEST', accessToken: TOKEN }, /letters and digits/],
    [
      'a code of 5000 characters',
      { pixelCode: 'C'.repeat(5000), accessToken: TOKEN },
      /letters and digits/,
    ],
    ['a token with a newline', { pixelCode: 'C4ABCD', accessToken: 'tok\nen' }, /printable ASCII/],
    [
      'a token with a space inside',
      { pixelCode: 'C4ABCD', accessToken: 'tok en' },
      /printable ASCII/,
    ],
    ['a token beyond Latin-1', { pixelCode: 'C4ABCD', accessToken: 'tokén' }, /printable ASCII/],
  ])('refuses %s, quoting neither value', (_label, options, message) => {
    let thrown: unknown;
    try {
      tiktokEnvelope(options);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(TypeError);
    expect(String(thrown)).toMatch(message);
    expect(String(thrown)).not.toContain(options.accessToken);
    expect(String(thrown)).not.toContain(options.pixelCode);
  });

  it('refuses missing options clearly, and leaves out a blank test code', () => {
    expect(() => tiktokEnvelope(undefined as never)).toThrow(/options must be an object/);
    const envelope = tiktokEnvelope({
      pixelCode: 'C4ABCD',
      accessToken: TOKEN,
      testEventCode: '  ',
    });
    expect(envelope.prefix).not.toContain('test_event_code');
  });
});

describe('tiktokRequest over HTTP (loopback)', () => {
  let url = '';
  const seen: {
    method: string | undefined;
    url: string | undefined;
    headers: IncomingHttpHeaders;
    body: string;
  }[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk) => {
      body += chunk;
    });
    req.on('end', () => {
      seen.push({ method: req.method, url: req.url, headers: req.headers, body });
      res.setHeader('content-type', 'application/json');
      res.end('{"code":0,"message":"OK","request_id":"r1","data":{}}');
    });
  });

  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/open_api/v1.3/event/track/`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('arrives as TikTok expects it: POST, path, header token, JSON body', async () => {
    const request = tiktokRequest({ pixelCode: 'C4ABCDEF', accessToken: TOKEN, url }, [event('a')]);
    const response = await fetch(request.url, {
      method: 'POST',
      headers: request.headers,
      body: request.body,
    });
    expect(await response.json()).toMatchObject({ code: 0 });
    const [got] = seen;
    expect(got?.method).toBe('POST');
    expect(got?.url).toBe('/open_api/v1.3/event/track/');
    expect(got?.headers?.['access-token']).toBe(TOKEN);
    expect(got?.url).not.toContain(TOKEN);
    expect(JSON.parse(got?.body ?? '')).toEqual({
      event_source: 'web',
      event_source_id: 'C4ABCDEF',
      data: [event('a')],
    });
  });
});
