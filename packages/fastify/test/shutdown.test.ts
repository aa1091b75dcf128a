import { type MockGraph, startMockGraph } from '@capi-kit/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { capiPlugin } from '../src/index.js';
import { capiOptions, listen, MAJORS, postJson } from './fixtures.js';

let mock: MockGraph;
beforeAll(async () => {
  mock = await startMockGraph();
});
beforeEach(() => mock.reset());
afterAll(() => mock.close());

describe.each(MAJORS)('$name: app.close() and shutdownTimeoutMs', ({ fastify }) => {
  const withLead = async (extra: Parameters<typeof capiOptions>[1]) => {
    const app = fastify();
    await app.register(capiPlugin, capiOptions(mock, extra));
    app.post<{ Body: { email: string } }>('/lead', async (request) =>
      request.capi.track('Lead', { user_data: { em: request.body.email } }),
    );
    const running = await listen(app);
    const res = await postJson(running, '/lead', { email: 'a@example.com' });
    expect(res.status).toBe(200);
    return app;
  };

  it('waits out a Retry-After within shutdownTimeoutMs and delivers', async () => {
    // 3 s: past the 2 s default, so only the option lets close() wait it out.
    mock.failNext({ kind: 'http', status: 503, retryAfterSeconds: 3 });
    const app = await withLead({ shutdownTimeoutMs: 5_000 });
    await app.close();
    expect(app.capiClient.stats()).toMatchObject({ sent: 1, queued: 0 });
    expect(mock.events()).toHaveLength(1);
  });

  it('without it, the 2 s default does not wait out a 3 s Retry-After: counted, not lost', async () => {
    mock.failNext({ kind: 'http', status: 503, retryAfterSeconds: 3 });
    const app = await withLead({});
    await app.close();
    expect(app.capiClient.stats()).toMatchObject({ sent: 0, dropped: { shutdown: 1 } });
  });

  it('refuses a shutdownTimeoutMs that is not a number of milliseconds when registered', async () => {
    // close() reads anything else as its 2 s default (a negative number as 0): the string of an
    // environment variable gave app.close() 2 s instead of the time asked for, unheard.
    for (const [value, message] of [
      ['5000', 'got the string "5000" (convert it with Number())'],
      [-1, 'got -1'],
      [Number.POSITIVE_INFINITY, 'got Infinity'],
    ] as const) {
      const app = fastify();
      await expect(
        app.register(capiPlugin, capiOptions(mock, { shutdownTimeoutMs: value as never })),
      ).rejects.toThrow(
        `capi-kit: shutdownTimeoutMs must be a number of milliseconds ≥ 0 and finite, ${message}`,
      );
      await app.close();
    }
  });

  it('gives up at shutdownTimeoutMs and counts what is left as dropped (shutdown)', async () => {
    mock.outage('hang');
    const app = await withLead({ shutdownTimeoutMs: 200, timeoutMs: 30_000 });
    await app.close();
    const stats = app.capiClient.stats();
    expect(stats).toMatchObject({ sent: 0, queued: 0, inFlight: 0 });
    expect(stats.dropped.shutdown).toBe(1);
    mock.recover();
  });
});
