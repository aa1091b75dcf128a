import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { type MockGraph, startMockGraph } from '@capi-kit/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { createNextCapi } from '../src/next-capi.ts';
import { createRelayRoute } from '../src/relay.ts';
import { scope } from './next-mocks.ts';

vi.mock('next/headers.js', async () => (await import('./next-mocks.ts')).nextHeadersMock());
vi.mock('next/server.js', async () => (await import('./next-mocks.ts')).nextServerMock());
vi.mock('next/navigation.js', async () => (await import('./next-mocks.ts')).nextNavigationMock());

const PIXEL_ID = '1234567890';
const TOKEN = 'next-test-token';
const UA = 'Mozilla/5.0 (X11; Linux x86_64) capi-kit-next/1.0';
const FBP = 'fb.2.1700000000000.42';

let mock: MockGraph;
beforeAll(async () => {
  mock = await startMockGraph({ accessToken: TOKEN });
});
afterAll(() => mock.close());
beforeEach(() => {
  mock.reset();
  scope.reset();
});

const options = () => ({
  pixelId: PIXEL_ID,
  accessToken: TOKEN,
  graphUrl: mock.url,
  env: false as const,
});
const body = (event_id: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    v: 1,
    pixel_id: PIXEL_ID,
    events: [
      {
        event_name: 'AddToCart',
        event_id,
        event_time: Math.floor(Date.now() / 1000),
        event_source_url: 'https://shop.example.com/p/1',
        custom_data: { value: 1, currency: 'EUR' },
        ...extra,
      },
    ],
  });
/** A relay request as Next's server hands it over: its own hostname in the URL, the browser's in `Host`. */
const beacon = (payload: string, headers: Record<string, string> = {}) =>
  new Request('http://localhost:3000/capi/events', {
    method: 'POST',
    headers: {
      host: 'shop.example.com',
      'content-type': 'application/json',
      'sec-fetch-site': 'same-origin',
      'user-agent': UA,
      cookie: `_fbp=${FBP}`,
      referer: 'https://shop.example.com/p/1',
      'x-forwarded-for': '203.0.113.9',
      ...headers,
    },
    body: payload,
  });

describe('createRelayRoute', () => {
  it('answers 204, delivers through after() with the browser event_id and the request data', async () => {
    const identified: Request[] = [];
    const { POST } = createRelayRoute({
      ...options(),
      identify: (request) => {
        identified.push(request);
        return { external_id: 'u-1' };
      },
    });
    const response = await POST(beacon(body('next-1')));
    expect(response.status).toBe(204);
    expect(scope.afterTasks).toHaveLength(1);
    await Promise.all(scope.afterTasks ?? []);
    const [received] = mock.events();
    expect(received?.event).toMatchObject({
      event_id: 'next-1',
      event_source_url: 'https://shop.example.com/p/1',
      user_data: { client_ip_address: '203.0.113.9', client_user_agent: UA, fbp: FBP },
    });
    expect(identified).toHaveLength(1);
  });

  it('compares Origin with the browser host, not Next’s own hostname', async () => {
    const { POST } = createRelayRoute(options());
    const ok = await POST(
      beacon(body('o1'), { 'sec-fetch-site': '', origin: 'https://shop.example.com' }),
    );
    expect(ok.status).toBe(204);
    const cross = await POST(
      beacon(body('o2'), { 'sec-fetch-site': '', origin: 'http://localhost:3000' }),
    );
    expect(cross.status).toBe(403);
  });

  it('sets the minted _fbp, rate-limits, and delivers through a shared binding', async () => {
    const capi = createNextCapi(options());
    const { POST } = createRelayRoute({ capi, rateLimit: { eventsPerMinute: 60, burst: 1 } });
    const first = await POST(beacon(body('s1'), { cookie: '' }));
    expect(first.status).toBe(204);
    expect(first.headers.getSetCookie()[0]).toMatch(/^_fbp=fb\.1\./);
    const second = await POST(beacon(body('s2')));
    expect(second.status).toBe(429);
    await capi.flush();
    expect(mock.uniqueEventIds()).toContain('s1');
    expect(mock.uniqueEventIds()).not.toContain('s2');
    expect(capi.client.stats().dedup.relay).toBe(1);
    await capi.close();
  });

  it('answers 503 when the client cannot be created', async () => {
    const { POST } = createRelayRoute({ env: false });
    const spy = vi.spyOn(console, 'error').mockImplementation(() => {});
    expect((await POST(beacon(body('x')))).status).toBe(503);
    spy.mockRestore();
  });
});

