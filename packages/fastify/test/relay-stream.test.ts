import type { AddressInfo } from 'node:net';
import { createRelay, type Relay } from '@capi-kit/core';
import { type MockGraph, startMockGraph } from '@capi-kit/testing';
import type { FastifyInstance } from 'fastify';
import { afterAll, afterEach, beforeAll, beforeEach, describe, it, vi } from 'vitest';
import { expectStalledBodyRefused } from '../../../scripts/test-support/relay-stall.ts';
import { capiPlugin } from '../src/index.js';
import { capiOptions, MAJORS } from './fixtures.js';

// The relay route hands Fastify's request stream to the relay unread, so the relay's own body
// deadline holds there, as on Express and raw Node. The plugin exposes no relay: the one it
// creates is taken from `createRelay`, unchanged, to read its stats.
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
let apps: FastifyInstance[];
beforeEach(() => {
  mock.reset();
  connections = new AbortController();
  apps = [];
});
afterEach(async () => {
  // A server still waiting for the rest of a body closes once its connection is gone.
  connections.abort();
  await Promise.all(apps.map((app) => app.close()));
});

describe.each(MAJORS)('$name: the relay reads the body stream itself', ({ fastify }) => {
  // Fails rather than hangs where Fastify reads the body: it waits for the 480 missing bytes.
  it('answers 408 body_timeout to half a body and a stall, then takes a whole beacon', {
    timeout: 3_000,
  }, async () => {
    const app = fastify();
    apps.push(app);
    await app.register(capiPlugin, capiOptions(mock, { relay: { bodyTimeoutMs: 100 } }));
    const relay = lastRelay();
    await app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = app.server.address() as AddressInfo;
    const { signal } = connections;
    await expectStalledBodyRefused({ port, relay, client: app.capiClient, mock, signal });
  });
});
