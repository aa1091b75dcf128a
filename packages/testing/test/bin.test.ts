import { type ChildProcessWithoutNullStreams, spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PIXEL, TOKEN, validEvent } from './fixtures.js';
import { TIKTOK_TOKEN, tiktokBody } from './tiktok-fixtures.js';

// The bin is tested as shipped: the built file, run by node. `npm test` builds first.
const BIN = fileURLToPath(new URL('../dist/bin.mjs', import.meta.url));
const PACKAGE = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
  bin: Record<string, string>;
  files: string[];
};
// What npm links as `capi-kit-mock`.
const COMMAND = fileURLToPath(new URL(`../${PACKAGE.bin['capi-kit-mock']}`, import.meta.url));

/** Collects a child's stdout and resolves when a line matches. */
const waitForLine = (child: ChildProcessWithoutNullStreams, pattern: RegExp, timeoutMs = 5000) =>
  new Promise<RegExpExecArray>((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => {
      child.stdout.off('data', onData);
      reject(new Error(`no line matching ${pattern} within ${timeoutMs} ms; got:\n${output}`));
    }, timeoutMs);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = pattern.exec(output);
      if (match) {
        clearTimeout(timer);
        child.stdout.off('data', onData);
        resolve(match);
      }
    };
    child.stdout.on('data', onData);
  });

let child: ChildProcessWithoutNullStreams | undefined;
afterEach(() => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
  child = undefined;
});

