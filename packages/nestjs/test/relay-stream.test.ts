import { createRelay, type Relay } from '@capi-kit/core';
import { type MockGraph, startMockGraph } from '@capi-kit/testing';
import { afterAll, afterEach, beforeAll, beforeEach, describe, it, vi } from 'vitest';
import { expectStalledBodyRefused } from '../../../scripts/test-support/relay-stall.ts';
import { CapiModule } from '../src/index.js';
import { capiOptions, type RunningApp, startApp } from './fixtures.js';

// The relay middleware hands the request stream to the relay whenever nothing read it first, so
// the relay's body deadline holds. On Fastify that is every body: Nest runs middleware in an
// `onRequest` hook, before any parser (and Fastify's own `requestTimeout` is off). On Express,
// Nest's JSON parser reads `application/json` first, under the server's own timeout; a
// `text/plain` beacon is the relay's. The module exposes no relay: the one it creates is taken
// from `createRelay`, unchanged, to read its stats.
vi.mock('@capi-kit/core', async (importOriginal) => {
  const core = await importOriginal<typeof import('@capi-kit/core')>();
  return { ...core, createRelay: vi.fn(core.createRelay) };
});

const lastRelay = (): Relay => vi.mocked(createRelay).mock.results.at(-1)?.value as Relay;

let mock: MockGraph;
beforeAll(async () => {
  mock = await startMockGraph();
});
afterAll(() => mock.close());

let connections: AbortController;
let apps: RunningApp[];
beforeEach(() => {
  mock.reset();
  connections = new AbortController();
  apps = [];
});
afterEach(async () => {
  // A server still waiting for the rest of a body closes once its connection is gone.
  connections.abort();
  await Promise.all(apps.map((running) => running.app.close()));
});

describe.each([
  { platform: 'fastify', contentType: 'application/json' },
  { platform: 'express', contentType: 'text/plain;charset=UTF-8' },
] as const)('NestJS on $platform, $contentType', ({ platform, contentType }) => {
  it('answers 408 body_timeout to half a body and a stall, then takes a whole beacon', {
    timeout: 3_000,
  }, async () => {
    const options = capiOptions(mock, { relay: { bodyTimeoutMs: 100 } });
    const running = await startApp(platform, { imports: [CapiModule.forRoot(options)] });
    apps.push(running);
    const port = Number(new URL(running.url).port);
    const { signal } = connections;
    const target = { port, relay: lastRelay(), client: running.client, mock, signal };
    await expectStalledBodyRefused({ ...target, contentType });
  });
});
