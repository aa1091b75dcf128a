import { type MockGraph, startMockGraph } from '@capi-kit/testing';
import express from 'express';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { capi } from '../src/index.js';
import { capiOptions, listen } from './fixtures.js';

// Its own file: the count of clients open at once is per process (this file's worker).

let mock: MockGraph;
beforeAll(async () => {
  mock = await startMockGraph();
});
afterAll(() => mock.close());

it('a client made per request (capi(options) inside a middleware) is said once, with the fix', async () => {
  const warnings: string[] = [];
  const logger = {
    debug: () => {},
    info: () => {},
    error: () => {},
    warn: (_fields: Record<string, unknown>, message: string) => {
      warnings.push(message);
    },
  };
  const made: ReturnType<typeof capi>[] = [];
  const app = express();
  app.use((req, res, next) => {
    const perRequest = capi(capiOptions(mock, { logger, closeOnExit: false }));
    made.push(perRequest);
    perRequest(req, res, next);
  });
  app.get('/', (req, res) => {
    res.json(req.capi.track('PageView').accepted);
  });
  const running = await listen(app);
  try {
    for (let i = 0; i < 105; i++) {
      const res = await running.request('/');
      expect(await res.json()).toBe(true);
    }
    const told = warnings.filter((line) => line.includes('clients are open at once'));
    expect(told).toHaveLength(1);
    expect(told[0]).toContain('once at startup');
  } finally {
    await running.close();
    await Promise.all(made.map((middleware) => middleware.close()));
  }
}, 30_000);
