/**
 * The mock Graph API the binding's tests deliver to (server-actions, route-handlers, relay): one
 * per test file, emptied before each test, and the options that point a binding at it.
 */
import { createHash } from 'node:crypto';
import { type MockGraph, startMockGraph } from '@capi-kit/testing';
import { afterAll, beforeAll, beforeEach } from 'vitest';

export const PIXEL_ID = '1234567890';
export const TOKEN = 'next-test-token';
export const UA = 'Mozilla/5.0 (X11; Linux x86_64) capi-kit-next/1.0';
export const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

/** The running mock, set by {@link setUpMockGraph} before the file's first test. */
export let mock: MockGraph;

/** Starts the mock for this test file, empties it before each test and closes it after the last. */
export function setUpMockGraph(): void {
  beforeAll(async () => {
    mock = await startMockGraph({ accessToken: TOKEN });
  });
  afterAll(() => mock.close());
  beforeEach(() => {
    mock.reset();
  });
}

/** `createNextCapi`'s options for the mock, with no `META_*` variables read. */
export const graphOptions = () => ({
  pixelId: PIXEL_ID,
  accessToken: TOKEN,
  graphUrl: mock.url,
  env: false as const,
});
