#!/usr/bin/env node
// Footprint: what installing and loading capi-kit costs, next to Meta's Node SDK.
// - Installed size: the package's files as published (`npm pack --dry-run --json`: unpacked size),
//   and with its runtime dependencies (their installed directories, each counted once; peer
//   dependencies such as express are left out: the app has them anyway). The SDK is measured from
//   its installed node_modules directory (it is the published tarball) and its dependencies.
// - min+gzip: the package's Node ESM entry bundled with rolldown (`minify: true`), gzip level 9.
//   "own code": every bare import external; "with dependencies": only node: built-ins and peer
//   dependencies external. Adapters' bundles are tree-shaken to what the adapter uses of the core.
//   The SDK has no ESM build: its `main` (dist/cjs.js) is what a bundler gets.
// - Cold start: cold-start.mjs (import and require in fresh processes, and the first event).
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { rolldown } from 'rolldown';
import { coldStart } from './cold-start.mjs';
import { benchArgs, fmt, isMain, printTable, recordTarget } from './lib.mjs';

const BENCH = fileURLToPath(new URL('.', import.meta.url));
const SDK = 'facebook-nodejs-business-sdk';
const KB = 1000;
const CORE_TARGET_KB = 15;

const readJson = (file) => JSON.parse(readFileSync(file, 'utf8'));

/** The capi-kit packages the bench depends on (its devDependencies), test helpers excepted. */
const ourPackages = () =>
  Object.keys(readJson(join(BENCH, 'package.json')).devDependencies).filter(
    (name) => name.startsWith('@capi-kit/') && name !== '@capi-kit/testing',
  );

/** Where `name` is installed as seen from `fromDir` (Node's lookup, without `exports` getting in the way). */
const packageDir = (name, fromDir) => {
  for (let dir = fromDir; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return realpathSync(candidate);
    if (dir === dirname(dir)) throw new Error(`${name} is not installed (from ${fromDir})`);
  }
};

/** Sum of file sizes under a directory; nested node_modules are dependencies, counted on their own. */
const directorySize = (dir) => {
  let bytes = 0;
  let files = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules') continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      const sub = directorySize(path);
      bytes += sub.bytes;
      files += sub.files;
    } else if (entry.isFile()) {
      bytes += statSync(path).size;
      files++;
    }
  }
  return { bytes, files };
};

const packed = new Map();
/** `npm pack --dry-run --json` of a workspace package: its files as published. */
const publishedSize = (dir) => {
  if (!packed.has(dir)) {
    const [info] = JSON.parse(
      execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
        cwd: dir,
        stdio: ['ignore', 'pipe', 'ignore'],
      }).toString(),
    );
    packed.set(dir, { bytes: info.unpackedSize, files: info.entryCount, tarball: info.size });
  }
  return packed.get(dir);
};

const isWorkspace = (dir) => !dir.includes(`${join('node_modules', '')}`);

/** The package's own installed size plus every runtime dependency's, each counted once. */
const installedSize = (name) => {
  const seen = new Map();
  const visit = (depName, fromDir) => {
    const dir = packageDir(depName, fromDir);
    if (seen.has(dir)) return;
    seen.set(dir, isWorkspace(dir) ? publishedSize(dir) : directorySize(dir));
    const pkg = readJson(join(dir, 'package.json'));
    for (const dep of Object.keys(pkg.dependencies ?? {})) visit(dep, dir);
  };
  visit(name, BENCH);
  const [own, ...deps] = [...seen.values()];
  const total = [...seen.values()].reduce(
    (acc, s) => ({ bytes: acc.bytes + s.bytes, files: acc.files + s.files }),
    { bytes: 0, files: 0 },
  );
  return { own, total, packages: seen.size, deps: deps.length };
};

const builtins = new Set([...builtinModules, ...builtinModules.map((m) => `node:${m}`)]);

/** min+gzip of a bundle of `entry`; `external(id)` decides what stays an import. */
const minGzip = async (entry, external) => {
  const bundle = await rolldown({
    input: entry,
    platform: 'node',
    external: (id) => builtins.has(id) || external(id),
    logLevel: 'silent',
  });
  const { output } = await bundle.generate({ format: 'esm', minify: true });
  await bundle.close();
  const code = output
    .filter((o) => o.type === 'chunk')
    .map((o) => o.code)
    .join('\n');
  return { min: Buffer.byteLength(code), gzip: gzipSync(code, { level: 9 }).length };
};

