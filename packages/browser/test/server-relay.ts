import { type CapiClient, createRelay } from '@capi-kit/core';

/** What the server relay (`@capi-kit/core`'s `createRelay`, default options) made of some bodies. */
export interface ServerRelayResult {
  /** The answer to each body, in order. */
  statuses: number[];
  /** The `event_id` of every event it tracked. */
  tracked: string[];
}

/**
 * Posts each body, as the browser sent it, to the real server relay for `pixelIds` (default caps,
 * no rate limit), through a stand-in client that records what it is asked to track (each whole
 * input in `inputs`, when given).
 */
export async function serverRelay(
  bodies: readonly (string | Blob)[],
  pixelIds: readonly string[],
  inputs?: Record<string, unknown>[],
): Promise<ServerRelayResult> {
  const tracked: string[] = [];
  const client = {
    stats: () => ({ pixels: Object.fromEntries(pixelIds.map((id) => [id, {}])) }),
    track(input: { event_id: string }) {
      tracked.push(input.event_id);
      inputs?.push(input);
      return { accepted: true, event_id: input.event_id, issues: [] };
    },
    reportError() {},
  } as unknown as CapiClient;
  const relay = createRelay({ client, rateLimit: false });
  const statuses: number[] = [];
  for (const body of bodies) {
    const request = new Request('https://shop.example/capi/events', {
      method: 'POST',
      headers: { 'sec-fetch-site': 'same-origin', 'content-type': 'application/json' },
      body,
    });
    statuses.push((await relay.handleRequest(request)).status);
  }
  return { statuses, tracked };
}
