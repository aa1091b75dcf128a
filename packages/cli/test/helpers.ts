import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

// The CLI is tested as shipped: the built bin, run by node as a child process. `npm test` builds first.
/** The `capi-kit` command as npm links it (`bin/capi-kit.mjs`, which runs the built `dist/bin.mjs`). */
export const BIN = fileURLToPath(new URL('../bin/capi-kit.mjs', import.meta.url));
const BUILT = fileURLToPath(new URL('../dist/bin.mjs', import.meta.url));

export const PIXEL = '1234567890';
export const TOKEN = 'EAAB-cli-test-token-0123456789';

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs the bin asynchronously (the mock lives in this process and must keep answering) with a
 * clean environment: only what the test passes, plus PATH.
 */
export const runBin = (
  args: readonly string[],
  env: Record<string, string | undefined> = {},
  options: { cwd?: string; timeoutMs?: number } = {},
): Promise<RunResult> => {
  if (!existsSync(BUILT)) throw new Error(`${BUILT} is missing: run \`npx tsdown\` first`);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: options.cwd ?? process.cwd(),
      env: { PATH: process.env.PATH, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`capi-kit ${args.join(' ')} did not finish in time:\n${stdout}\n${stderr}`));
    }, options.timeoutMs ?? 25_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
};

/** A TikTok Events API token as long as a real one, so the output redaction replaces it literally. */
export const TIKTOK_TOKEN = 'tt-cli-test-token-abcdef0123456789';
/** A TikTok pixel code shaped like TikTok's. */
export const TIKTOK_PIXEL = 'C4CLITESTPIXEL000001';

/** The environment that points the CLI's TikTok half at a mock (`mock.tiktok.url`). */
export const tiktokEnv = (eventsUrl: string, extra: Record<string, string> = {}) => ({
  TIKTOK_EVENTS_URL: eventsUrl,
  TIKTOK_ACCESS_TOKEN: TIKTOK_TOKEN,
  TIKTOK_PIXEL_CODE: TIKTOK_PIXEL,
  TIKTOK_TEST_EVENT_CODE: 'TTTEST42',
  ...extra,
});

/** The environment that points the CLI at a mock. */
export const graphEnv = (url: string, extra: Record<string, string> = {}) => ({
  META_GRAPH_URL: url,
  META_ACCESS_TOKEN: TOKEN,
  META_PIXEL_ID: PIXEL,
  ...extra,
});

/**
 * Starts `capi-kit mock` on a free port as a child process (environment: PATH and `env`) and waits
 * for its env block. `output` is what it printed so far on stdout, `errors` on stderr.
 */
export const startCliMock = async (
  args: string[],
  env: Record<string, string> = {},
): Promise<{
  child: ChildProcess;
  env: Record<string, string>;
  output: () => string;
  errors: () => string;
}> => {
  const child = spawn(process.execPath, [BIN, 'mock', '--port', '0', ...args], {
    env: { PATH: process.env.PATH, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const deadline = Date.now() + 20_000;
  // The env block is whole once the line after it is out.
  while (!/export META_PIXEL_ID='\d+'\n[\s\S]*Events Manager \(open in a browser\)/.test(stdout)) {
    if (Date.now() > deadline || child.exitCode !== null)
      throw new Error(`capi-kit mock did not start: ${stdout}${stderr}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  const printed: Record<string, string> = {};
  for (const [, key, value] of stdout.matchAll(/export (\w+)='([^']*)'/g))
    printed[key as string] = value as string;
  return { child, env: printed, output: () => stdout, errors: () => stderr };
};

/** Stops a {@link startCliMock} child with Ctrl-C; resolves with its exit code. */
export const stopCliMock = (child: ChildProcess): Promise<number | null> =>
  new Promise((resolve) => {
    child.once('exit', resolve);
    child.kill('SIGINT');
  });
