import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { systemClock } from '../../src/delivery/clock.js';
import {
  bodySuffix,
  buildBody,
  MAX_ANSWER_BYTES,
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

describe('answer size', () => {
  const serve = async (
    handler: (res: ServerResponse, closed: Promise<void>) => void,
  ): Promise<{ url: string; close: () => Promise<void> }> => {
    const server = createServer((req, res) => {
      req.resume();
      const closed = new Promise<void>((resolve) => res.on('close', resolve));
      handler(res, closed);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    return {
      url: `http://127.0.0.1:${port}/v26.0/1/events`,
      close: () =>
        new Promise<void>((resolve) => {
          server.closeAllConnections();
          server.close(() => resolve());
        }),
    };
  };
  const post = (url: string) =>
    postBatch(fetch, url, new Uint8Array([0x7b, 0x7d]), {
      timeoutMs: 20_000,
      clock: systemClock,
      controller: new AbortController(),
    });

  it('stops reading an endless chunked answer past the bound and lets the connection go', async () => {
    let written = 0;
    let connectionClosed = false;
    const server = await serve((res, closed) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      const chunk = Buffer.alloc(64 * 1024, 0x61);
      let open = true;
      closed.then(() => {
        open = false;
        connectionClosed = true;
      });
      const pump = () => {
        while (open) {
          written += chunk.length;
          if (!res.write(chunk)) break;
        }
        if (open) res.once('drain', pump);
      };
      pump();
    });
    try {
      const outcome = await post(server.url);
      expect(outcome).toMatchObject({ kind: 'unreadable', status: 200 });
      expect(outcome.durationMs).toBeLessThan(10_000);
      // The client cancelled the body: the server sees the connection end.
      await expect.poll(() => connectionClosed, { timeout: 5000 }).toBe(true);
      expect(written).toBeGreaterThan(MAX_ANSWER_BYTES);
    } finally {
      await server.close();
    }
  });

  it('does not read an answer whose declared length is past the bound', async () => {
    const server = await serve((res) => {
      res.writeHead(200, { 'content-length': String(64 * 1024 * 1024) });
      res.write('<html>');
    });
    try {
      expect(await post(server.url)).toMatchObject({ kind: 'unreadable', status: 200 });
    } finally {
      await server.close();
    }
  });

  it('an abort landing between the answer and the read of its body (close() in that turn) lets the body go', async () => {
    // A fetch that ignores its signal, answering with a body that trickles and never ends; the
    // abort lands in a microtask after the answer and before the read starts.
    const controller = new AbortController();
    let cancelled = false;
    const body = new ReadableStream<Uint8Array>({
      pull: () => new Promise<void>(() => {}),
      cancel: () => {
        cancelled = true;
      },
    });
    const fetchFn = () => {
      const answered = Promise.resolve(new Response(body, { status: 200 }));
      void answered.then(() => controller.abort());
      return answered;
    };
    const outcome = await postBatch(
      fetchFn,
      'http://127.0.0.1:9/v26.0/1/events',
      new Uint8Array(),
      {
        timeoutMs: 20_000,
        clock: systemClock,
        controller,
      },
    );
    expect(outcome.kind).toBe('aborted');
    await expect.poll(() => cancelled, { timeout: 2000 }).toBe(true);
  });

  it('reads an answer up to the bound', async () => {
    const big = JSON.stringify({ events_received: 1, pad: 'x'.repeat(MAX_ANSWER_BYTES - 100) });
    const server = await serve((res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(big);
    });
    try {
      const outcome = await post(server.url);
      expect(outcome).toMatchObject({ kind: 'response', status: 200 });
      expect((outcome as { body: { events_received: number } }).body.events_received).toBe(1);
    } finally {
      await server.close();
    }
  });
});
