import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const dist = (file: string) => readFileSync(new URL(`../dist/${file}`, import.meta.url), 'utf8');

describe('the published package', () => {
  it('exposes the public API of each entry point (a change here is an API change)', async () => {
    expect(Object.keys(await import('@capi-kit/next')).sort()).toEqual([
      'createNextCapi',
      'createRelayRoute',
      'registerShutdown',
    ]);
    expect(Object.keys(await import('@capi-kit/next/proxy')).sort()).toEqual(['capiProxy']);
    expect(Object.keys(await import('@capi-kit/next/client')).sort()).toEqual([
      'DEFAULT_PIXEL_SCRIPT_URL',
      'DEFAULT_TIKTOK_SCRIPT_URL',
      'MetaPixel',
      'TikTokPixel',
      'trackPixel',
      'usePixel',
    ]);
  });

  it("starts the client entry with the 'use client' directive, in both formats", () => {
    for (const file of ['client.mjs', 'client.cjs']) {
      expect(dist(file).trimStart()).toMatch(/^["']use client["'];/);
    }
  });

  it('imports no Node built-in from the server and proxy entries (they run on the Edge runtime)', () => {
    const files = ['index.mjs', 'proxy.mjs', 'index.cjs', 'proxy.cjs'];
    const chunks = files.flatMap((file) =>
      [...dist(file).matchAll(/["'](\.\/[^"']+\.(?:mjs|cjs))["']/g)].map((m) => m[1]),
    );
    for (const file of [...files, ...chunks.map((c) => c!.slice(2))]) {
      const code = dist(file);
      expect(code, file).not.toMatch(
        /(?:from|import\(|require\()\s*["'](?:node:|async_hooks|crypto|http)/,
      );
    }
  });

  it('loads next/* lazily in the server entry, so it can be imported outside a Next.js app', () => {
    expect(dist('index.mjs')).not.toMatch(/^import .* from ["']next\//m);
  });
});
