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
    const body = buildBody({ url: 'u', prefix: '{"data":[', suffix }, ['{"a":1}', '{"b":"é"}']);
    expect(JSON.parse(body)).toEqual({
      data: [{ a: 1 }, { b: 'é' }],
      partner_agent: 'capi-kit',
      test_event_code: 'TEST"1',
      appsecret_proof: 'abc',
      access_token: 'tok"en',
    });
  });

  it('reports an aborted request as aborted, not as a network error', async () => {
    const controller = new AbortController();
    const fetch = (_url: string, init: RequestInit) =>
      new Promise<Response>((_, reject) =>
        init.signal?.addEventListener('abort', () => reject(new DOMException('x', 'AbortError'))),
      );
    const pending = postBatch(fetch, 'http://x', '{}', {
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
      '{}',
      {
        timeoutMs: 1000,
        clock: systemClock,
        controller: new AbortController(),
      },
    );
    expect(outcome).toMatchObject({ kind: 'response', status: 502, body: '<html>oops</html>' });
  });
});
