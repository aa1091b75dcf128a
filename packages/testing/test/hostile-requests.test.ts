import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type MockGraph, startMockGraph } from '../src/index.js';

let mock: MockGraph;
beforeAll(async () => {
  mock = await startMockGraph();
});
afterAll(() => mock.close());

/** Sends `head` as written (fetch would normalize the request target) and reads the status line. */
const rawStatus = (head: string): Promise<string> =>
  new Promise((resolve, reject) => {
    const socket = connect(Number(new URL(mock.url).port), '127.0.0.1');
    let text = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      text += chunk;
      if (text.includes('\r\n\r\n')) {
        socket.destroy();
        resolve(text.split('\r\n')[0] ?? '');
      }
    });
    socket.on('error', reject);
    socket.write(head);
  });

describe('request targets the URL parser refuses', () => {
  it('are answered as an unknown Graph path (400), not as the mock’s internal error (500)', async () => {
    for (const target of ['//', '//:0', '///']) {
      for (const method of ['GET', 'POST']) {
        const status = await rawStatus(
          `${method} ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n`,
        );
        expect(status, `${method} ${target}`).toBe('HTTP/1.1 400 Bad Request');
      }
    }
    const res = await fetch(`${mock.url}/`);
    expect(res.status).toBe(200);
  });
});
