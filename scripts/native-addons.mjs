// Native addons are compiled for one Node ABI (NODE_MODULE_VERSION, one per major). `npm ci` builds
// them for the Node that ran it; to run the packages' tests on another major, `withAddonsFor` puts
// a build for that major in place, compiled once with node-gyp from the installed sources and kept
// in that Node's directory (outside the repo), and puts the original back afterwards.
import { spawnSync } from 'node:child_process';
import {
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/** The native addons in the tree (today only better-sqlite3, under @capi-kit/outbox-sqlite). */
const ADDONS = [
  { name: 'better-sqlite3', binary: join('build', 'Release', 'better_sqlite3.node') },
];
const SAVED = '.capi-kit-saved';

/** Puts back binaries a killed run left swapped (`<binary>.capi-kit-saved` is the original). */
export function restoreAddons(root) {
  for (const { name, binary } of ADDONS) {
    const installed = join(root, 'node_modules', name, binary);
    if (existsSync(installed + SAVED)) renameSync(installed + SAVED, installed);
  }
}

/** npm's own node-gyp: npm names it to the scripts it runs, else it sits next to npm's CLI. */
function nodeGypScript() {
  const { npm_config_node_gyp: named, npm_execpath: npmCli } = process.env;
  const candidates = [
    named,
    npmCli && join(dirname(npmCli), '..', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
  ];
  const found = candidates.find((path) => path && existsSync(path));
  if (!found) throw new Error('node-gyp not found: run this through npm (`npm test`)');
  return found;
}

/** The addon built for the Node in `nodeDir`: compiled once, then taken from the cache. */
function addonFor(root, nodeDir, { name, binary }) {
  const sources = join(root, 'node_modules', name);
  const { version } = JSON.parse(readFileSync(join(sources, 'package.json'), 'utf8'));
  const node = join(nodeDir, 'bin', 'node');
  const abi = spawnSync(node, ['-p', 'process.versions.modules'], {
    encoding: 'utf8',
  }).stdout.trim();
  const cached = join(nodeDir, 'capi-kit-addons', `${name}-${version}-abi${abi}.node`);
  if (existsSync(cached)) return cached;

  mkdirSync(dirname(cached), { recursive: true });
  const work = mkdtempSync(join(tmpdir(), `capi-kit-${name}-`));
  const log = `${cached}.log`;
  try {
    cpSync(sources, work, { recursive: true, filter: (path) => path !== join(sources, 'build') });
    const out = openSync(log, 'w');
    // The compiler's own warnings go to the log: they are the addon's, not ours to act on.
    const { status } = spawnSync(
      node,
      [nodeGypScript(), 'rebuild', '--release', `--nodedir=${nodeDir}`],
      {
        cwd: work,
        stdio: ['ignore', out, out],
        env: {
          ...process.env,
          PATH: `${join(nodeDir, 'bin')}:${process.env.PATH}`,
          npm_config_nodedir: nodeDir,
        },
      },
    );
    if (status !== 0)
      throw new Error(`compiling ${name} ${version} for ABI ${abi} failed: see ${log}`);
    copyFileSync(join(work, binary), `${cached}.partial`);
    renameSync(`${cached}.partial`, cached);
    console.log(`compiled ${name} ${version} for Node ABI ${abi} (kept in ${cached})`);
    return cached;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** Runs `fn` with every native addon built for the Node in `nodeDir`, then restores the originals. */
export function withAddonsFor(root, nodeDir, fn) {
  const swapped = [];
  try {
    for (const addon of ADDONS) {
      const installed = join(root, 'node_modules', addon.name, addon.binary);
      if (!existsSync(installed)) continue;
      const build = addonFor(root, nodeDir, addon);
      renameSync(installed, installed + SAVED);
      swapped.push(installed);
      copyFileSync(build, installed);
    }
    return fn();
  } finally {
    for (const installed of swapped) renameSync(installed + SAVED, installed);
  }
}
