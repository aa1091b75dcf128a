// @ts-check
// Starts the built example with `next start` as a child process, for the contract suite and the
// browser test. `next build` must have run (turbo's `build` task does it before `test`); when the
// build is missing it runs here once, which takes about half a minute.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
/** The `next` command's script, run with `node` as `npm start` runs it. */
export const nextBin = fileURLToPath(import.meta.resolve('next/dist/bin/next'));

/** A free loopback port (the OS picks it; closed again before `next start` binds it). */
async function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Runs `next build` if there is no build yet. */
export function ensureBuilt() {
  if (existsSync(new URL('../.next/BUILD_ID', import.meta.url))) return;
  const result = spawnSync(process.execPath, [nextBin, 'build'], {
    cwd: root,
    env: { ...process.env, NEXT_TELEMETRY_DISABLED: '1' },
    stdio: 'inherit',
  });
  if (result.status !== 0) throw new Error(`next build failed (exit ${result.status})`);
}

/**
 * Starts the built example on a free loopback port with `env` (the contract's variables).
 * `flush` calls the test-only `POST /capi-test/flush` route (enabled by `CAPI_EXAMPLE_TEST=1`).
 * @param {Record<string, string>} env
 */
export async function startNext(env) {
  ensureBuilt();
  const port = await freePort();
  const child = spawn(process.execPath, [nextBin, 'start', '-H', '127.0.0.1', '-p', String(port)], {
    cwd: root,
    env: {
      ...process.env,
      ...env,
      PORT: String(port),
      NEXT_TELEMETRY_DISABLED: '1',
      CAPI_EXAMPLE_TEST: '1',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk) => {
    output += chunk;
  });
  child.stderr?.on('data', (chunk) => {
    output += chunk;
  });
  /** @type {Promise<{ code: number | null, signal: NodeJS.Signals | null }>} */
  const exited = new Promise((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const url = `http://127.0.0.1:${port}`;
  const flush = async () => {
    const res = await fetch(`${url}/capi-test/flush`, { method: 'POST' });
    if (res.status !== 204) throw new Error(`flush answered ${res.status}`);
  };
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null)
      throw new Error(`next start exited (${child.exitCode}):\n${output}`);
    try {
      await flush();
      break;
    } catch (error) {
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(`next start did not become ready: ${error}\n${output}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  return {
    url,
    flush,
    output: () => output,
    /** Sends `signal` to the `next start` process. */
    kill: (/** @type {NodeJS.Signals} */ signal) => child.kill(signal),
    /** Resolves with how the process ended: `{ code, signal }`. */
    exited,
    close: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
      }
    },
  };
}
