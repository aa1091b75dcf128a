import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// What a Vercel function or a Next `output: 'standalone'` build deploys is what @vercel/nft traces
// from the app's imports (Next ships it compiled). On Node the core loads `tldts` and
// `libphonenumber-js` on first use, through a `require` made in src/deps/lazy.node.ts: a shape
// the tracer does not read as a `require` leaves both out of the deployment, and then every page
// view that writes cookies fails and every national phone number is dropped, in production only.

const requireHere = createRequire(import.meta.url);

const nodeFileTrace = (
  requireHere('next/dist/compiled/@vercel/nft') as {
    nodeFileTrace: (
      files: string[],
      options: { base: string },
    ) => Promise<{ fileList: Set<string> }>;
  }
).nodeFileTrace;

const core = (file: string) => fileURLToPath(new URL(`../../core/dist/${file}`, import.meta.url));
const repo = fileURLToPath(new URL('../../../', import.meta.url));

describe("the core's lazily loaded dependencies, as a deployment's file trace sees them", () => {
  it.each(['index.mjs', 'index.cjs'])(
    'are in the trace of %s',
    async (entry) => {
      const { fileList } = await nodeFileTrace([core(entry)], { base: repo });
      const traced = (name: string) =>
        [...fileList].some(
          (file) => file.includes(`node_modules/${name}/`) && file.endsWith('.js'),
        );
      expect({ tldts: traced('tldts'), libphonenumber: traced('libphonenumber-js') }).toEqual({
        tldts: true,
        libphonenumber: true,
      });
    },
    60_000,
  ); // a trace of the repository: past 5 s on a loaded machine
});

// The other way a CommonJS server ships: bundled into one file (webpack for a Lambda, say). The
// CommonJS build's `require('tldts')` is a dependency the bundler follows; the `createRequire` of a
// `pathToFileURL(__filename)` it had until December 2026 was not, and its bundle failed with
// "Cannot find module 'tldts'" wherever node_modules was not deployed beside it.
describe("the core's CommonJS build bundled for Node by webpack (Next's own)", () => {
  it('runs with tldts and libphonenumber-js inside the bundle, no node_modules beside it', async () => {
    const { webpack } = requireHere('next/dist/compiled/webpack/webpack') as {
      webpack: (config: object) => {
        run: (done: (error: Error | null, stats?: { hasErrors(): boolean }) => void) => void;
      };
    };
    const dir = mkdtempSync(join(tmpdir(), 'capi-kit-bundle-'));
    try {
      // Inside the repository, so that `@capi-kit/core` resolves as in an app's node_modules.
      const entry = fileURLToPath(new URL('./.bundle-entry.cjs', import.meta.url));
      writeFileSync(
        entry,
        `const core = require('@capi-kit/core');
const context = core.getRequestContext({ url: '/', headers: { host: 'shop.example.co.uk', 'sec-fetch-dest': 'document' } });
process.stdout.write(JSON.stringify({ domain: context.cookiesToSet[0].domain, phone: core.normalizePhone('030 901820 ext. 7', 'DE') }));`,
      );
      try {
        const compiler = webpack({
          mode: 'production',
          target: 'node',
          entry,
          output: { path: join(dir, 'out'), filename: 'server.cjs' },
          resolve: { conditionNames: ['node', 'require', 'default'] },
          optimization: { minimize: false },
        });
        const failed = await new Promise<boolean>((resolve, reject) =>
          compiler.run((error, stats) =>
            error ? reject(error) : resolve(stats?.hasErrors() ?? true),
          ),
        );
        expect(failed).toBe(false);
      } finally {
        rmSync(entry, { force: true });
      }
      // Deployed alone: a directory with the bundle and nothing else.
      copyFileSync(join(dir, 'out', 'server.cjs'), join(dir, 'server.cjs'));
      const out = execFileSync(process.execPath, [join(dir, 'server.cjs')], {
        cwd: dir,
        encoding: 'utf8',
      });
      expect(JSON.parse(out)).toEqual({ domain: 'example.co.uk', phone: '4930901820' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