const CAP = 64 * 1024;
const byteLength = (text: string) => new TextEncoder().encode(text).byteLength;
/** A one-event relay body of exactly `bytes` bytes (the filler is an allowed `custom_data` key). */
const bodyOf = (event_id: string, bytes: number) => {
  const empty = body(event_id, { custom_data: { content_name: '' } });
  return empty.replace('"content_name":""', `"content_name":"${'x'.repeat(bytes - empty.length)}"`);
};

/**
 * The route behind a real HTTP server on loopback, handed a Web `Request` whose body streams from
 * the socket (as `next start` does): a chunked upload arrives without a length.
 */
async function serve(POST: (request: Request) => Promise<Response>) {
  const server: Server = createServer((req, res) => {
    const headers = new Headers();
    for (const [name, value] of Object.entries(req.headers)) {
      if (typeof value === 'string') headers.set(name, value);
    }
    const request = new Request(`http://localhost:3000${req.url}`, {
      method: req.method,
      headers,
      body: Readable.toWeb(req) as ReadableStream<Uint8Array>,
      duplex: 'half',
    } as RequestInit);
    POST(request)
      .then(async (response) => {
        res.writeHead(response.status, Object.fromEntries(response.headers));
        res.end(Buffer.from(await response.arrayBuffer()));
      })
      .catch((error: unknown) => {
        res.statusCode = 500;
        res.end(String(error));
      });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    post: (text: string, chunked: boolean) =>
      fetch(`${url}/capi/events`, {
        method: 'POST',
        headers: {
          host: 'shop.example.com',
          'content-type': 'application/json',
          'sec-fetch-site': 'same-origin',
          'user-agent': UA,
          'x-forwarded-for': '203.0.113.9',
        },
        body: chunked ? new Blob([text]).stream() : text,
        duplex: 'half',
      } as RequestInit),
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

describe('createRelayRoute: the 64 KiB cap over HTTP', () => {
  let capi: ReturnType<typeof createNextCapi>;
  let server: Awaited<ReturnType<typeof serve>>;
  beforeAll(async () => {
    capi = createNextCapi(options());
    server = await serve(createRelayRoute({ capi, rateLimit: false }).POST);
  });
  afterAll(async () => {
    await server.close();
    await capi.close();
  });

  const post = async (text: string, chunked: boolean) => {
    const before = capi.client.stats().dedup.relay;
    const res = await server.post(text, chunked);
    await capi.flush();
    const stats = capi.client.stats();
    // Every event the relay handed over was delivered: none queued, dropped or dead-lettered.
    expect(stats.sent).toBe(stats.dedup.relay);
    expect(stats.queued + stats.inFlight + stats.deadLettered).toBe(0);
    expect(Object.values(stats.dropped).reduce((a, b) => a + b, 0)).toBe(0);
    return { res, tracked: stats.dedup.relay - before };
  };

  it.each([
    ['chunked', true],
    ['with Content-Length', false],
  ])('refuses a 90 KiB body sent %s: 413, nothing tracked or sent', async (_how, chunked) => {
    const { res, tracked } = await post(bodyOf('big', 90 * 1024), chunked);
    expect(res.status).toBe(413);
    expect(await res.json()).toEqual({ error: 'body_too_large' });
    expect(tracked).toBe(0);
    expect(mock.events()).toEqual([]);
  });

  it.each([
    ['chunked', true],
    ['with Content-Length', false],
  ])('accepts a body just under the cap sent %s', async (_how, chunked) => {
    const text = bodyOf('cap', CAP - 400);
    expect(byteLength(text)).toBeLessThanOrEqual(CAP);
    const { res, tracked } = await post(text, chunked);
    expect(res.status).toBe(204);
    expect(tracked).toBe(1);
    expect(mock.uniqueEventIds()).toEqual(['cap']);
  });

  it('refuses a short body that re-serializes over the cap, and escaped unicode over it on the wire', async () => {
    // `1e20` is 4 bytes on the wire, 21 re-serialized; `\u00e9` is 6 on the wire, 2 as JSON.
    const expanding = body('expanding').replace(
      '"event_id":"expanding"',
      `"event_id":"expanding","n":[${Array.from({ length: 4000 }, () => '1e20').join(',')}]`,
    );
    const escaped = body('escaped', { custom_data: { content_name: '' } }).replace(
      '"content_name":""',
      `"content_name":"${'\\u00e9'.repeat(15_000)}"`,
    );
    expect(byteLength(expanding)).toBeLessThan(20 * 1024);
    expect(byteLength(escaped)).toBeGreaterThan(88 * 1024);
    for (const text of [expanding, escaped]) {
      for (const chunked of [true, false]) {
        const { res, tracked } = await post(text, chunked);
        expect(res.status).toBe(413);
        expect(tracked).toBe(0);
      }
    }
    expect(mock.events()).toEqual([]);
  });
});
