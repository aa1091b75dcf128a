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
});
