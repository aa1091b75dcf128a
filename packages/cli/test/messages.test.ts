import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type MockGraph, startMockGraph } from '@capi-kit/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { API_VERSIONS } from '../src/api-versions.js';
import { DOCTOR_OPTIONS } from '../src/commands/doctor.js';
import { MOCK_OPTIONS } from '../src/commands/mock.js';
import { SEND_TEST_OPTIONS } from '../src/commands/send-test.js';
import { UPLOAD_OPTIONS } from '../src/commands/upload.js';
import { graphEnv, PIXEL, runBin, startCliMock, stopCliMock, TOKEN } from './helpers.js';

// What the user reads: exit codes, the flag or variable named, no internal function names.
const INTERNAL = /createCapi|readGraphConfig|resolveOptions|TypeError|at file:|\.ts:\d/;

let mock: MockGraph;
let dir: string;
beforeAll(async () => {
  mock = await startMockGraph({ accessToken: TOKEN });
  dir = mkdtempSync(join(tmpdir(), 'capi-kit-messages-'));
});
beforeEach(() => mock.reset());
afterAll(async () => {
  await mock.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('configuration errors exit 2 and name the flag or variable', () => {
  const cases: { args: string[]; env?: Record<string, string>; names: string }[] = [
    { args: ['doctor', '--graph-url', 'notaurl'], names: '--graph-url' },
    { args: ['doctor'], env: { META_GRAPH_URL: 'notaurl' }, names: 'META_GRAPH_URL' },
    { args: ['doctor', '--graph-url', 'ftp://graph.example'], names: '--graph-url' },
    { args: ['send-test', '--pixel-id', 'abc', '--test-event-code', 'T'], names: '--pixel-id' },
    {
      args: ['send-test', '--test-event-code', 'T'],
      env: { META_PIXEL_ID: 'abc' },
      names: 'META_PIXEL_ID',
    },
    {
      args: ['send-test', '--api-version', '26', '--test-event-code', 'T'],
      names: '--api-version',
    },
    { args: ['doctor'], env: { META_API_VERSION: 'v99.0' }, names: 'META_API_VERSION' },
    { args: ['upload', 'rows.csv', '--pixel-id', '12ab'], names: '--pixel-id' },
    { args: ['send-test'], names: 'META_TEST_EVENT_CODE' },
    // Read per row, these made every row invalid or were ignored on every row, the flag unnamed.
    { args: ['upload', 'rows.csv', '--currency', 'euro'], names: '--currency' },
    {
      args: ['upload', 'rows.csv', '--dry-run', '--default-country', 'zz'],
      names: '--default-country',
    },
  ];
  for (const { args, env, names } of cases) {
    it(`${args.join(' ')}${env ? ` with ${Object.keys(env).join(', ')}` : ''} → exit 2 naming ${names}`, async () => {
      writeFileSync(join(dir, 'rows.csv'), 'email,event_time\na@example.com,1764000000\n');
      const result = await runBin(args, { ...graphEnv(mock.url), ...env }, { cwd: dir });
      expect(result.code).toBe(2);
      expect(result.stderr).toContain(names);
      expect(result.stderr + result.stdout).not.toMatch(INTERNAL);
      // Caught before anything is sent: the mock saw no request.
      expect(mock.requests()).toEqual([]);
    });
  }

  it('never prints a refused pixel id: swapped with the access token, it is the token', async () => {
    const token = `EAA${'x'.repeat(40)}`;
    const result = await runBin(['send-test', '--test-event-code', 'T'], {
      ...graphEnv(mock.url),
      META_PIXEL_ID: token,
      META_ACCESS_TOKEN: PIXEL,
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('META_PIXEL_ID');
    expect(result.stderr).toContain('swapped');
    expect(result.stderr + result.stdout).not.toContain(token);
    expect(result.stderr + result.stdout).not.toContain('xxxxxxxx');
    expect(mock.requests()).toEqual([]);
  });

  it('suggests the version meant and lists the known ones for --api-version 26', async () => {
    const result = await runBin(['doctor', '--api-version', '26'], graphEnv(mock.url));
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('did you mean v26.0?');
    for (const { version } of API_VERSIONS) expect(result.stderr).toContain(version);
  });

  it('accepts every version the package knows', async () => {
    for (const { version } of API_VERSIONS.slice(0, 2)) {
      const result = await runBin(
        ['doctor', '--json', '--api-version', version],
        graphEnv(mock.url),
      );
      expect(JSON.parse(result.stdout).apiVersion).toBe(version);
    }
  });
});

/** A flag's line and the column where its description starts. */
interface OptionLine {
  line: string;
  column: number;
}

/**
 * Option lines and their description columns: after the flag, its argument and two or more
 * spaces; or, for a flag too long for the column that stands alone on its line, where the
 * description on the next line starts.
 */
const optionLines = (help: string): OptionLine[] => {
  const lines = help.split('\n');
  const out: OptionLine[] = [];
  lines.forEach((line, i) => {
    if (!/^\s+(-\w, )?--[\w-]+/.test(line)) return;
    const inline = /^(\s+(?:-\w, )?--[\w-]+(?: \S+)?\s{2,})/.exec(line)?.[1]?.length;
    const alone = /^\s+(?:-\w, )?--[\w-]+(?: \S+)?$/.test(line);
    const next = alone ? /^(\s+)\S/.exec(lines[i + 1] ?? '')?.[1]?.length : undefined;
    out.push({ line, column: inline ?? next ?? -1 });
  });
  return out;
};
const envColumn = (line: string): number => /^(\s+[A-Z_]+\s{2,})/.exec(line)?.[1]?.length ?? -1;

describe('every subcommand’s --help', () => {
  const commands = {
    'send-test': SEND_TEST_OPTIONS,
    doctor: DOCTOR_OPTIONS,
    upload: UPLOAD_OPTIONS,
    mock: MOCK_OPTIONS,
  } as const;
  for (const [command, options] of Object.entries(commands)) {
    it(`${command} --help lists every option, aligned in one column`, async () => {
      const result = await runBin([command, '--help']);
      expect(result.code).toBe(0);
      const lines = optionLines(result.stdout);
      for (const [name, spec] of Object.entries(options)) {
        const line = lines
          .map((l) => l.line)
          .find((l) => l.includes(`--${name} `) || l.endsWith(`--${name}`));
        expect(line, `--${name} in ${command} --help`).toBeDefined();
        const short = (spec as { short?: string }).short;
        if (short) expect(line).toContain(`-${short}, --${name}`);
      }
      expect(new Set(lines.map((l) => l.column))).toEqual(new Set([27]));
      const env = result.stdout.split('Environment:\n')[1]?.split('\n\n')[0];
      if (env !== undefined) {
        const envLines = env.split('\n').filter((l) => l.trim() !== '');
        expect(envLines.length).toBeGreaterThan(0);
        expect(new Set(envLines.map(envColumn)).size).toBe(1);
      }
    });
  }
});

describe('capi-kit mock', () => {
  it('prints a copy-paste env block with its token and logs requests with event names', async () => {
    const { child, env, output } = await startCliMock(['--access-token', 'dev-mock-token']);
    try {
      expect(output()).toContain("export META_ACCESS_TOKEN='dev-mock-token'");
      expect(env).toMatchObject({ META_ACCESS_TOKEN: 'dev-mock-token', META_PIXEL_ID: PIXEL });
      expect(env.META_GRAPH_URL).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      // The block works as printed: send-test with exactly that environment is accepted.
      const sent = await runBin(
        ['send-test', '-e', 'Lead', '--test-event-code', 'T1', '--tiktok-test-event-code', 'T2'],
        env,
      );
      expect(sent.code).toBe(0);
      const deadline = Date.now() + 10_000;
      while (!/POST \/v[\d.]+\/\d+\/events 200 1 event \(Lead\)/.test(output())) {
        if (Date.now() > deadline) throw new Error(`no request line: ${output()}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    } finally {
      expect(await stopCliMock(child)).toBe(0);
    }
  });

  it('--app-secret makes it require appsecret_proof', async () => {
    const { child, env } = await startCliMock(['--app-secret', 'mock-app-secret']);
    try {
      // The CLI sends no appsecret_proof, so the mock refuses with Graph's error 100.
      const sent = await runBin(
        ['send-test', '--platform', 'meta', '--test-event-code', 'T1'],
        env,
      );
      expect(sent.code).toBe(1);
      expect(sent.stdout).toMatch(/\b100\b/);
      expect(sent.stdout).toContain('appsecret_proof');
    } finally {
      expect(await stopCliMock(child)).toBe(0);
    }
  });
});

describe('send-test knows whether it talked to the mock', () => {
  let server: Server;
  let url: string;
  beforeAll(async () => {
    // Answers like Graph does, without the mock's x-capi-kit-mock header.
    server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ events_received: 1, messages: [], fbtrace_id: 'AgraphLike' }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('points to Events Manager only when the answer did not come from the mock', async () => {
    const graphLike = await runBin(['send-test', '--test-event-code', 'T1'], graphEnv(url));
    expect(graphLike.code).toBe(0);
    expect(graphLike.stdout).toContain('Meta accepted the test event');
    expect(graphLike.stdout).toContain('Events Manager › Data sources');
    const json = await runBin(['send-test', '--test-event-code', 'T1', '--json'], graphEnv(url));
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: true, mock: false });

    const mocked = await runBin(
      ['send-test', '--test-event-code', 'T1', '--json'],
      graphEnv(mock.url),
    );
    expect(JSON.parse(mocked.stdout)).toMatchObject({ ok: true, mock: true });
  });
});

describe('upload summaries', () => {
  const now = Math.floor(Date.now() / 1000);

  it('during an outage: says nothing was acknowledged, what is kept and how to resume (exit 3)', async () => {
    const file = join(dir, 'outage.csv');
    writeFileSync(
      file,
      `email,event_time,value,currency\na@example.com,${now - 60},5,USD\nb@example.com,${now - 60},6,USD\n`,
    );
    mock.outage(500);
    const result = await runBin(
      ['upload', 'outage.csv', '--batch-size', '10'],
      graphEnv(mock.url),
      {
        cwd: dir,
        timeoutMs: 90_000,
      },
    );
    expect(result.code).toBe(3);
    expect(result.stdout).toContain(
      'sent and acknowledged by Meta: 0 rows in 0 batches (1 attempted)',
    );
    expect(result.stdout).toContain('kept for the next run (not sent yet): 2');
    expect(result.stdout).toContain('Graph could not be reached or kept failing');
    expect(result.stdout).toContain('To resume, run the same command again:');
    expect(result.stdout).toContain('capi-kit upload outage.csv --batch-size 10');
    expect(result.stdout).not.toContain(TOKEN);

    // And the resume does what the summary says.
    mock.recover();
    const resumed = await runBin(
      ['upload', 'outage.csv', '--batch-size', '10'],
      graphEnv(mock.url),
      {
        cwd: dir,
      },
    );
    expect(resumed.code).toBe(0);
    expect(resumed.stdout).toContain('sent and acknowledged by Meta: 2 rows in 1 batch');
    expect(resumed.stdout).toContain('kept for the next run (not sent yet): 0');
    expect(resumed.stdout).not.toContain('To resume');
    expect(mock.events({ pixelId: PIXEL })).toHaveLength(2);
  }, 120_000);

  it('a file with a header and no rows says so, with its exit 1, and sends nothing', async () => {
    writeFileSync(join(dir, 'header-only.csv'), 'email,event_time\n\n,\n');
    for (const args of [['--dry-run'], []]) {
      const result = await runBin(['upload', 'header-only.csv', ...args], graphEnv(mock.url), {
        cwd: dir,
      });
      expect(result.code).toBe(1);
      expect(result.stdout).toContain('0 rows: 0 valid, 0 invalid');
      expect(result.stdout).toContain('No rows under the header');
      expect(result.stdout).toContain('nothing to send');
    }
    expect(mock.requests()).toEqual([]);
  });

  it("names the flags, not the library's options, for a national phone and an ambiguous birth date", async () => {
    // The core's messages say createCapi's buildOptions; here the settings are flags.
    const file = join(dir, 'national.csv');
    writeFileSync(
      file,
      `email,phone,dob,event_time\na@example.com,(650) 555-1212,05/06/1990,${now - 60}\n`,
    );
    const dry = await runBin(
      ['upload', 'national.csv', '--dry-run', '--event-name', 'Lead'],
      {},
      {
        cwd: dir,
      },
    );
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain('phone_without_country_code');
    expect(dry.stdout).toContain('--default-country US');
    expect(dry.stdout).toContain('ambiguous_date_of_birth');
    expect(dry.stdout).toContain('--date-order dmy or mdy');
    expect(dry.stdout).not.toMatch(INTERNAL);
    expect(dry.stdout).not.toContain('buildOptions');
  });

  it('warns about event_time in milliseconds, naming the lines, instead of converting silently', async () => {
    const file = join(dir, 'millis.csv');
    writeFileSync(
      file,
      `email,event_time\na@example.com,${now - 60}\nb@example.com,${(now - 60) * 1000}\nc@example.com,${(now - 30) * 1000}\n`,
    );
    const dry = await runBin(
      ['upload', 'millis.csv', '--dry-run', '--event-name', 'Lead'],
      {},
      {
        cwd: dir,
      },
    );
    expect(dry.code).toBe(0);
    expect(dry.stdout).toMatch(/event_time: event_time_in_milliseconds in 2 rows \(lines 3, 4\)/);
    expect(dry.stdout).toContain('write Unix seconds or ISO 8601');
    const json = await runBin(
      ['upload', 'millis.csv', '--dry-run', '--json', '--event-name', 'Lead'],
      {},
      { cwd: dir },
    );
    expect(JSON.parse(json.stdout).warnings).toMatchObject({
      event_time_in_milliseconds: { field: 'event_time', rows: 2, lines: [3, 4] },
    });
  });
});
