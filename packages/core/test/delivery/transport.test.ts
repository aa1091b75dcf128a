import { describe, expect, it } from 'vitest';
import { systemClock } from '../../src/delivery/clock.js';
import {
  bodySuffix,
  buildBody,
  postBatch,
  utf8ByteLength,
  utf8ByteLengthPortable,
} from '../../src/delivery/transport.js';

describe('utf8ByteLength', () => {
  it.each([
    '',
    'ascii only',
    'Valéry',
    '정',
    '𝄞 clef',
    'mixed é 정 𝄞 end',
    '\ud800 lone surrogate',
  ])('%j matches TextEncoder', (text) => {
    const expected = new TextEncoder().encode(text).length;
    expect(utf8ByteLength(text)).toBe(expected);
    expect(utf8ByteLengthPortable(text)).toBe(expected);
  });
});

describe('request body', () => {
  it('joins cached event strings into valid JSON with the fixed fields last', () => {
    const suffix = bodySuffix({
      partnerAgent: 'capi-kit',
      testEventCode: 'TEST"1',
      appsecretProof: 'abc',
      accessToken: 'tok"en',
    });
    const events = ['{"a":1}', '{"b":"é"}', '{"c":"정 𝄞"}'].map((body) => ({
      body,
      bytes: utf8ByteLength(body),
    }));
    const body = buildBody({ url: 'u', prefix: '{"data":[', suffix }, events);
    expect(JSON.parse(new TextDecoder().decode(body))).toEqual({
      data: [{ a: 1 }, { b: 'é' }, { c: '정 𝄞' }],
      partner_agent: 'capi-kit',
      test_event_code: 'TEST"1',
      appsecret_proof: 'abc',
      access_token: 'tok"en',
    });
  });

  it.each([
    ['too small', -1],
    ['too large', 3],
  ])('still sends every byte when a stored byte count is %s', (_, error) => {
    const events = [
      { body: '{"a":"é"}', bytes: 10 },
      { body: '{"b":2}', bytes: 7 + error },
    ];
    const body = buildBody({ url: 'u', prefix: '{"data":[', suffix: '],"x":1}' }, events);
    expect(new TextDecoder().decode(body)).toBe('{"data":[{"a":"é"},{"b":2}],"x":1}');
  });

  it('writes into a spare buffer that is big enough, and allocates when it is not', () => {
    const endpoint = { url: 'u', prefix: '{"data":[', suffix: ']}' };
    const events = [{ body: '{"a":"é"}', bytes: 10 }];
    const spare = new Uint8Array(64).fill(0x20);
    const body = buildBody(endpoint, events, spare);
    expect(body.buffer).toBe(spare.buffer);
    expect(new TextDecoder().decode(body)).toBe('{"data":[{"a":"é"}]}');
    const small = new Uint8Array(4);
    expect(buildBody(endpoint, events, small).buffer).not.toBe(small.buffer);
  });

  it('sends an empty data array for no events', () => {
    const body = buildBody({ url: 'u', prefix: '{"data":[', suffix: ']}' }, []);
    expect(new TextDecoder().decode(body)).toBe('{"data":[]}');
  });

  it('reports an aborted request as aborted, not as a network error', async () => {
    const controller = new AbortController();
    const fetch = (_url: string, init: RequestInit) =>
      new Promise<Response>((_, reject) =>
        init.signal?.addEventListener('abort', () => reject(new DOMException('x', 'AbortError'))),
      );
    const pending = postBatch(fetch, 'http://x', new Uint8Array([0x7b, 0x7d]), {
      timeoutMs: 10_000,
      clock: systemClock,
      controller,
    });
    controller.abort();
    expect((await pending).kind).toBe('aborted');
  });

  it('reads a non-JSON answer as text', async () => {
    const outcome = await postBatch(
      async () => new Response('<html>oops</html>', { status: 502 }),
      'http://x',
      new Uint8Array([0x7b, 0x7d]),
      {
        timeoutMs: 1000,
        clock: systemClock,
        controller: new AbortController(),
      },
    );
    expect(outcome).toMatchObject({ kind: 'response', status: 502, body: '<html>oops</html>' });
  });
});
