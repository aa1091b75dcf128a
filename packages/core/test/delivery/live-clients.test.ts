import { type MockGraph, startMockGraph } from '@capi-kit/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { CapiClient } from '../../src/delivery/client.js';
import { createCapi } from '../../src/delivery/client.js';
import { captureLogger, PIXEL, purchase } from './helpers.js';

// The count is per process (this file's worker): the test that closes its clients runs first, so
// the one that warns is the first to pass the bound.

let mock: MockGraph;
beforeAll(async () => {
  mock = await startMockGraph();
});
beforeEach(() => mock.reset());
afterAll(() => mock.close());

const make = (logger: ReturnType<typeof captureLogger>['logger']) =>
  createCapi({ pixelId: PIXEL, accessToken: 'test-token', graphUrl: mock.url, env: false, logger });

const tooMany = (lines: ReturnType<typeof captureLogger>['lines']) =>
  lines.filter((line) => line.msg.includes('clients are open at once'));

describe('clients made per request', () => {
  it('says nothing when each client is closed before the next is made, however many there are', async () => {
    const log = captureLogger();
    for (let i = 0; i < 150; i++) {
      const client = make(log.logger);
      if (i % 50 === 0) client.track(purchase(i, Date.now()));
      await client.close();
    }
    expect(tooMany(log.lines)).toEqual([]);
    expect(mock.requests().length).toBe(3);
  }, 30_000);

  it('warns once, with the fix, when more than 100 are open at once; never throws', async () => {
    const log = captureLogger();
    const clients: CapiClient[] = [];
    try {
      for (let i = 0; i < 120; i++) {
        const client = make(log.logger);
        clients.push(client);
        expect(client.track(purchase(i, Date.now())).accepted).toBe(true);
      }
      const lines = tooMany(log.lines);
      expect(lines).toHaveLength(1);
      expect(lines[0]?.level).toBe('warn');
      expect(lines[0]?.msg).toContain('101 clients are open at once');
      expect(lines[0]?.msg).toContain('once at startup');
      expect(lines[0]?.msg).not.toContain('test-token');
    } finally {
      await Promise.all(clients.map((client) => client.close()));
    }
  }, 30_000);
});
