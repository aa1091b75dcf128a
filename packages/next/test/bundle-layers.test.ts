// Next.js bundles the app's `lib/capi.ts`, and this package with it, once per bundle layer (route
// handlers; pages and their Server Actions; instrumentation): `next start` runs a copy of each
// module per layer, all in one process. Here each layer is a fresh instance of the built package.
import type * as NextPackage from '@capi-kit/next';
import { type MockGraph, startMockGraph } from '@capi-kit/testing';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';

const PIXEL_ID = '1234567890';
const TOKEN = 'next-test-token';

/** The built package as one bundle layer of a Next app loads it: a module instance of its own. */
const layer = async (name: string): Promise<typeof NextPackage> =>
  import(/* @vite-ignore */ `${new URL('../dist/index.mjs', import.meta.url).href}?layer=${name}`);

/** A request through a proxy on 10.0.0.2 that trustProxy does not name (told once per client). */
const viaProxy = () =>
  new Request('http://localhost:3000/lead', {
    method: 'POST',
    headers: {
      host: 'shop.example.com',
      'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) capi-kit-next/1.0',
      referer: 'https://shop.example.com/checkout',
      'x-forwarded-for': '203.0.113.9, 10.0.0.2',
    },
  });

let mock: MockGraph;
const made: NextPackage.NextCapi[] = [];
beforeAll(async () => {
  mock = await startMockGraph({ accessToken: TOKEN });
});
afterAll(() => mock.close());
beforeEach(() => mock.reset());
afterEach(async () => {
  await Promise.all(made.splice(0).map((capi) => capi.close()));
  vi.restoreAllMocks();
});

/** Every line capi-kit printed, whichever console method it used. */
const printed = () => {
  const lines: string[] = [];
  for (const method of ['error', 'warn', 'info'] as const)
    vi.spyOn(console, method).mockImplementation((line: unknown) => {
      lines.push(String(line));
    });
  return lines;
};

describe('createNextCapi in several bundle layers of one process', () => {
  it('gives the same configuration one client, so a warning told once is printed once', async () => {
    const lines = printed();
    const options = {
      pixelId: PIXEL_ID,
      accessToken: TOKEN,
      graphUrl: mock.url,
      env: false as const,
    };
    const routes = (await layer('route')).createNextCapi(options);
    const pages = (await layer('page')).createNextCapi(options);
    made.push(routes, pages);
    for (const capi of [routes, pages]) {
      const POST = capi.withCapi(async () =>
        Response.json(capi.track('Lead', { user_data: { em: 'ann@example.com' } })),
      );
      expect((await POST(viaProxy(), {})).status).toBe(200);
    }
    expect(routes.client).toBe(pages.client);
    expect(lines.filter((line) => line.includes('came through a proxy'))).toHaveLength(1);
    await routes.flush();
    expect(mock.events()).toHaveLength(2);
    expect(routes.client.stats()).toMatchObject({ sent: 2, queued: 0 });
  });

  it('tells a refused configuration once per process, and refuses every track in every layer', async () => {
    const lines = printed();
    const options = { pixelId: 'abc', accessToken: TOKEN, graphUrl: mock.url, env: false as const };
    const routes = (await layer('route-refused')).createNextCapi(options);
    const pages = (await layer('page-refused')).createNextCapi(options);
    // instrumentation.ts reading `client` to refuse to start gets the error, and nothing is printed.
    expect(() => routes.client).toThrow(/pixelId must be the numeric pixel/);
    expect(lines).toEqual([]);
    const results = [
      routes.track('Lead'),
      pages.track('Lead'),
      await pages.trackConversion('Lead', { event_id: 'lead-1' }),
    ];
    expect(results.map(({ accepted, reason }) => ({ accepted, reason }))).toEqual([
      { accepted: false, reason: 'error' },
      { accepted: false, reason: 'error' },
      { accepted: false, reason: 'error' },
    ]);
    const told = lines.filter((line) => line.includes('could not create'));
    expect(told).toEqual([expect.stringContaining('pixelId must be the numeric pixel')]);
    expect(mock.events()).toEqual([]);
  });

  it('still gives two calls in one layer a client each (two bindings of the app)', async () => {
    printed();
    const { createNextCapi } = await layer('one');
    const options = {
      pixelId: PIXEL_ID,
      accessToken: TOKEN,
      graphUrl: mock.url,
      env: false as const,
    };
    const first = createNextCapi(options);
    const second = createNextCapi(options);
    made.push(first, second);
    expect(first.client).not.toBe(second.client);
  });
});
