import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { BIN, runBin, startCliMock, stopCliMock } from './helpers.js';

describe('capi-kit', () => {
  it('keeps its shebang in the built bin', () => {
    expect(readFileSync(BIN, 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
  });

  it.each(['send-test', 'doctor', 'upload', 'mock'])(
    '%s --help prints usage and exits 0',
    async (name) => {
      const result = await runBin([name, '--help']);
      expect(result.code).toBe(0);
      expect(result.stdout).toContain(`Usage: capi-kit ${name}`);
      expect(result.stdout).toContain('Exit codes:');
    },
  );

  it('has a top-level help, help <command> and --version', async () => {
    const help = await runBin(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/send-test[\s\S]*doctor[\s\S]*upload[\s\S]*mock/);
    expect((await runBin(['help', 'upload'])).stdout).toContain('Usage: capi-kit upload');
    const version = await runBin(['--version']);
    expect(version.stdout.trim()).toBe(
      JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version,
    );
  });

  it('exits 2 on usage errors', async () => {
    for (const args of [
      [],
      ['nope'],
      ['doctor', '--nope'],
      ['upload'],
      ['send-test', 'extra'],
      ['help', 'nope'],
      // Names of Object.prototype's members are unknown commands too (they ran
      // `command.run is not a function`, exit 1, or printed the top-level help and exit 0).
      ['constructor'],
      ['toString'],
      ['__proto__'],
      ['help', 'constructor'],
    ]) {
      const result = await runBin(args);
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stderr).toMatch(/error|Usage/);
    }
    expect((await runBin(['hasOwnProperty'])).stderr).toContain('unknown command "hasOwnProperty"');
  });

  it('names the option a mistyped flag was meant to be', async () => {
    for (const [args, said] of [
      [['upload', 'x.csv', '--dry-rn'], 'Unknown option --dry-rn (did you mean --dry-run?).'],
      [
        ['upload', 'x.csv', '--batchsize', '5'],
        'Unknown option --batchsize (did you mean --batch-size?).',
      ],
      [['doctor', '--jsno'], 'Unknown option --jsno (did you mean --json?).'],
      [
        ['send-test', '--platfrom', 'meta'],
        'Unknown option --platfrom (did you mean --platform?).',
      ],
      [['mock', '--prot', '4000'], 'Unknown option --prot (did you mean --port?).'],
      [['doctor', '--nothing-like-it'], 'Unknown option --nothing-like-it.'],
    ] as const) {
      const result = await runBin([...args]);
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stderr).toContain(said);
      // Node's advice to pass it after `--` as a positional suits none of the commands.
      expect(result.stderr).not.toContain("after '--'");
      expect(result.stderr).toContain(`Run \`capi-kit ${args[0]} --help\` for usage.`);
    }
  });

  it('uses colors only on a terminal or when forced, and never with NO_COLOR', async () => {
    const plain = await runBin(['upload', 'missing.csv', '--dry-run']);
    expect(plain.code).toBe(3);
    expect(plain.stderr).not.toContain('\u001b[');
    const forced = await runBin(['upload', 'missing.csv', '--dry-run'], { FORCE_COLOR: '1' });
    expect(forced.stderr).toContain('\u001b[31merror');
    const noColor = await runBin(['upload', 'missing.csv', '--dry-run'], { NO_COLOR: '1' });
    expect(noColor.stderr).not.toContain('\u001b[');
  });

  it('mock on a port already taken exits 3 naming the fix', async () => {
    // It said only "listen EADDRINUSE: address already in use 127.0.0.1:<port>".
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const { port } = taken.address() as AddressInfo;
    try {
      const result = await runBin(['mock', '--port', String(port)]);
      expect(result.code).toBe(3);
      expect(result.stderr).toContain(
        `port ${port} is taken (another capi-kit mock, or your app?): stop it, or pick another with --port (--port 0 picks a free one)`,
      );
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
  });

  it('mock --max-events bounds what the mock keeps, counted in /_mock/stats; a bad value is a usage error', async () => {
    const bad = await runBin(['mock', '--port', '0', '--max-events', '0']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--max-events must be a whole number ≥ 1');
    const { child, env } = await startCliMock(['--max-events', '2', '--quiet']);
    try {
      const url = env.META_GRAPH_URL as string;
      const event = (id: string) => ({
        event_name: 'Lead',
        event_time: Math.floor(Date.now() / 1000) - 5,
        event_id: id,
        action_source: 'website',
        event_source_url: 'https://shop.example.com/',
        user_data: { client_ip_address: '2001:db8::1', client_user_agent: 'Mozilla/5.0 test' },
      });
      const res = await fetch(`${url}/v26.0/1234567890/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: 'Bearer any' },
        body: JSON.stringify({ data: [event('a'), event('b'), event('c')] }),
      });
      expect(res.status).toBe(200);
      expect(await (await fetch(`${url}/_mock/stats`)).json()).toMatchObject({
        maxEvents: 2,
        kept: { events: 2 },
        evicted: { events: 1 },
      });
    } finally {
      await stopCliMock(child);
    }
  });

  it('mock starts the mock Graph API and stops on SIGTERM', async () => {
    const child = spawn(process.execPath, [
      BIN,
      'mock',
      '--port',
      '0',
      '--access-token',
      'tok-12345678',
    ]);
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`no URL in ${out}`)), 10_000);
      child.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        const match = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
        if (match) {
          clearTimeout(timer);
          resolve(match[1] as string);
        }
      });
    });
    const me = await fetch(`${url}/v26.0/me`, {
      headers: { authorization: 'Bearer tok-12345678' },
    });
    expect(await me.json()).toMatchObject({ name: 'capi-kit mock system user' });
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});
