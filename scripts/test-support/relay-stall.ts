/**
 * The relay's body deadline on a real server, shared by the adapters' suites that serve the relay
 * from a Node stream (imported by relative path; nothing here ships): a client sends headers and
 * half a body over a raw socket, then stalls.
 */
import { connect } from 'node:net';
import type { CapiClient, Relay } from '@capi-kit/core';
import type { MockGraph } from '@capi-kit/testing';
import { expect } from 'vitest';
import { PIXEL_ID } from './adapter-fixtures.ts';

/** A relay body of one `ViewContent` event with `event_id`, as `@capi-kit/browser` posts it. */
const beacon = (event_id: string) =>
  JSON.stringify({
    v: 1,
    pixel_id: PIXEL_ID,
    events: [{ event_name: 'ViewContent', event_id, event_time: Math.floor(Date.now() / 1000) }],
  });

/** A same-origin relay POST that declares `contentLength` bytes, with `body` (maybe fewer). */
const relayPost = (contentType: string, contentLength: number, body: string) =>
  [
    'POST /capi/events HTTP/1.1',
    'Host: 127.0.0.1',
    `Content-Type: ${contentType}`,
    'Sec-Fetch-Site: same-origin',
    'User-Agent: Mozilla/5.0 (X11; Linux x86_64) capi-kit-raw-socket/1.0',
    `Content-Length: ${contentLength}`,
    '',
    body,
  ].join('\r\n');

/**
 * Writes `raw` on a new loopback connection and collects the answer until the server closes the
 * connection, or, with `endAfterAnswer`, until an answer's head has come (then closes it itself).
 * Aborting `signal` destroys the connection and resolves with what came.
 */
function exchange(
  port: number,
  raw: string,
  signal: AbortSignal,
  endAfterAnswer = false,
): Promise<{ text: string; closedByServer: boolean }> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1', signal });
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
    socket.on('error', (error) => {
      if (!signal.aborted) reject(error);
    });
    socket.on('close', () => resolve({ text, closedByServer }));
    socket.write(raw);
  });
}

/** The app under test: its port, the relay it serves at `/capi/events` and its client. */
export interface StalledBodyTarget {
  port: number;
  /** The relay the adapter created (for its stats); its `bodyTimeoutMs` short, e.g. 100. */
  relay: Pick<Relay, 'stats'>;
  client: CapiClient;
  /** The mock Graph API the client delivers to, reset before the check. */
  mock: MockGraph;
  /**
   * Aborted by the test's cleanup: a server that waits for the rest of a body may wait for ever
   * (Fastify's `requestTimeout` is off by default), and its app cannot close while it does.
   */
  signal: AbortSignal;
  /** The beacon's content type; default `application/json`. */
  contentType?: string;
}

/**
 * Content-Length promises 500 bytes; 20 come, then nothing. Expects `408 {"error":"body_timeout"}`
 * with `Connection: close`, the connection closed by the server, the refusal counted in the
 * relay's `refused.body_timeout` and nothing tracked; then the same server takes a whole beacon.
 */
export async function expectStalledBodyRefused(target: StalledBodyTarget): Promise<void> {
  const { port, relay, client, mock, signal, contentType = 'application/json' } = target;
  const half = beacon('stalled').slice(0, 20);
  const stalled = await exchange(port, relayPost(contentType, 500, half), signal);
  expect(stalled.text).toMatch(/^HTTP\/1\.1 408 /);
  expect(stalled.text.toLowerCase()).toContain('connection: close');
  expect(stalled.text.endsWith('{"error":"body_timeout"}')).toBe(true);
  expect(stalled.closedByServer).toBe(true);
  expect(relay.stats()).toMatchObject({ requests: 1, accepted: 0, refused: { body_timeout: 1 } });
  expect(relay.stats().events.received).toBe(0);
  expect(client.stats().dedup.relay).toBe(0);

  const body = beacon('whole');
  const whole = await exchange(port, relayPost(contentType, body.length, body), signal, true);
  expect(whole.text).toMatch(/^HTTP\/1\.1 204 /);
  const stats = relay.stats();
  expect(stats).toMatchObject({ requests: 2, accepted: 1, refused: { body_timeout: 1 } });
  expect(stats.events).toMatchObject({ received: 1, tracked: 1 });
  await client.flush();
  expect(mock.uniqueEventIds()).toEqual(['whole']);
}
