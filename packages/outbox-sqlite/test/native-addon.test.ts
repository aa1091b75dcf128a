// better-sqlite3 without a usable native addon, as a user gets it when the package manager skipped
// its install script (npm 12, pnpm 10) or when the addon was built for another Node: a real app
// directory whose better-sqlite3 has no build (or another Node's), and a child process that
// creates the outbox, as an app does at start-up.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from './helpers.js';

declare module 'vitest' {
  interface TaskMeta {
    /** Why a skipped test did not run; `npm test` prints one line per reason before its totals. */
    skipReason?: string | undefined;
  }
}

const PACKAGE = fileURLToPath(new URL('..', import.meta.url));
const ROOT_MODULES = join(PACKAGE, '..', '..', 'node_modules');
const BETTER_SQLITE3 = join(ROOT_MODULES, 'better-sqlite3');
const ADDON = join(BETTER_SQLITE3, 'build', 'Release', 'better_sqlite3.node');

let temp: ReturnType<typeof tempDir>;
beforeAll(() => {
  if (!existsSync(join(PACKAGE, 'dist', 'index.mjs')))
    throw new Error('build first: the child process runs dist/ (npm run build)');
  temp = tempDir();
});
afterAll(() => temp.cleanup());

/** An app directory with this package's build, core, and better-sqlite3's JS with `addon` or none. */
const appWith = (name: string, addon: 'none' | 'this Node' | 'damaged'): string => {
  const app = join(temp.dir, name);
  const modules = join(app, 'node_modules');
  mkdirSync(join(modules, '@capi-kit'), { recursive: true });
  const own = join(modules, '@capi-kit', 'outbox-sqlite');
  cpSync(join(PACKAGE, 'package.json'), join(own, 'package.json'));
  cpSync(join(PACKAGE, 'dist'), join(own, 'dist'), { recursive: true });
  symlinkSync(join(ROOT_MODULES, '@capi-kit', 'core'), join(modules, '@capi-kit', 'core'));
  for (const dep of ['bindings', 'file-uri-to-path'])
    symlinkSync(join(ROOT_MODULES, dep), join(modules, dep));
  const sqlite = join(modules, 'better-sqlite3');
  cpSync(join(BETTER_SQLITE3, 'package.json'), join(sqlite, 'package.json'));
  cpSync(join(BETTER_SQLITE3, 'lib'), join(sqlite, 'lib'), { recursive: true });
  if (addon !== 'none') mkdirSync(join(sqlite, 'build', 'Release'), { recursive: true });
  const built = join(sqlite, 'build', 'Release', 'better_sqlite3.node');
  if (addon === 'this Node') cpSync(ADDON, built);
  // What a truncated download, or an addon copied from another platform, is to dlopen.
  if (addon === 'damaged') writeFileSync(built, 'not a shared object\n');
  return app;
};

/** Creates the outbox in a child process run by `node` in `app`; what it threw, or that it opened. */
const openIn = (app: string, node = process.execPath) => {
  const script = `import { sqliteOutbox } from '@capi-kit/outbox-sqlite';
try { sqliteOutbox({ path: ${JSON.stringify(join(app, 'outbox.db'))} }).close(); console.log(JSON.stringify({ opened: true })); }
catch (error) { console.log(JSON.stringify({ message: error.message, cause: String(error.cause?.message ?? '') })); }`;
  const child = spawnSync(node, ['--input-type=module', '-e', script], {
    cwd: app,
    encoding: 'utf8',
    timeout: 30_000,
  });
  expect(child.status, child.stderr).toBe(0);
  return JSON.parse(child.stdout.trim().split('\n').at(-1) ?? '{}') as {
    opened?: boolean;
    message?: string;
    cause?: string;
  };
};

// Another Node major than this one, from the Nodes CI tests on (.ci/run sets CAPI_KIT_TEST_NODES).
const otherNode = (process.env.CAPI_KIT_TEST_NODES ?? '')
  .split(':')
  .filter(Boolean)
  .map((dir) => join(dir, 'bin', 'node'))
  .find((node) => {
    if (!existsSync(node)) return false;
    const version = spawnSync(node, ['--version'], { encoding: 'utf8' }).stdout.trim();
    return version.split('.')[0] !== process.version.split('.')[0];
  });

describe('better-sqlite3 without a usable native addon', () => {
  it('the same app directory opens the outbox when the addon is built for this Node', () => {
    expect(openIn(appWith('built', 'this Node'))).toEqual({ opened: true });
  });

  it('says the install script did not run and gives the command, keeping better-sqlite3’s words as the cause', () => {
    const { message, cause } = openIn(appWith('unbuilt', 'none'));
    expect(message).toMatch(/^sqliteOutbox: better-sqlite3's native addon is not built/);
    expect(message).toContain('npm approve-scripts better-sqlite3 && npm rebuild better-sqlite3');
    expect(message).toContain('pnpm approve-builds');
    // One line of better-sqlite3's own words, not its list of every path it tried.
    expect(message).toContain('Could not locate the bindings file');
    expect(message).not.toContain('\n');
    expect(cause).toContain('Could not locate the bindings file');
  });

  it('says an addon that cannot be loaded was built for another platform or is damaged, not that the file cannot be opened', () => {
    const { message, cause } = openIn(appWith('damaged', 'damaged'));
    expect(message).toMatch(
      /^sqliteOutbox: better-sqlite3's native addon cannot be loaded by this Node\.js .*: it was built for another platform, or is damaged\. Run `npm rebuild better-sqlite3` with this Node\./,
    );
    expect(message).not.toContain('outbox.db');
    expect(cause).toContain('better_sqlite3.node');
  });

  it('says the addon was built for another Node and to rebuild it (run on another Node major)', {
    skip: otherNode === undefined,
    meta: {
      skipReason:
        'no other Node major in CAPI_KIT_TEST_NODES (.ci/run sets it) to load this Node’s addon with',
    },
  }, () => {
    const { message } = openIn(appWith('other-node', 'this Node'), otherNode);
    expect(message).toMatch(
      /^sqliteOutbox: better-sqlite3's native addon cannot be loaded by this Node\.js \(v\d+\.\d+\.\d+, [a-z0-9]+-[a-z0-9]+\): it was built for another Node\.js\./,
    );
    expect(message).toContain('npm rebuild better-sqlite3');
    expect(message).toContain('NODE_MODULE_VERSION');
    expect(message).not.toContain('\n');
  });
});
