import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The repository root, where the packages are packed from. */
export const REPO = new URL('../..', import.meta.url).pathname;

/**
 * The environment for child processes: without the `npm_*` variables of the `npm test` that runs
 * us, which would point npm at the repository (its prefix, its workspaces) instead of the app.
 */
export const cleanEnv = (): NodeJS.ProcessEnv =>
  Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^npm_/i.test(key)));

/** One packed package: its name, tarball and file list, as `npm pack --json` reports them. */
export interface PackedPackage {
  name: string;
  filename: string;
  unpackedSize: number;
  files: { path: string }[];
}

/** Packs every publishable package into `dir` with `npm pack` (what `npm publish` uploads). */
export async function packAll(
  dir: string,
  workspaces: readonly string[],
): Promise<PackedPackage[]> {
  const { stdout } = await run(
    'npm',
    ['pack', '--json', '--pack-destination', dir, ...workspaces.flatMap((ws) => ['-w', ws])],
    { cwd: REPO, env: cleanEnv(), maxBuffer: 16 * 1024 * 1024 },
  );
  return JSON.parse(stdout) as PackedPackage[];
}

/** Third-party packages the apps use, at the versions the repository's lockfile holds (cached). */
const THIRD_PARTY = [
  '@nestjs/common',
  '@nestjs/core',
  '@types/better-sqlite3',
  '@types/express',
  '@types/node',
  '@types/react',
  '@types/react-dom',
  'better-sqlite3',
  'bullmq',
  'express',
  'fastify',
  'ioredis',
  'next',
  'react',
  'react-dom',
  'reflect-metadata',
  'rxjs',
  'typescript',
];

/**
 * Installs the tarballs (and the frameworks they plug into) into `dir`, a directory outside the
 * repository, so nothing resolves through workspace links or the repository's node_modules. The
 * `overrides` make each package's dependency on another one (`@capi-kit/core: 0.1.0`) the tarball.
 */
export async function installApp(dir: string, tarballs: readonly PackedPackage[]): Promise<void> {
  const lock = JSON.parse(readFileSync(join(REPO, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, { version?: string }>;
  };
  const dependencies: Record<string, string> = {};
  for (const name of THIRD_PARTY) {
    const version = lock.packages[`node_modules/${name}`]?.version;
    if (version === undefined) throw new Error(`${name} is not in package-lock.json`);
    dependencies[name] = version;
  }
  const overrides: Record<string, string> = {};
  for (const { name, filename } of tarballs) {
    dependencies[name] = `file:../tarballs/${filename}`;
    overrides[name] = `$${name}`;
  }
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'package.json'),
    JSON.stringify({ name: 'capi-kit-smoke-app', private: true, dependencies, overrides }, null, 2),
  );
  // --ignore-scripts: better-sqlite3 would compile its addon, which no app here opens.
  // --omit=optional: Next's compiler binaries (~100 MB); no app here runs `next build`.
  // --fetch-timeout: a registry request that stalls fails after 30 s and npm retries it (npm's
  // default waits 5 minutes per try). On a fresh machine's CI the hook once ran out its 10 minutes
  // with no output; a stalled request is the likeliest cause, not a proven one (the same install
  // with an empty npm cache takes 50 s here).
  // --logs-dir: npm's debug logs of this install, read to say why it failed (npmTrouble).
  const logsDir = join(dir, '..', 'npm-logs');
  const flags = [
    `--logs-dir=${logsDir}`,
    '--prefer-offline',
    '--no-audit',
    '--no-fund',
    '--ignore-scripts',
    '--omit=optional',
    '--fetch-timeout=30000',
    '--fetch-retries=4',
  ];
  // Alone it takes about a minute, 50 s with an empty npm cache. Bounded, and run once more if
  // that fails: one stuck install must not fail the suite with nothing but a hook timeout.
  const attempt = () =>
    run('npm', ['install', ...flags, '--loglevel=error'], {
      cwd: dir,
      env: cleanEnv(),
      maxBuffer: 16 * 1024 * 1024,
      timeout: INSTALL_TIMEOUT_MS,
      killSignal: 'SIGKILL',
    });
  const started = performance.now();
  try {
    await attempt();
  } catch (error) {
    const seconds = ((performance.now() - started) / 1000).toFixed(0);
    console.warn(
      `npm install of the smoke app failed after ${seconds} s, once more: ${why(error)}${npmTrouble(logsDir)}`,
    );
    try {
      await attempt();
    } catch (again) {
      throw new Error(
        `npm install of the smoke app failed twice; last: ${why(again)}${npmTrouble(logsDir)}`,
        {
          cause: again,
        },
      );
    }
  }
}

