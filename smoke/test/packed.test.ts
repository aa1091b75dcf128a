// The packages as users get them: `npm pack` every package, install the tarballs into an app in
// the OS temp directory (no workspace links, nothing hoisted from the repository), then run an
// Express ESM app, a CommonJS app, `@capi-kit/next/client` loaded the way Jest loads it, and
// type-check a TypeScript app under each module resolution. Runs on the built dist (turbo builds
// every package first: they are this workspace's dependencies).
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ALLOWED_FILES,
  compareWithAllowList,
  MAX_UNPACKED_BYTES,
  referencedFiles,
} from './allow-list.js';
import {
  cleanEnv,
  copyApp,
  installApp,
  type PackedPackage,
  packAll,
  REPO,
  runApp,
  typecheck,
} from './temp-app.js';

const PIXEL_ID = '1234567890';

/** Every publishable package of the repository (`packages/*` not marked private). */
const WORKSPACES = readdirSync(join(REPO, 'packages')).filter((dir) => {
  const manifest = JSON.parse(readFileSync(join(REPO, 'packages', dir, 'package.json'), 'utf8'));
  return manifest.private !== true;
});

/** Only the wire events, in arrival order, of what an app reports the mock received. */
interface Arrived {
  arrived: {
    pixelId: string;
    event: Record<string, unknown> & { user_data?: Record<string, unknown> };
  }[];
}

let root: string;
let appDir: string;
let packed: PackedPackage[];

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'capi-kit-smoke-'));
  const tarballs = join(root, 'tarballs');
  mkdirSync(tarballs);
  const t0 = performance.now();
  packed = await packAll(
    tarballs,
    WORKSPACES.map((dir) => `packages/${dir}`),
  );
  const t1 = performance.now();
  appDir = join(root, 'app');
  await installApp(appDir, packed);
  const seconds = (ms: number) => (ms / 1000).toFixed(1);
  console.log(
    `[smoke] packed ${packed.length} packages in ${seconds(t1 - t0)} s, installed the app in ${seconds(performance.now() - t1)} s`,
  );
});

afterAll(() => {
  if (root !== undefined) rmSync(root, { recursive: true, force: true });
});

describe('each tarball', () => {
  it('packs every publishable package', () => {
    expect(packed.map((p) => p.name).sort()).toEqual(Object.keys(ALLOWED_FILES).sort());
  });

  it('holds exactly the allowed files: entry points, README and LICENSE; no tests, no dead files', () => {
    const mismatches = packed.flatMap(({ name, files }) => {
      const { unexpected, missing } = compareWithAllowList(
        files.map((f) => f.path),
        ALLOWED_FILES[name] ?? [],
      );
      return [
        ...unexpected.map((file) => `${name}: ships ${file}, which the allow-list does not name`),
        ...missing.map((pattern) => `${name}: ships no ${pattern}`),
      ];
    });
    expect(mismatches).toEqual([]);
  });

  it('holds every file its package.json points at', () => {
    const absent = packed.flatMap(({ name, files }) => {
      const manifest = JSON.parse(
        readFileSync(join(appDir, 'node_modules', name, 'package.json'), 'utf8'),
      );
      const paths = new Set(files.map((f) => f.path));
      return referencedFiles(manifest)
        .filter((file) => !paths.has(file))
        .map((file) => `${name}: ${file}`);
    });
    expect(absent).toEqual([]);
  });

  it('stays within its size budget', () => {
    const budgeted = packed.filter(({ name }) => MAX_UNPACKED_BYTES[name] !== undefined);
    expect(budgeted.map((p) => p.name)).toEqual(Object.keys(MAX_UNPACKED_BYTES));
    for (const { name, unpackedSize } of budgeted) {
      expect(unpackedSize, name).toBeLessThanOrEqual(MAX_UNPACKED_BYTES[name] ?? 0);
    }
  });
});

