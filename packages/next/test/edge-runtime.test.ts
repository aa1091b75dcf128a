import { AsyncLocalStorage } from 'node:async_hooks';
import { createHash } from 'node:crypto';
import { builtinModules } from 'node:module';
import { fileURLToPath } from 'node:url';
import { type MockGraph, startMockGraph } from '@capi-kit/testing';
import { EdgeVM } from '@edge-runtime/vm';
import { rolldown } from 'rolldown';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const PIXEL_ID = '1234567890';
const TOKEN = 'edge-test-token';
const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
const nodeBuiltins = new Set(builtinModules);

/**
 * Bundles the fixture the way Next.js bundles Edge code: `edge-light` first among the export
 * conditions, and any Node built-in (with or without `node:`) is a build error.
 */
async function bundleForEdge(): Promise<{ code: string; modules: string[] }> {
  const bundle = await rolldown({
    input: fixture('edge-entry.ts'),
    platform: 'neutral',
    // As in an app: the packages' own tsconfig.json is not published. The core's maps `#platform`
    // to the Node flavor for type-checking its src; an app resolves `#platform` through
    // the core's package.json `imports` conditions.
    tsconfig: false,
    resolve: {
      conditionNames: ['edge-light', 'worker', 'browser', 'import', 'default'],
      mainFields: ['module', 'main'],
      alias: {
        'next/server.js': fixture('next-server-stub.ts'),
        'next/headers.js': fixture('next-request-stub.ts'),
        'next/navigation.js': fixture('next-request-stub.ts'),
        'next/dist/server/app-render/work-unit-async-storage.external.js':
          fixture('next-request-stub.ts'),
      },
    },
    plugins: [
      {
        name: 'no-node-builtins',
        resolveId(id) {
          if (id.startsWith('node:') || nodeBuiltins.has(id)) {
            throw new Error(`Edge bundle imports the Node built-in "${id}"`);
          }
          return null;
        },
      },
    ],
  });
  const { output } = await bundle.generate({ format: 'iife', codeSplitting: false });
  await bundle.close();
  const [chunk] = output;
  if (chunk?.type !== 'chunk') throw new Error('no chunk');
  return { code: chunk.code, modules: chunk.moduleIds };
}

let mock: MockGraph;
let bundled: { code: string; modules: string[] };

beforeAll(async () => {
  mock = await startMockGraph({ accessToken: TOKEN });
  bundled = await bundleForEdge();
}, 60_000);
afterAll(() => mock.close());

/** A fresh Edge runtime with the bundle loaded; `AsyncLocalStorage` is global there, as in Next. */
function edgeRuntime() {
  return new EdgeVM({
    extend: (context) => Object.assign(context, { AsyncLocalStorage }),
    initialCode: bundled.code,
  });
}

describe('on the Edge runtime', () => {
  it("bundles the core's web flavor, pure-JS SHA-256 (package.json `imports`), and nothing from Node", () => {
    expect(bundled.modules.some((id) => id.includes('/core/dist/platform/web.mjs'))).toBe(true);
    expect(bundled.modules.some((id) => id.includes('/core/dist/platform/node'))).toBe(false);
    expect(bundled.code).not.toMatch(/require\(["']node:/);
  });

  it('computes a context, builds and hashes an event, delivers it with fetch, and runs the proxy', async () => {
    const vm = edgeRuntime();
    const result = await vm.evaluate<Promise<Record<string, unknown>>>(`(async () => {
      const { buildEvent, createCapi, getRequestContext, capiProxy } = globalThis.capiKit;
      const landing = new Request('https://shop.example.com/?fbclid=IwAR_edge', {
        headers: { accept: 'text/html', 'sec-fetch-dest': 'document', 'user-agent': 'EdgeUA/1.0' },
      });
      const proxied = await capiProxy()(landing, {});
      const context = getRequestContext(landing);
      const built = buildEvent({
        event_name: 'Lead',
        action_source: 'website',
        event_source_url: 'https://shop.example.com/',
        user_data: { em: ' Edge@Example.com ', client_user_agent: 'EdgeUA/1.0' },
      });
      const client = createCapi({ pixelId: ${JSON.stringify(PIXEL_ID)}, accessToken: ${JSON.stringify(TOKEN)}, graphUrl: ${JSON.stringify(mock.url)}, env: false });
      const tracked = client.track({ event_name: 'Lead', user_data: { em: 'Edge@Example.com' } }, { context });
      await client.flush();
      await client.close();
      return {
        runtime: typeof EdgeRuntime,
        cookies: proxied.headers.getSetCookie().map((c) => c.split(';')[0]),
        forwardedUrl: proxied.headers.get('x-middleware-request-x-capi-kit-url'),
        fbc: context.user_data.fbc,
        hashed: built.event && built.event.user_data.em,
        tracked,
        stats: client.stats().sent,
      };
    })()`);
    expect(result.runtime).toBe('string');
    expect(result.cookies).toEqual([
      expect.stringMatching(/^_fbp=fb\.1\.\d{13}\.\d+$/),
      expect.stringMatching(/^_fbc=fb\.1\.\d{13}\.IwAR_edge$/),
    ]);
    expect(result.forwardedUrl).toBe('/?fbclid=IwAR_edge');
    expect(result.hashed).toEqual([sha256('edge@example.com')]);
    expect(result.tracked).toMatchObject({ accepted: true });
    expect(result.stats).toBe(1);
    const [lead] = mock.events({ event_name: 'Lead' });
    expect(lead?.event).toMatchObject({
      event_id: (result.tracked as { event_id: string }).event_id,
      event_source_url: 'https://shop.example.com/?fbclid=IwAR_edge',
      user_data: {
        em: [sha256('edge@example.com')],
        client_user_agent: 'EdgeUA/1.0',
        fbc: result.fbc,
      },
    });
  });

  it('runs a withCapi route handler with the request-bound track', async () => {
    mock.reset();
    const vm = edgeRuntime();
    const result = await vm.evaluate<Promise<Record<string, unknown>>>(`(async () => {
      const { createNextCapi } = globalThis.capiKit;
      const capi = createNextCapi({ pixelId: ${JSON.stringify(PIXEL_ID)}, accessToken: ${JSON.stringify(TOKEN)}, graphUrl: ${JSON.stringify(mock.url)}, env: false });
      const POST = capi.withCapi(async (request) => {
        const { email } = await request.json();
        return Response.json(capi.track('Lead', { user_data: { em: email } }));
      });
      const response = await POST(new Request('https://shop.example.com/edge/lead', {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': 'EdgeUA/2.0', referer: 'https://shop.example.com/form' },
        body: JSON.stringify({ email: 'route@example.com' }),
      }), {});
      const body = await response.json();
      await capi.flush();
      await capi.close();
      return { body, cookies: response.headers.getSetCookie().length };
    })()`);
    expect(result.body).toMatchObject({ accepted: true });
    expect(result.cookies).toBe(1);
    const [lead] = mock.events({ event_name: 'Lead' });
    expect(lead?.event).toMatchObject({
      event_id: (result.body as { event_id: string }).event_id,
      event_source_url: 'https://shop.example.com/form',
      user_data: { em: [sha256('route@example.com')], client_user_agent: 'EdgeUA/2.0' },
    });
  });
});
