import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { type MockGraph, startMockGraph } from '@capi-kit/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { runConsumer } from '../../../scripts/test-support/package-checks.ts';
import { ACCESS_TOKEN, PIXEL_ID, PLATFORMS } from './fixtures.js';

// What ships: the built files, loaded by plain Node through the package's `exports` (`npm test`
// builds first).
const DIST_ESM = new URL('../dist/index.mjs', import.meta.url);
const DIST_CJS = fileURLToPath(new URL('../dist/index.cjs', import.meta.url));

const consumer = (file: string) => new URL(`./consumers/${file}`, import.meta.url);

const PUBLIC_API = [
  'CAPI_CLIENT',
  'CAPI_OPTIONS',
  'CapiContext',
  'CapiModule',
  'CapiService',
  'TRACK_CONVERSION_METADATA',
  'TrackConversion',
];

describe('the built package', () => {
  let mock: MockGraph;
  let env: Record<string, string>;
  beforeAll(async () => {
    mock = await startMockGraph();
    env = { META_PIXEL_ID: PIXEL_ID, META_ACCESS_TOKEN: ACCESS_TOKEN, META_GRAPH_URL: mock.url };
  });
  afterAll(() => mock?.close());
  beforeEach(() => mock.reset());

  it('exposes the same public API from ESM and CJS', async () => {
    const esm = (await import(/* @vite-ignore */ DIST_ESM.href)) as Record<string, unknown>;
    const cjs = createRequire(import.meta.url)(DIST_CJS) as Record<string, unknown>;
    expect(Object.keys(esm).sort()).toEqual(PUBLIC_API);
    expect(Object.keys(cjs).sort()).toEqual(PUBLIC_API);
  });

  it.each(PLATFORMS)('works in a CommonJS Nest app (require) on %s', async (platform) => {
    const out = await runConsumer(consumer('app.cjs'), { ...env, NEST_PLATFORM: platform });
    expect(out).toMatchObject({ status: 201, format: 'object' });
    expect(out.cookies).toEqual([expect.stringMatching(/^_fbp=fb\.0\./)]);
    expect(mock.events({ event_name: 'Purchase' }).map((e) => e.event.event_id)).toEqual([
      'order-cjs-1',
    ]);
  });

  it.each(PLATFORMS)('works in an ESM Nest app (import) on %s', async (platform) => {
    const out = await runConsumer(consumer('app.mjs'), { ...env, NEST_PLATFORM: platform });
    expect(out).toMatchObject({
      status: 200,
      format: 'undefined',
      body: { event_id: 'esm-1', accepted: true },
    });
    expect(mock.events({ event_name: 'Lead' }).map((e) => e.event.event_id)).toEqual(['esm-1']);
  });
});
