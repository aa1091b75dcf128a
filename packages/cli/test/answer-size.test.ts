import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { graphEnv, runBin, tiktokEnv } from './helpers.js';

// A Graph or TikTok URL that points at the wrong server (a file server, a stream) answers 200 with
// a body that never ends. The CLI reads at most 1 MiB of an answer, as the core's delivery does,
// and says so, rather than filling the memory until the timeout.

let server: Server;
let base: string;
beforeAll(async () => {
  const chunk = Buffer.alloc(64 * 1024, 'x');
  server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      // Endless, at the pace the client reads (backpressure), until it lets go.
      const pump = () => {
        while (!res.destroyed && res.write(chunk)) {}
      };
      res.on('drain', pump);
      pump();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => {
  server.closeAllConnections();
  return new Promise<void>((resolve) => server.close(() => resolve()));
});

const finish = async (args: string[], env: Record<string, string>) => {
  const started = Date.now();
  const result = await runBin(args, env, { timeoutMs: 20_000 });
  // The default timeout is 10 s: the answer was given up at 1 MiB, not at the deadline.
  expect(Date.now() - started).toBeLessThan(8000);
  return result;
};

describe('an answer that never ends', () => {
  it('doctor reads 1 MiB of it and fails the token check', async () => {
    const result = await finish(['doctor'], graphEnv(base));
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(
      /✖ access token\s+not checked: HTTP 200: an answer larger than 1 MiB, not read \(check --graph-url \/ META_GRAPH_URL\)/,
    );
  });

  it('send-test reads 1 MiB of Meta’s and of TikTok’s', async () => {
    const meta = await finish(
      ['send-test', '--json'],
      graphEnv(base, { META_TEST_EVENT_CODE: 'T1' }),
    );
    expect(meta.code).toBe(1);
    expect(JSON.parse(meta.stdout).error).toBe(
      'HTTP 200: an answer larger than 1 MiB, not read (check --graph-url / META_GRAPH_URL)',
    );
    const tiktok = await finish(['send-test', '--json'], tiktokEnv(`${base}/track/`));
    const { tiktok: answer } = JSON.parse(tiktok.stdout);
    expect(answer.error).toContain(
      'HTTP 200: an answer larger than 1 MiB, not read (check --tiktok-events-url / TIKTOK_EVENTS_URL)',
    );
  });
});