describe('capi-kit-mock bin', () => {
  beforeAll(() => {
    if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run \`npx tsdown\` first`);
  });

  it('keeps its shebang in the built file', () => {
    expect(readFileSync(BIN, 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
  });

  it('prints help', () => {
    const result = spawnSync(process.execPath, [BIN, '--help'], { encoding: 'utf8' });
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('Usage: capi-kit-mock [--port 4000] [--host 127.0.0.1]');
  });

  it('refuses a --max-events that is not a whole number ≥ 1 with exit code 2', () => {
    for (const value of ['0', '-3', '1.5', 'lots']) {
      const result = spawnSync(process.execPath, [BIN, `--max-events=${value}`], {
        encoding: 'utf8',
      });
      expect(result.status, value).toBe(2);
      expect(result.stderr).toContain('Invalid --max-events');
    }
  });

  it('refuses unknown options with exit code 2', () => {
    const result = spawnSync(process.execPath, [BIN, '--nope'], { encoding: 'utf8' });
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('Usage');
  });

  it('on a port already taken, names the fix beside EADDRINUSE', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const { port } = taken.address() as AddressInfo;
    try {
      const result = spawnSync(process.execPath, [BIN, '--port', String(port)], {
        encoding: 'utf8',
        timeout: 20_000,
      });
      expect(result.status).toBe(1);
      expect(result.stderr).toContain(
        `port ${port} is taken (another capi-kit-mock, or your app?): stop it, or pick another with --port (--port 0 picks a free one)`,
      );
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
  });

  it('is a file of the source tree, so npm ci in a fresh clone links it before any build', () => {
    const path = PACKAGE.bin['capi-kit-mock'] ?? '';
    expect(path.startsWith('./dist/')).toBe(false);
    expect(PACKAGE.files).toContain(path.split('/')[1]);
    expect(readFileSync(COMMAND, 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
  });

  it('the linked command starts the mock and prints the env that points an app at it', async () => {
    child = spawn(process.execPath, [COMMAND, '--port', '0', '--access-token', 'dev-token']);
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    await waitForLine(child, /Events Manager .*\n/);
    const url = /listening on (http:\/\/127\.0\.0\.1:\d+)\n/.exec(output)?.[1];
    expect(output.split('\n').slice(1, 5)).toEqual([
      'Point your app at it (paste into a shell):',
      `  export META_GRAPH_URL='${url}'`,
      "  export META_ACCESS_TOKEN='dev-token'",
      "  export META_PIXEL_ID='1234567890'",
    ]);
    expect(output).toContain(`  export META_PIXEL_SCRIPT_URL='${url}/fbevents.js'\n`);
    expect(output).toContain(`Events Manager (open in a browser): ${url}/\n`);
    const exited = new Promise<number | null>((resolve) => child?.on('exit', resolve));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });

  it('prints the Pixel stub and the Events Manager URL; --open without an opener still runs', async () => {
    // No opener on PATH (a server, a container): the mock says so and keeps serving.
    child = spawn(process.execPath, [BIN, '--port', '0', '--open'], {
      env: { ...process.env, PATH: '/nonexistent' },
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    // The opener's failure is reported after the banner, so the URL is in by then.
    await waitForLine(child, /--open: could not start/);
    const url = /Events Manager \(open in a browser\): (\S+)\/\n/.exec(output)?.[1];
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const page = await fetch(`${url}/`, { headers: { accept: 'text/html' } });
    expect(await page.text()).toContain('<title>Events Manager');
    const stub = await fetch(`${url}/fbevents.js`);
    expect(stub.status).toBe(200);
    const exited = new Promise<number | null>((resolve) => child?.on('exit', resolve));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });

  it('starts, answers, logs one line per request and stops on SIGTERM', async () => {
    child = spawn(process.execPath, [BIN, '--port', '0', '--access-token', TOKEN]);
    const [, url] = await waitForLine(child, /listening on (http:\/\/127\.0\.0\.1:\d+)\n/);
    const send = (token: string) =>
      fetch(`${url}/v26.0/${PIXEL}/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ data: [validEvent(), validEvent({ event_name: 'Lead' })] }),
      });

    const logged = waitForLine(
      child,
      /#0 POST \/v26\.0\/\d+\/events 200 2 events \(Purchase, Lead\)/,
    );
    expect((await send(TOKEN)).status).toBe(200);
    await logged;

    const rejected = waitForLine(child, /#1 POST \S+ 400 2 events .* 190: /);
    expect((await send('wrong')).status).toBe(400);
    await rejected;

    const exited = new Promise<number | null>((resolve) => child?.on('exit', resolve));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });

  it('logs hostile event names inert: control characters escaped, one line per request', async () => {
    child = spawn(process.execPath, [BIN, '--port', '0']);
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    const [, url] = await waitForLine(child, /listening on (http:\/\/127\.0\.0\.1:\d+)\n/);
    // What any web page can post to a mock on loopback (a form: no preflight): an event name that
    // clears the screen, writes the clipboard (OSC 52) and forges a line of the mock's own.
    const name =
      '\u001b[2J\u001b]52;c;ZXZpbA==\u0007Lead\n#7 POST /v26.0/1/events 200 1 event (Purchase) 1ms';
    const logged = waitForLine(child, /#0 POST .*\n/);
    const res = await fetch(`${url}/v26.0/${PIXEL}/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        access_token: TOKEN,
        data: JSON.stringify([validEvent({ event_name: name })]),
      }),
    });
    expect(res.status).toBe(200);
    await logged;
    const lines = output.split('\n').filter((line) => line.startsWith('#'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(
      '(\\u001b[2J\\u001b]52;c;ZXZpbA==\\u0007Lead\\u000a#7 POST /v26.0/1/events 200 1 event (Purchase) 1ms)',
    );
    expect(output).not.toContain('\u001b');
    expect(output).not.toContain('\u0007');
    const exited = new Promise<number | null>((resolve) => child?.on('exit', resolve));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });

  it("serves TikTok's endpoint too: prints its env, checks its token, logs its requests without the token", async () => {
    child = spawn(process.execPath, [BIN, '--port', '0', '--tiktok-access-token', TIKTOK_TOKEN]);
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    await waitForLine(child, /Events Manager .*\n/);
    const url = /listening on (http:\/\/127\.0\.0\.1:\d+)\n/.exec(output)?.[1];
    expect(output).toContain(`  export TIKTOK_EVENTS_URL='${url}/open_api/v1.3/event/track/'\n`);
    expect(output).toContain(`  export TIKTOK_ACCESS_TOKEN='${TIKTOK_TOKEN}'\n`);
    expect(output).toMatch(/ {2}export TIKTOK_PIXEL_CODE='[A-Z0-9]+'\n/);
    expect(output).toContain(`  export TIKTOK_PIXEL_SCRIPT_URL='${url}/i18n/pixel/events.js'\n`);
    const stub = await fetch(`${url}/i18n/pixel/events.js?sdkid=C4MOCKPIXEL000000000&lib=ttq`);
    expect(stub.status).toBe(200);
    expect(await stub.text()).toContain('TiktokAnalyticsObject');
    const send = (token: string) =>
      fetch(`${url}/open_api/v1.3/event/track/`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'access-token': token },
        body: JSON.stringify(tiktokBody()),
      });
    const accepted = waitForLine(
      child,
      /#0 tiktok POST \/open_api\/v1\.3\/event\/track\/ 200 code 0 1 event \(Purchase\)/,
    );
    expect(((await (await send(TIKTOK_TOKEN)).json()) as { code: number }).code).toBe(0);
    await accepted;
    const refused = waitForLine(child, /#1 tiktok POST \S+ 200 code 40105 .*incorrect/);
    expect(((await (await send('tt-wrong')).json()) as { code: number }).code).toBe(40105);
    await refused;
    const logLines = output.split('\n').filter((line) => line.startsWith('#'));
    expect(logLines.join('\n')).not.toContain('tt-wrong');
    expect(logLines.join('\n')).not.toContain(TIKTOK_TOKEN);
    const exited = new Promise<number | null>((resolve) => child?.on('exit', resolve));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});
