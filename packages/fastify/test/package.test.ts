import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { type MockGraph, startMockGraph } from '@capi-kit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PIXEL_ID } from './fixtures.js';

// The built package, resolved by name through its `exports` the way users get it (tests run after
// the build). A variable keeps TypeScript from needing dist/ to typecheck this file.
const PACKAGE: string = '@capi-kit/fastify';

/** Runs a consumer script with plain Node and parses what it printed. */
function runConsumer(file: string, env: Record<string, string>) {
  return new Promise<Record<string, unknown>>((resolve, reject) => {
    const child = spawn(process.execPath, [fileURLToPath(new URL(file, import.meta.url))], {
      env: { ...process.env, ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) reject(new Error(`${file} exited with ${code}:\n${stderr}`));
      else resolve(JSON.parse(stdout) as Record<string, unknown>);
    });
  });
}

describe('the built package', () => {
  let mock: MockGraph;
  beforeAll(async () => {
    mock = await startMockGraph();
  });
  afterAll(() => mock.close());

  it('has this public API (a change here is an API change)', async () => {
    const api = (await import(/* @vite-ignore */ PACKAGE)) as Record<string, unknown>;
    expect(Object.keys(api).sort()).toMatchInlineSnapshot(`
      [
        "capiPlugin",
        "default",
        "routeConversion",
      ]
    `);
    expect(api.default).toBe(api.capiPlugin);
  });

  it('works from CommonJS (require) on Fastify 5 and 4', async () => {
    const out = await runConsumer('./consumers/app.cjs', {
      META_PIXEL_ID: PIXEL_ID,
      META_ACCESS_TOKEN: 'cjs-token',
      META_GRAPH_URL: mock.url,
    });
    for (const major of ['fastify5', 'fastify4']) {
      expect(out[major]).toMatchObject({
        status: 200,
        cookies: [expect.stringMatching(/^_fbp=fb\.0\./), expect.stringMatching(/^_fbc=fb\.0\./)],
        body: { lead: { accepted: true } },
      });
    }
    const events = mock.events();
    expect(events.map((e) => e.event.event_name).sort()).toEqual([
      'Lead',
      'Lead',
      'ViewContent',
      'ViewContent',
    ]);
    for (const { event } of events) {
      expect(event.user_data).toMatchObject({
        client_ip_address: '203.0.113.3',
        client_user_agent: 'cjs-consumer',
      });
    }
  });
});
