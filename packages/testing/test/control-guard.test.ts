import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { controlRefusal } from '../src/control-guard.js';
import { type MockGraph, startMockGraph } from '../src/index.js';

// A page in the developer's browser must not drive the mock's control routes: not with a form post
// (CSRF, a foreign Origin), not by pointing its own name at 127.0.0.1 (DNS rebinding, a foreign Host).

let mock: MockGraph | undefined;
afterEach(() => mock?.close());

/** A raw request, so the test sets Host and Origin as a browser would. */
const send = (
  url: string,
  method: string,
  path: string,
  headers: Record<string, string>,
): Promise<{ status: number; body: string }> =>
  new Promise((resolve, reject) => {
    const req = request(`${url}${path}`, { method, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });

describe('control routes (/_mock/*) refuse foreign pages', () => {
  it('refuses a Host that is not loopback or the mock’s host, reads and writes alike', async () => {
    mock = await startMockGraph();
    const port = new URL(mock.url).port;
    mock.failNext(503);
    const rebound = { host: `attacker.example:${port}` };
    for (const [method, path] of [
      ['POST', '/_mock/reset'],
      ['GET', '/_mock/events'],
      ['GET', '/_mock/events-manager'],
      ['GET', '/_mock/stream'],
      ['DELETE', '/_mock/events'],
    ] as const) {
      const res = await send(mock.url, method, path, rebound);
      expect(res.status, `${method} ${path}`).toBe(403);
      expect(JSON.parse(res.body)).toMatchObject({
        ok: false,
        error: expect.stringContaining('Host'),
      });
    }
    expect(mock.pendingFaults()).toBe(1);
    // The Graph routes are not control routes: a proxy's Host does not matter to them.
    expect((await send(mock.url, 'GET', '/', rebound)).status).toBe(200);
  });

  it('refuses a state-changing request from another origin, and from an opaque one', async () => {
    mock = await startMockGraph();
    const host = new URL(mock.url).host;
    mock.failNext(503);
    for (const origin of [
      'http://attacker.example',
      'null',
      `https://${host}`,
      'http://localhost:1',
    ]) {
      const res = await send(mock.url, 'POST', '/_mock/reset', { host, origin });
      expect(res.status, origin).toBe(403);
      expect(JSON.parse(res.body).error).toContain('Origin');
    }
    expect(mock.pendingFaults()).toBe(1);
    // A foreign page's GET is a read the browser keeps from it (no CORS header): not refused here.
    expect(
      (await send(mock.url, 'GET', '/_mock/events', { host, origin: 'http://a.example' })).status,
    ).toBe(200);
  });

  it('lets loopback callers and the Events Manager page (same origin) in', async () => {
    mock = await startMockGraph();
    const { port, host } = new URL(mock.url);
    for (const name of ['127.0.0.1', 'localhost', 'app.localhost', '127.1.2.3']) {
      mock.failNext(503);
      expect(
        (await send(mock.url, 'POST', '/_mock/reset', { host: `${name}:${port}` })).status,
      ).toBe(200);
      expect(mock.pendingFaults()).toBe(0);
    }
    const clear = await send(mock.url, 'DELETE', '/_mock/events', { host, origin: mock.url });
    expect(clear.status).toBe(200);
    // Node's fetch sends a loopback Host and no Origin.
    expect((await fetch(`${mock.url}/_mock/reset`, { method: 'POST' })).status).toBe(200);
  });

  // Unit-level: a test should not listen on every interface of the machine it runs on.
  it('takes the configured host, and any address (not a name) when listening on every interface', () => {
    const at = (host: string, listenHost: string) =>
      controlRefusal({ method: 'POST', host, origin: undefined }, listenHost);
    expect(at('192.168.1.20:4000', '0.0.0.0')).toBeUndefined();
    expect(at('[fd00::1]:4000', '::')).toBeUndefined();
    expect(at('rebind.example:4000', '0.0.0.0')).toContain('Host');
    expect(at('192.168.1.20:4000', '127.0.0.1')).toContain('Host');
    expect(at('mock:4000', 'mock')).toBeUndefined();
    expect(at('[::1]:4000', '::1')).toBeUndefined();
    expect(at('localhost@attacker.example', '127.0.0.1')).toContain('Host');
    expect(
      controlRefusal({ method: 'POST', host: undefined, origin: undefined }, '127.0.0.1'),
    ).toBeUndefined();
  });
});

describe('Graph reads refuse a foreign Host (DNS rebinding)', () => {
  it('answers /me, a pixel and dataset_quality only to a loopback Host or the mock’s host', async () => {
    mock = await startMockGraph();
    const { port, host } = new URL(mock.url);
    const { post, validEvent, PIXEL } = await import('./fixtures.js');
    await post(mock, { data: [validEvent()] });
    const auth = { authorization: 'Bearer any-token' }; // the mock takes any token by default
    const reads = [
      '/v26.0/me',
      `/v26.0/${PIXEL}?fields=id,name,last_fired_time`,
      `/v26.0/dataset_quality?dataset_id=${PIXEL}`,
    ];
    for (const path of reads) {
      // A page whose name was pointed at 127.0.0.1 reads as same-origin: its Host is its own name.
      const rebound = await send(mock.url, 'GET', path, { host: `evil.example:${port}`, ...auth });
      expect(rebound.status, path).toBe(403);
      expect(rebound.body, path).not.toContain(PIXEL);
      expect(JSON.parse(rebound.body)).toMatchObject({
        ok: false,
        error: expect.stringContaining('Host'),
      });
      expect((await send(mock.url, 'GET', path, { host, ...auth })).status, path).toBe(200);
      const local = await send(mock.url, 'GET', path, { host: `localhost:${port}`, ...auth });
      expect(local.status, path).toBe(200);
    }
    // The events edge keeps taking any Host: an app may reach the mock through a proxy or a
    // container's name, and a rebound page learns nothing from posting events.
    const accepted = await fetch(mock.eventsUrl(PIXEL), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ data: [validEvent()], access_token: 'x' }),
    });
    expect(accepted.status).toBe(200);
  });
});
