import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { ServerResponse } from 'node:http';
import { connect, type Socket } from 'node:net';
import { setImmediate as tick } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type MockGraph, startMockGraph } from '../src/index.js';

let mock: MockGraph;
beforeEach(async () => {
  mock = await startMockGraph();
});
afterEach(() => mock.close());

/** A raw TCP client of `GET /_mock/stream`, so the test decides when (and whether) it reads. */
const openStream = async (): Promise<{ socket: Socket; lastVersion: () => number }> => {
  const { port } = new URL(mock.url);
  const socket = connect(Number(port), '127.0.0.1');
  let text = '';
  socket.setEncoding('latin1');
  socket.on('data', (chunk: string) => {
    // Only the end matters: the newest version announced (chunked framing included).
    text = (text + chunk).slice(-200);
  });
  socket.write(`GET /_mock/stream HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`);
  await new Promise<void>((resolve) => {
    const check = () => (text.includes('data: ') ? resolve() : setTimeout(check, 5));
    check();
  });
  return {
    socket,
    lastVersion: () => Number(/data: (\d+)\n\n(?:\r\n)?$/.exec(text)?.[1] ?? Number.NaN),
  };
};

describe('GET /_mock/stream, a client that stops reading', () => {
  it('keeps what the mock buffers for it bounded, and the other pages still hear every change', async () => {
    // The mock's own ServerResponse of each stream, read through Node's public diagnostics channel.
    const responses: ServerResponse[] = [];
    const onStart = (message: unknown) => {
      const { request, response } = message as {
        request: { url?: string };
        response: ServerResponse;
      };
      if (request.url === '/_mock/stream') responses.push(response);
    };
    subscribe('http.server.request.start', onStart);
    try {
      const stalled = await openStream();
      stalled.socket.pause(); // never reads again: the kernel's buffers fill, then Node's
      const live = await openStream();
      const [stalledResponse] = responses;
      expect(responses).toHaveLength(2);

      let largest = 0;
      // 1 000 000 changes are ~15 MB of `data: <version>` lines: past what loopback's socket buffers
      // hold for a client that does not read.
      for (let i = 0; i < 1000; i++) {
        for (let j = 0; j < 1000; j++) mock.clearEvents();
        await tick();
        largest = Math.max(largest, stalledResponse?.writableLength ?? 0);
      }
      // Unbounded, this reached ~10 MB: every change was queued for the client that does not read.
      expect(largest).toBeLessThan(4 * 1024);

      const version = mock.eventsManager().version;
      await expect.poll(() => live.lastVersion(), { timeout: 10_000 }).toBe(version);

      // Reading again, the stalled page catches up to the current version (it refetches then).
      stalled.socket.resume();
      await expect.poll(() => stalled.lastVersion(), { timeout: 10_000 }).toBe(version);
      stalled.socket.destroy();
      live.socket.destroy();
    } finally {
      unsubscribe('http.server.request.start', onStart);
    }
  }, 60_000);
});