const isBare = (id) => !id.startsWith('.') && !id.startsWith('/') && !id.startsWith('\0');

/** The file `import name` loads on Node (the `node` + `import` conditions, or `main`). */
const nodeEntry = (name) => {
  const dir = packageDir(name, BENCH);
  const pkg = readJson(join(dir, 'package.json'));
  const dot = pkg.exports?.['.'];
  const pick = dot?.import?.node ?? dot?.import?.default ?? dot?.import ?? pkg.module ?? pkg.main;
  return { dir, pkg, file: join(dir, typeof pick === 'string' ? pick : pkg.main) };
};

const bundleSizes = async (name) => {
  const { pkg, file } = nodeEntry(name);
  const peers = new Set(Object.keys(pkg.peerDependencies ?? {}));
  const own = await minGzip(file, isBare);
  const withDeps = await minGzip(
    file,
    (id) => peers.has(id) || [...peers].some((p) => id.startsWith(`${p}/`)),
  );
  return { own, withDeps };
};

/** Per-feature size of the core: an entry importing one export, tree-shaken, deps external. */
const featureSizes = async () => {
  const { file } = nodeEntry('@capi-kit/core');
  const features = [
    ['buildEvent', 'event build (validate, normalize, hash)'],
    ['getRequestContext', 'request context (IP, cookies, URL)'],
    ['createCapi', 'delivery client (queue, batching, retry)'],
    ['pixelSnippet', 'Pixel snippet'],
  ];
  const { writeFileSync, mkdtempSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const dir = mkdtempSync(join(tmpdir(), 'capi-footprint-'));
  const rows = [];
  try {
    const core = await import('@capi-kit/core');
    for (const [exportName, what] of features) {
      if (!(exportName in core)) continue;
      const entry = join(dir, `${exportName}.mjs`);
      writeFileSync(entry, `export { ${exportName} } from ${JSON.stringify(file)};\n`);
      const size = await minGzip(entry, isBare);
      rows.push([`@capi-kit/core: only \`${exportName}\``, what, size]);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return rows;
};

export const benchFootprint = async ({ quick = false } = {}) => {
  const names = [...ourPackages(), SDK];
  const sizeRows = [];
  const sizes = {};
  for (const name of names) {
    const installed = installedSize(name);
    const bundles = await bundleSizes(name);
    sizes[name] = { installed, bundles };
    sizeRows.push([
      `${name}@${readJson(join(packageDir(name, BENCH), 'package.json')).version}`,
      `${fmt(installed.own.bytes / KB, 1)} kB (${installed.own.files} files)`,
      `${fmt(installed.total.bytes / KB, 1)} kB (${installed.packages} packages)`,
      `${fmt(bundles.own.min / KB, 1)} / ${fmt(bundles.own.gzip / KB, 2)} kB`,
      `${fmt(bundles.withDeps.min / KB, 1)} / ${fmt(bundles.withDeps.gzip / KB, 2)} kB`,
    ]);
  }
  for (const [label, what, size] of await featureSizes()) {
    sizeRows.push([label, what, '', `${fmt(size.min / KB, 1)} / ${fmt(size.gzip / KB, 2)} kB`, '']);
  }
  printTable(
    'Footprint: installed size and min+gzip (kB = 1000 bytes)',
    [
      'package',
      'installed (as published)',
      'installed with runtime deps',
      'min / min+gzip, own code (deps external)',
      'min / min+gzip, deps bundled',
    ],
    sizeRows,
    `Bundles: rolldown of the Node ESM entry (the SDK: its \`main\`, dist/cjs.js), \`minify: true\`, gzip -9; node: built-ins and peer dependencies (express, fastify) always external. Installed with runtime deps: the package plus every package in its \`dependencies\` tree, each counted once (workspace packages by their \`npm pack\` size). The per-export rows bundle an entry that re-exports one name of the core, deps external: what tree-shaking leaves for that feature.`,
  );
  const coreGzip = sizes['@capi-kit/core'].bundles.own.gzip;
  recordTarget({
    figure: '@capi-kit/core min+gzip, own code (deps external)',
    value: `${fmt(coreGzip / KB, 2)} kB`,
    target: `< ${CORE_TARGET_KB} kB`,
    pass: coreGzip < CORE_TARGET_KB * KB,
  });

  const cold = await coldStart({ quick });
  return { sizes, cold };
};

if (isMain(import.meta.url)) await benchFootprint(benchArgs());
