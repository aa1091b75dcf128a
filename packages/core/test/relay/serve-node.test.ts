import { createServer, type Server } from 'node:http';
import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { createCapi } from '../../src/delivery/index.js';
import type { ErrorInfo } from '../../src/delivery/types.js';
import { createRelay, type NodeRelayResponse, serveNodeRelay } from '../../src/relay/index.js';
import { PIXEL, scriptedFetch, TOKEN } from '../delivery/helpers.js';

const payload = JSON.stringify({
  v: 1,
  pixel_id: PIXEL,
  events: [
    { event_name: 'ViewContent', event_id: 'e-1', event_time: Math.floor(Date.now() / 1000) },
  ],
});

function fakeResponse(alreadySent: boolean) {
  const written: { status?: number; headers: Record<string, unknown>; body?: string } = {
    headers: {},
  };
  let ended: () => void = () => {};
  const done = new Promise<void>((resolve) => {
    ended = resolve;
  });
  const res: NodeRelayResponse = {
    headersSent: alreadySent,
    statusCode: 200,
    setHeader(name, value) {
      if (this.headersSent) throw new Error('ERR_HTTP_HEADERS_SENT');
      written.headers[name.toLowerCase()] = value;
    },
    getHeader: (name) => written.headers[name.toLowerCase()] as string | undefined,
    end(body) {
      written.status = this.statusCode;
      if (body !== undefined) written.body = body;
      ended();
    },
  };
  return { res, written, done };
}

const request = {
  method: 'POST',
  url: '/capi/events',
  headers: {
    host: 'shop.example.com',
    'content-type': 'application/json',
    'sec-fetch-site': 'same-origin',
    'user-agent': 'UA',
  },
  socket: { remoteAddress: '203.0.113.5' },
  readableEnded: true,
};

describe('serveNodeRelay', () => {
  it('answers 204 with the relay answer and tracks the event once', async () => {
    const { fetch, seen } = scriptedFetch();
    const client = createCapi({ pixelId: PIXEL, accessToken: TOKEN, fetch, env: false });
    const relay = createRelay({ client });
    const { res, written, done } = fakeResponse(false);
    serveNodeRelay(relay, client, { ...request, body: payload }, res);
    await done;
    expect(written.status).toBe(204);
    await client.flush();
    expect(seen.flatMap((r) => r.body.data).map((e) => e.event_id)).toEqual(['e-1']);
    await client.close();
  });

  it('reports instead of throwing when something else already answered the request', async () => {
    const { fetch } = scriptedFetch();
    const client = createCapi({ pixelId: PIXEL, accessToken: TOKEN, fetch, env: false });
    const errors: ErrorInfo[] = [];
    client.on('error', (e) => errors.push(e));
    const { res, written } = fakeResponse(true);
    const failing = {
      ...res,
      get headersSent(): boolean {
        return false;
      },
      end() {
        throw new Error('socket gone');
      },
    } satisfies NodeRelayResponse;
    serveNodeRelay(createRelay({ client }), client, { ...request, body: payload }, res);
    serveNodeRelay(createRelay({ client }), client, { ...request, body: payload }, failing);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(written.status).toBeUndefined();
    expect(errors).toEqual([expect.objectContaining({ kind: 'callback', source: 'relay answer' })]);
    await client.close();
  });

  it('answers 408 to a client that sends half a body and stalls, on a real server', async () => {
    const { fetch, seen } = scriptedFetch();
    const client = createCapi({ pixelId: PIXEL, accessToken: TOKEN, fetch, env: false });
    const errors: ErrorInfo[] = [];
    client.on('error', (e) => errors.push(e));
    const relay = createRelay({ client, bodyTimeoutMs: 100 });
    const server = createServer((req, res) => serveNodeRelay(relay, client, req, res));
    const port = await listen(server);
    try {
      // Content-Length promises the whole payload; 20 bytes of it come, then nothing.
      const stalled = await exchange(port, `${head(payload.length)}${payload.slice(0, 20)}`);
      expect(stalled.text).toMatch(/^HTTP\/1\.1 408 /);
      expect(stalled.text.toLowerCase()).toContain('connection: close');
      expect(stalled.text.endsWith('{"error":"body_timeout"}')).toBe(true);
      // The server closed the connection it will never read to the end.
      expect(stalled.closedByServer).toBe(true);
      // The same server still takes a whole body.
      const whole = await exchange(port, `${head(payload.length)}${payload}`, true);
      expect(whole.text).toMatch(/^HTTP\/1\.1 204 /);
      const stats = relay.stats();
      expect(stats).toMatchObject({ requests: 2, accepted: 1, refused: { body_timeout: 1 } });
      // No event of the stalled body was received: received = tracked + dropped holds.
      expect(stats.events).toMatchObject({ received: 1, tracked: 1 });
      expect(Object.values(stats.events.dropped)).toEqual([0, 0, 0, 0]);
      expect(errors).toEqual([]);
      await client.flush();
      expect(seen.flatMap((r) => r.body.data).map((e) => e.event_id)).toEqual(['e-1']);
    } finally {
      await new Promise((resolve) => server.close(resolve));
      await client.close();
    }
  });

  it('closes the connection of a request it refuses before reading its body, on a real server', async () => {
    const { fetch } = scriptedFetch();
    const client = createCapi({ pixelId: PIXEL, accessToken: TOKEN, fetch, env: false });
    const relay = createRelay({ client });
    const server = createServer((req, res) => serveNodeRelay(relay, client, req, res));
    const port = await listen(server);
    // 100 MB promised, far past maxBodyBytes; Node drained such a body after a 403/405/415 answer
    // to keep the connection, however long it was.
    const huge = head(100_000_000);
    const refused = [
      [huge.replace('Sec-Fetch-Site: same-origin', 'Sec-Fetch-Site: cross-site'), 403],
      [huge.replace('POST ', 'PUT '), 405],
      [huge.replace('application/json', 'multipart/form-data; boundary=x'), 415],
    ] as const;
    try {
      for (const [raw, status] of refused) {
        const answer = await exchange(port, `${raw}${'x'.repeat(4096)}`);
        expect(answer.text).toMatch(new RegExp(`^HTTP/1\\.1 ${status} `));
        expect(answer.text.toLowerCase()).toContain('connection: close');
        expect(answer.closedByServer).toBe(true);
      }
      expect(relay.stats().refused).toMatchObject({
        cross_site: 1,
        method_not_allowed: 1,
        unsupported_media_type: 1,
      });
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await client.close();
    }
  });
});

function listen(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      resolve(typeof address === 'object' && address !== null ? address.port : 0);
    });
  });
}

const head = (length: number) =>
  [
    'POST /capi/events HTTP/1.1',
    'Host: shop.example.com',
    'Content-Type: application/json',
    'Sec-Fetch-Site: same-origin',
    'User-Agent: UA',
    `Content-Length: ${length}`,
    '',
    '',
  ].join('\r\n');

/**
 * Writes `raw` on a new loopback connection and collects the answer until the server closes the
 * connection (or, with `endAfterAnswer`, until an answer has come, then closes it itself).
 */
function exchange(
  port: number,
  raw: string,
  endAfterAnswer = false,
): Promise<{ text: string; closedByServer: boolean }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let text = '';
    let closedByServer = false;
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      text += chunk;
      if (endAfterAnswer && text.includes('\r\n\r\n')) socket.end();
    });
    socket.on('end', () => {
      closedByServer = !endAfterAnswer;
    });
    socket.on('error', reject);
    socket.on('close', () => resolve({ text, closedByServer }));
    socket.write(raw);
  });
}
