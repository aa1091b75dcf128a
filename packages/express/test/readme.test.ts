import { readdirSync, readFileSync } from 'node:fs';
import { type MockGraph, startMockGraph } from '@capi-kit/testing';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { finishTracker, listen, PIXEL_ID, postJson } from './fixtures.js';

// README code blocks are the files in test/readme-snippets, which `tsc -p tsconfig.json` checks.
const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
const snippetDir = new URL('./readme-snippets/', import.meta.url);
const blocks = new Map(
  [...readme.matchAll(/<!-- snippet: (\S+) -->\n```ts\n([\s\S]*?)```/g)].map((m) => [m[1], m[2]]),
);

describe('README', () => {
  const files = readdirSync(snippetDir).filter((f) => f.endsWith('.ts'));

  it('shows every snippet file, and nothing else as a snippet', () => {
    expect([...blocks.keys()].sort()).toEqual(files.sort());
  });

  it.each(files)('%s is identical in the README', (file) => {
    expect(blocks.get(file)).toBe(readFileSync(new URL(file, snippetDir), 'utf8'));
  });
});

describe('README snippets run', () => {
  let mock: MockGraph;
  beforeAll(async () => {
    mock = await startMockGraph();
  });
  afterAll(() => {
    vi.unstubAllEnvs();
    return mock.close();
  });

  it('the usage and trackConversion snippets work as shown (built package)', async () => {
    vi.stubEnv('META_PIXEL_ID', PIXEL_ID);
    vi.stubEnv('META_ACCESS_TOKEN', 'readme-token');
    vi.stubEnv('META_GRAPH_URL', mock.url);
    // The snippets import '@capi-kit/express' by name: the built package.
    const { app, tracking } = await import('./readme-snippets/usage.js');
    await import('./readme-snippets/checkout.js');
    const finished = finishTracker();
    const outer = express();
    outer.use(finished.middleware, app);
    const running = await listen(outer);
    try {
      const proxied = { 'x-forwarded-for': '203.0.113.8' };
      const lead = await postJson(running, '/lead', { email: 'lead@example.com' }, proxied);
      const { event_id } = (await lead.json()) as { event_id: string };
      const checkout = await postJson(
        running,
        '/checkout',
        { email: 'buyer@example.com' },
        proxied,
      );
      expect(checkout.status).toBe(201);
      await finished.settled();
      await tracking.close();
      expect(mock.events().map((e) => [e.event.event_name, e.event.event_id])).toEqual([
        ['Lead', event_id],
        ['Purchase', 'order-42'],
      ]);
      expect(mock.events()[1]?.event.custom_data).toMatchObject({ value: 59.9, currency: 'EUR' });
    } finally {
      await running.close();
    }
  });
});
