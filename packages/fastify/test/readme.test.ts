import { readdirSync, readFileSync } from 'node:fs';
import { type MockGraph, startMockGraph } from '@capi-kit/testing';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { PIXEL_ID, postJson, responseTracker } from './fixtures.js';

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

  it('the usage and route config snippets work as shown (built package)', async () => {
    vi.stubEnv('META_PIXEL_ID', PIXEL_ID);
    vi.stubEnv('META_ACCESS_TOKEN', 'readme-token');
    vi.stubEnv('META_GRAPH_URL', mock.url);
    // The snippets import '@capi-kit/fastify' by name: the built package.
    const { app } = await import('./readme-snippets/usage.js');
    await import('./readme-snippets/checkout.js');
    const responses = responseTracker(app);
    const url = await app.listen({ port: 0, host: '127.0.0.1' });
    let leadId = '';
    try {
      const running = {
        url,
        request: (path: string, init: RequestInit = {}) => fetch(`${url}${path}`, init),
      };
      const proxied = { 'x-forwarded-for': '203.0.113.8', 'user-agent': 'readme' };
      const lead = await postJson(running, '/lead', { email: 'lead@example.com' }, proxied);
      leadId = ((await lead.json()) as { event_id: string }).event_id;
      const checkout = await postJson(
        running,
        '/checkout',
        { email: 'buyer@example.com' },
        proxied,
      );
      expect(checkout.status).toBe(201);
      await responses.settled();
    } finally {
      // As in the shutdown snippet: closing the app sends what is queued.
      await app.close();
    }
    expect(mock.events().map((e) => [e.event.event_name, e.event.event_id])).toEqual([
      ['Lead', leadId],
      ['Purchase', 'order-42'],
    ]);
    expect(mock.events()[1]?.event.custom_data).toMatchObject({ value: 59.9, currency: 'EUR' });
  });
});