describe('installed from the tarballs', () => {
  it('an Express ESM app delivers a tracked Lead to the mock Graph API', async () => {
    const result = await runApp<Arrived & { event_id: string }>(
      copyApp('express-esm', appDir),
      'app.js',
    );
    expect(result.arrived).toHaveLength(1);
    const [{ pixelId, event }] = result.arrived as [Arrived['arrived'][number]];
    expect(pixelId).toBe(PIXEL_ID);
    expect(event).toMatchObject({ event_name: 'Lead', event_id: result.event_id });
    // Hashed as Meta requires (trimmed, lower-cased): the normalization ran from the tarball.
    expect(event.user_data?.em).toEqual([
      createHash('sha256').update('smoke@example.com').digest('hex'),
    ]);
    expect(event.user_data?.client_user_agent).toBe('SmokeUA/1.0');
  });

  it('a CommonJS app without require(esm) loads every entry point and delivers server and relayed events', async () => {
    const dir = copyApp('commonjs', appDir);
    // The flag does what this test relies on: with it, require() of an ES module fails.
    writeFileSync(join(dir, 'esm-probe.mjs'), 'export const probe = 1;\n');
    const probe = await promisify(execFile)(
      process.execPath,
      ['--no-experimental-require-module', '-e', "require('./esm-probe.mjs')"],
      { cwd: dir, env: cleanEnv() },
    ).catch((error: { stderr: string }) => error.stderr);
    expect(probe).toMatch(/ERR_REQUIRE_ESM|Must use import to load ES Module/);

    const result = await runApp<
      Arrived & {
        loaded: Record<string, number>;
        purchaseId: string;
        viewId: string;
        pixelCalls: unknown[][];
        relayAnswers: number[];
      }
    >(dir, 'app.js', ['--no-experimental-require-module']);
    for (const [entry, exportCount] of Object.entries(result.loaded)) {
      expect(exportCount, entry).toBeGreaterThan(0);
    }
    expect(Object.keys(result.loaded)).toHaveLength(13);
    expect(result.pixelCalls).toContainEqual([
      'track',
      'ViewContent',
      { content_ids: ['sku-1'], content_type: 'product' },
      { eventID: result.viewId },
    ]);
    expect(result.relayAnswers.every((status) => status < 300)).toBe(true);
    const byName = Object.fromEntries(result.arrived.map((a) => [a.event.event_name, a.event]));
    expect(Object.keys(byName).sort()).toEqual(['Purchase', 'ViewContent']);
    expect(byName.Purchase).toMatchObject({
      event_id: result.purchaseId,
      custom_data: { value: 42, currency: 'USD' },
    });
    expect(byName.ViewContent).toMatchObject({
      event_id: result.viewId,
      action_source: 'website',
      custom_data: { content_ids: ['sku-1'] },
    });
  });

  it("@capi-kit/next/client loads as Jest loads it (require only, jsdom's browser condition)", async () => {
    const result = await runApp<
      Arrived & { event_id: string; html: string; serverTrack: string; platformModules: string[] }
    >(copyApp('jest-like', appDir), 'next-client.js', [
      '--no-experimental-require-module',
      '--conditions=browser',
    ]);
    expect(result.html).toContain(result.event_id);
    expect(result.serverTrack).toBe('string');
    // The browser condition picks the core's web flavor (pure-JS SHA-256), not the node:crypto one.
    expect(result.platformModules).toEqual(['web.cjs']);
    expect(result.arrived.map((a) => [a.pixelId, a.event.event_name, a.event.event_id])).toEqual([
      [PIXEL_ID, 'PageView', result.event_id],
    ]);
  });
});

/** The TypeScript app under each resolution: compiler options and the folder's module type. */
const RESOLUTIONS = {
  'nodenext-esm': { type: 'module', options: { module: 'nodenext', moduleResolution: 'nodenext' } },
  'nodenext-cjs': {
    type: 'commonjs',
    options: { module: 'nodenext', moduleResolution: 'nodenext' },
  },
  node10: { type: 'commonjs', options: { module: 'commonjs', moduleResolution: 'node10' } },
  bundler: { type: 'module', options: { module: 'esnext', moduleResolution: 'bundler' } },
} as const;

// Concurrent: each check is one `tsc` process, mostly waiting on the file system.
describe.concurrent('a strict TypeScript app type-checks against the tarballs', () => {
  it.each(Object.entries(RESOLUTIONS))('with %s resolution', async (name, { type, options }) => {
    const dir = join(appDir, `ts-${name}`);
    mkdirSync(dir);
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ private: true, type }));
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          ...options,
          target: 'es2022',
          lib: ['es2022', 'dom'],
          strict: true,
          noEmit: true,
          // As apps ship: Next's own declarations do not check cleanly without it (e.g. under
          // node10, or without the newest DOM lib). The `@ts-expect-error`s of usage.ts still
          // prove that each of our types resolved rather than fell back to `any`.
          skipLibCheck: true,
          types: ['node'],
        },
        files: ['usage.ts'],
      }),
    );
    writeFileSync(
      join(dir, 'usage.ts'),
      readFileSync(new URL('../apps/typescript/usage.ts', import.meta.url)),
    );
    const { ok, output } = await typecheck(dir);
    expect(output).toBe('');
    expect(ok).toBe(true);
  });
});
