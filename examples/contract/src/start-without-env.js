// @ts-check
// The contract's start check (examples/README.md, "Environment"): started the way it ships but
// without META_PIXEL_ID and META_ACCESS_TOKEN, or with only one of TIKTOK_PIXEL_CODE and
// TIKTOK_ACCESS_TOKEN, an example prints one line saying what is missing and how to start the
// mock, with no stack trace, and exits with 2.
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';

/**
 * How an example is started: `node` and its arguments, in its folder.
 * @typedef {object} StartCommand
 * @property {string[]} args `node` arguments, e.g. `['src/server.js']`.
 * @property {string} cwd The example's folder.
 * @property {Record<string, string>} [env] Extra environment.
 */

/**
 * Runs the command with only PATH, NODE_ENV and `env`: none of the runner's META_* variables.
 * @param {StartCommand} command
 * @param {Record<string, string>} env
 * @returns {Promise<{ code: number | null, stdout: string, stderr: string }>}
 */
function run({ args, cwd, env: extra = {} }, env) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, {
      cwd,
      env: { PATH: process.env.PATH ?? '', NODE_ENV: 'production', PORT: '0', ...extra, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    // A started server would never exit by itself: end it so the test fails instead of hanging.
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.once('error', reject);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Meta's two variables, for the cases that leave out a TikTok one. */
const META = { META_PIXEL_ID: '1234567890', META_ACCESS_TOKEN: 'a-token' };

/**
 * Registers the start check for one example.
 * @param {string} name
 * @param {StartCommand} command
 */
export function describeStartWithoutEnv(name, command) {
  describe(`example contract: ${name} started without its environment`, () => {
    it.each([
      [{}, 'META_PIXEL_ID and META_ACCESS_TOKEN are not set'],
      [{ META_PIXEL_ID: '1234567890' }, 'META_ACCESS_TOKEN is not set'],
      [{ META_ACCESS_TOKEN: 'a-token' }, 'META_PIXEL_ID is not set'],
      // Half a TikTok configuration is refused too, rather than quietly sending to Meta alone.
      [
        { ...META, TIKTOK_PIXEL_CODE: 'C4ABCDEF' },
        'TIKTOK_PIXEL_CODE is set but TIKTOK_ACCESS_TOKEN is not',
      ],
      [
        {
          ...META,
          TIKTOK_ACCESS_TOKEN: 'a-tiktok-token',
          TIKTOK_EVENTS_URL: 'http://127.0.0.1:9/',
        },
        'TIKTOK_ACCESS_TOKEN is set but TIKTOK_PIXEL_CODE is not',
      ],
    ])('with %o: one line naming what is missing and the mock, exit code 2', async (env, says) => {
      const { code, stdout, stderr } = await run(command, env);
      const lines = stderr.split('\n').filter((line) => line.trim() !== '');
      expect({ code, lines }).toEqual({ code: 2, lines: [expect.stringContaining(says)] });
      expect(lines[0]).toContain('npx capi-kit-mock');
      expect(`${stdout}${stderr}`).not.toMatch(/^\s+at /m);
      expect(stdout).not.toMatch(/listening on/);
    });
  });
}

/**
 * Registers the check that an example which cannot start says why in one line, without a stack
 * trace: a `META_PIXEL_ID` that capi-kit refuses (exit 2, like a missing one; the value is never
 * quoted) and a `PORT` another process holds (exit 1). `config: false` leaves out the first, for a
 * framework that logs a failed module set-up itself (NestJS); `port: false` the second, for one
 * whose own command binds the port and says so (`next start`). `frameworkPortLine: true` for one
 * that logs the failed listen itself, in one line before the example's (NestJS: `listen EADDRINUSE`).
 * @param {string} name
 * @param {StartCommand} command
 * @param {{ config?: boolean, port?: boolean, frameworkPortLine?: boolean }} [options]
 */
export function describeStartRefused(
  name,
  command,
  { config = true, port: checkPort = true, frameworkPortLine = false } = {},
) {
  describe(`example contract: ${name} that cannot start`, () => {
    if (config) {
      it('with a META_PIXEL_ID that is not a pixel id: one line naming it, exit code 2', async () => {
        const { code, stdout, stderr } = await run(command, {
          META_PIXEL_ID: 'EAAB-not-a-pixel-id',
          META_ACCESS_TOKEN: 'a-token',
        });
        const lines = stderr.split('\n').filter((line) => line.trim() !== '');
        expect({ code, lines }).toEqual({
          code: 2,
          lines: [expect.stringContaining('pixelId must be the numeric pixel (dataset) id')],
        });
        expect(lines[0]).toContain('META_PIXEL_ID');
        expect(`${stdout}${stderr}`).not.toContain('EAAB-not-a-pixel-id');
        expect(`${stdout}${stderr}`).not.toMatch(/^\s+at /m);
      });
    }

    // Not registered at all when left out: a skipped test would read as one that could not run.
    if (!checkPort) return;
    it('on a port another process holds: a line naming the port and PORT, exit code 1', async () => {
      const holder = createServer();
      await new Promise((resolve) => holder.listen(0, '127.0.0.1', () => resolve(undefined)));
      try {
        const address = holder.address();
        const port = typeof address === 'object' && address !== null ? address.port : 0;
        const { code, stdout, stderr } = await run(command, { ...META, PORT: String(port) });
        expect(code).toBe(1);
        const lines = stderr.split('\n').filter((line) => line.trim() !== '');
        expect(lines).toHaveLength(frameworkPortLine ? 2 : 1);
        expect(lines.at(-1)).toContain(`port ${port} is taken`);
        expect(stderr).toContain('PORT=');
        expect(`${stdout}${stderr}`).not.toMatch(/^\s+at /m);
        expect(stdout).not.toMatch(/listening on/);
      } finally {
        await new Promise((resolve) => holder.close(() => resolve(undefined)));
      }
    });
  });
}
