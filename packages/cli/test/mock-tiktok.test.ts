import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runBin, startCliMock, stopCliMock } from './helpers.js';

// `capi-kit mock` plays TikTok's Events API too (the same server as the mock Graph API), and
// prints the env block @capi-kit/testing's own bin prints, Meta's and TikTok's lines alike.

const TESTING_BIN = fileURLToPath(new URL('../../testing/bin/capi-kit-mock.mjs', import.meta.url));

/** The `export …` lines `capi-kit-mock` (@capi-kit/testing's bin) prints, its URL as `<url>`. */
const testingBinEnvLines = async (): Promise<string[]> => {
  const child = spawn(process.execPath, [TESTING_BIN, '--port', '0'], {
    env: { PATH: process.env.PATH },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  try {
    const deadline = Date.now() + 20_000;
    while (!stdout.includes('Events Manager (open in a browser)')) {
      if (Date.now() > deadline || child.exitCode !== null)
        throw new Error(`capi-kit-mock did not start: ${stdout}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  } finally {
    child.kill('SIGINT');
  }
  const url = /listening on (\S+)/.exec(stdout)?.[1] ?? '';
  return envLines(stdout, url);
};

const envLines = (stdout: string, url: string): string[] =>
  stdout
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line.startsWith('export '))
    .map((line) => line.replaceAll(url, '<url>'));

describe('capi-kit mock and TikTok', () => {
  it('prints the same env block as @capi-kit/testing’s bin, and it works as printed', async () => {
    const expected = await testingBinEnvLines();
    expect(expected.map((line) => line.split('=')[0])).toEqual([
      'export META_GRAPH_URL',
      'export META_ACCESS_TOKEN',
      'export META_PIXEL_ID',
      'export META_PIXEL_SCRIPT_URL',
      'export TIKTOK_EVENTS_URL',
      'export TIKTOK_ACCESS_TOKEN',
      'export TIKTOK_PIXEL_CODE',
      'export TIKTOK_PIXEL_SCRIPT_URL',
    ]);
    const { child, env, output } = await startCliMock([]);
    try {
      const url = env.META_GRAPH_URL as string;
      expect(envLines(output(), url)).toEqual(expected);
      // Both Pixel stubs are served where the lines say.
      const metaScript = await fetch(env.META_PIXEL_SCRIPT_URL as string);
      expect(metaScript.status).toBe(200);
      expect(await metaScript.text()).toContain('fbq');
      expect(env.TIKTOK_EVENTS_URL).toBe(`${url}/open_api/v1.3/event/track/`);
      const script = await fetch(env.TIKTOK_PIXEL_SCRIPT_URL as string);
      expect(script.status).toBe(200);
      expect(await script.text()).toContain('ttq');
      // Paste the block as printed, add a test code: both platforms accept one event_id.
      const sent = await runBin(['send-test', '--json'], {
        ...env,
        META_TEST_EVENT_CODE: 'T1',
        TIKTOK_TEST_EVENT_CODE: 'T2',
      });
      expect(sent.code, sent.stdout + sent.stderr).toBe(0);
      const json = JSON.parse(sent.stdout);
      expect(json.platforms).toEqual(['meta', 'tiktok']);
      expect(json.tiktok.mock).toBe(true);
      const deadline = Date.now() + 10_000;
      while (
        !/#0 tiktok POST \/open_api\/v1\.3\/event\/track\/ 200 code 0 1 event \(Purchase\)/.test(
          output(),
        )
      ) {
        if (Date.now() > deadline) throw new Error(`no TikTok request line: ${output()}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    } finally {
      expect(await stopCliMock(child)).toBe(0);
    }
  });

  it('--tiktok-access-token makes it require that token (else code 40105)', async () => {
    const { child, env, output } = await startCliMock([
      '--tiktok-access-token',
      'tt-mock-dev-token',
    ]);
    try {
      expect(env.TIKTOK_ACCESS_TOKEN).toBe('tt-mock-dev-token');
      const ok = await runBin(['send-test', '--platform', 'tiktok'], {
        ...env,
        TIKTOK_TEST_EVENT_CODE: 'T2',
      });
      expect(ok.code).toBe(0);
      const refused = await runBin(['send-test', '--platform', 'tiktok'], {
        ...env,
        TIKTOK_ACCESS_TOKEN: 'tt-some-other-token-0123',
        TIKTOK_TEST_EVENT_CODE: 'T2',
      });
      expect(refused.code).toBe(1);
      expect(refused.stdout).toMatch(/code\s+40105/);
      const deadline = Date.now() + 10_000;
      while (!output().includes('#1 tiktok POST')) {
        if (Date.now() > deadline) throw new Error(`no request line: ${output()}`);
        await new Promise((r) => setTimeout(r, 20));
      }
      expect(output()).toMatch(/#1 tiktok POST \S+ 200 code 40105 1 event \(Purchase\) \d+ms: /);
    } finally {
      expect(await stopCliMock(child)).toBe(0);
    }
  });
});
