/**
 * What the Express, Fastify and NestJS test suites share beyond the conformance kit
 * (`@capi-kit/testing/adapter-kit`): options that deliver to the mock Graph API, and requests to a
 * server on loopback. Imported by relative path; nothing here ships.
 */
import type { MockGraph } from '@capi-kit/testing';

/** The pixel every adapter suite tracks for. */
export const PIXEL_ID = '1234567890';

/** A server on loopback, with `fetch` against it. */
export interface TestServer {
  /** `http://127.0.0.1:<port>`. */
  url: string;
  /** fetch against the app (each suite adds its browser user agent). */
  request(
    path: string,
    init?: RequestInit & { headers?: Record<string, string> },
  ): Promise<Response>;
}

/** Adapter options that deliver to the mock, trust the loopback proxy and ignore the environment. */
export const mockOptions = <Options extends object>(
  mock: MockGraph,
  accessToken: string,
  extra: Options,
) => ({
  pixelId: PIXEL_ID,
  accessToken,
  graphUrl: mock.url,
  env: false as const,
  trustProxy: 'loopback' as const,
  ...extra,
});

/** POSTs JSON. */
export const postJson = (
  server: TestServer,
  path: string,
  body: unknown,
  headers: Record<string, string> = {},
) =>
  server.request(path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
