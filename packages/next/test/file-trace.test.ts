import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// What a Vercel function or a Next `output: 'standalone'` build deploys is what @vercel/nft traces
// from the app's imports (Next ships it compiled). On Node the core loads `tldts` and
// `libphonenumber-js` on first use, through a `require` made in src/deps/lazy.node.ts: a shape
// the tracer does not read as a `require` leaves both out of the deployment, and then every page
// view that writes cookies fails and every national phone number is dropped, in production only.

const nodeFileTrace = (
  createRequire(import.meta.url)('next/dist/compiled/@vercel/nft') as {
    nodeFileTrace: (
      files: string[],
      options: { base: string },
    ) => Promise<{ fileList: Set<string> }>;
  }
).nodeFileTrace;

const core = (file: string) => fileURLToPath(new URL(`../../core/dist/${file}`, import.meta.url));
const repo = fileURLToPath(new URL('../../../', import.meta.url));

describe("the core's lazily loaded dependencies, as a deployment's file trace sees them", () => {
  it.each(['index.mjs', 'index.cjs'])('are in the trace of %s', async (entry) => {
    const { fileList } = await nodeFileTrace([core(entry)], { base: repo });
    const traced = (name: string) =>
      [...fileList].some((file) => file.includes(`node_modules/${name}/`) && file.endsWith('.js'));
    expect({ tldts: traced('tldts'), libphonenumber: traced('libphonenumber-js') }).toEqual({
      tldts: true,
      libphonenumber: true,
    });
  });
});