/** How long one `npm install` of the smoke app may take before it is killed and run again. */
const INSTALL_TIMEOUT_MS = 240_000;

/** A failed child process in one line: killed by the timeout, or its exit code and stderr's end. */
const why = (error: unknown): string => {
  const { killed, code, stderr } = error as { killed?: boolean; code?: unknown; stderr?: string };
  if (killed) return `killed after ${INSTALL_TIMEOUT_MS / 1000} s`;
  return `exit ${String(code)}: ${String(stderr ?? error)
    .trim()
    .split('\n')
    .slice(-3)
    .join(' | ')}`;
};

/**
 * What npm's newest debug log in `logsDir` says went wrong (its last failed requests or errors), as
 * `; npm's log: …`, with a hint when the registry's TLS certificate was refused: npm waits, retries
 * and reports nothing else at `--loglevel=error` until it gives up.
 */
const npmTrouble = (logsDir: string): string => {
  let lines: string[];
  try {
    const newest = readdirSync(logsDir).sort().at(-1);
    if (newest === undefined) return '';
    lines = readFileSync(join(logsDir, newest), 'utf8')
      .split('\n')
      .filter((line) => /^\d+ error |failed with/.test(line) && !line.includes('complete log'))
      .map((line) => line.replace(/^\d+\s+/, ''));
  } catch {
    return '';
  }
  if (lines.length === 0) return '';
  const certificate = lines.some((line) => /CERT|certificate|UNABLE_TO_(GET|VERIFY)/.test(line))
    ? " (the registry's TLS certificate is not trusted by this Node.js: behind a TLS-intercepting proxy, NODE_EXTRA_CA_CERTS must name its CA, and turbo.json must pass it through)"
    : '';
  return `; npm's log: ${lines.slice(-2).join(' | ')}${certificate}`;
};

/** Copies the app `name` (a folder of `smoke/apps`) into the installed app directory. */
export function copyApp(name: string, appDir: string): string {
  const target = join(appDir, name);
  cpSync(new URL(`../apps/${name}`, import.meta.url), target, { recursive: true });
  return target;
}

/**
 * Runs `node [flags] script` in `cwd` and returns the JSON the script printed after
 * `SMOKE_RESULT `; throws with its output when it fails or prints none.
 */
export async function runApp<T>(cwd: string, script: string, flags: string[] = []): Promise<T> {
  const { stdout, stderr } = await run(process.execPath, [...flags, script], {
    cwd,
    env: { ...cleanEnv(), NODE_ENV: 'production' },
    timeout: 60_000,
  }).catch((error: { stdout?: string; stderr?: string; message: string }) => {
    throw new Error(`${script} failed: ${error.message}\n${error.stdout}\n${error.stderr}`);
  });
  const line = stdout.split('\n').find((l) => l.startsWith('SMOKE_RESULT '));
  if (line === undefined) throw new Error(`${script} printed no result:\n${stdout}\n${stderr}`);
  return JSON.parse(line.slice('SMOKE_RESULT '.length)) as T;
}

/** Runs the installed TypeScript compiler on `tsconfig` in `cwd`; resolves to its output. */
export async function typecheck(cwd: string): Promise<{ ok: boolean; output: string }> {
  return run(process.execPath, [join(cwd, '..', 'node_modules/typescript/bin/tsc'), '-p', cwd], {
    cwd,
    env: cleanEnv(),
    timeout: 120_000,
  }).then(
    ({ stdout }) => ({ ok: true, output: stdout }),
    (error: { stdout?: string; stderr?: string }) => ({
      ok: false,
      output: `${error.stdout ?? ''}${error.stderr ?? ''}`,
    }),
  );
}
