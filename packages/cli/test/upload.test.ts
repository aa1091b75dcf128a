import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type MockGraph, startMockGraph } from '@capi-kit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readCheckpoint } from '../src/upload/checkpoint.js';
import { BIN, graphEnv, runBin, TOKEN } from './helpers.js';

const ROWS = 25_000;
const NOW_S = Math.floor(Date.now() / 1000);
const BAD_RULES = [
  'missing_event_time',
  'invalid_value',
  'event_time_too_old',
  'invalid_event_time',
  'csv_field_count',
] as const;

interface Generated {
  text: string;
  /** line → rule of every bad row. */
  bad: Map<number, string>;
  duplicates: { line: number; firstLine: number }[];
  good: number;
}

/**
 * 25 000 offline purchases: ISO and Unix times, quoted notes with commas, quotes and line breaks
 * (so rows and physical lines diverge), 10 bad rows of 5 kinds, 2 rows repeating an order id.
 */
const generate = (): Generated => {
  const out: string[] = [
    '\uFEFFemail,phone,first_name,last_name,city,zip,country,order_id,event_time,value,currency,notes',
  ];
  const bad = new Map<number, string>();
  const duplicates: Generated['duplicates'] = [];
  let line = 2;
  let previousLine = 0;
  for (let i = 0; i < ROWS; i++) {
    const start = line;
    const ts = NOW_S - 3600 - i;
    let eventTime = i % 2 === 0 ? new Date(ts * 1000).toISOString() : String(ts);
    let value = (10 + (i % 90)).toFixed(2);
    let order = `ord-${i}`;
    const notes = i % 97 === 0 ? '"Called twice,\nleft a ""note"""' : `plain note ${i}`;
    let drop = false;
    if (i % 2500 === 1234) {
      const rule = BAD_RULES[Math.floor(i / 2500) % BAD_RULES.length] as string;
      bad.set(start, rule);
      if (rule === 'missing_event_time') eventTime = '';
      if (rule === 'invalid_value') value = 'abc';
      if (rule === 'event_time_too_old') eventTime = String(NOW_S - 70 * 86_400);
      if (rule === 'invalid_event_time') eventTime = 'next tuesday';
      if (rule === 'csv_field_count') drop = true;
    }
    if (i === 5000 || i === 20_000) {
      order = `ord-${i - 1}`;
      duplicates.push({ line: start, firstLine: previousLine });
    }
    const fields = [
      `user${i}@example.com`,
      `+1 650 555 ${String(i % 10_000).padStart(4, '0')}`,
      'Jane',
      i % 3 === 0 ? '"Doe, Jr."' : 'Doe',
      'Menlo Park',
      '94025',
      'US',
      order,
      eventTime,
      value,
      'USD',
      notes,
    ];
    if (drop) fields.pop();
    out.push(fields.join(','));
    previousLine = start;
    line += 1 + (notes.match(/\n/g)?.length ?? 0);
  }
  return {
    text: `${out.join('\r\n')}\r\n`,
    bad,
    duplicates,
    good: ROWS - bad.size - duplicates.length,
  };
};

let mock: MockGraph;
let dir: string;
let file: string;
let data: Generated;
beforeAll(async () => {
  mock = await startMockGraph({ accessToken: TOKEN });
  dir = mkdtempSync(join(tmpdir(), 'capi-kit-upload-'));
  file = join(dir, 'offline.csv');
  data = generate();
  writeFileSync(file, data.text);
});
afterAll(async () => {
  await mock.close();
  rmSync(dir, { recursive: true, force: true });
});

const upload = (args: string[], env = graphEnv(mock.url)) =>
  runBin(['upload', file, ...args], env, { timeoutMs: 60_000 });

describe('capi-kit upload', () => {
  it('--dry-run reports bad rows by line and rule, without values, and sends nothing', async () => {
    const result = await upload(['--dry-run', '--json'], {} as ReturnType<typeof graphEnv>);
    expect(result.code).toBe(1);
    const report = JSON.parse(result.stdout);
    expect(report).toMatchObject({
      dryRun: true,
      rows: ROWS,
      valid: data.good,
      invalid: 10,
      duplicateCount: 2,
      sent: 0,
    });
    expect(
      report.invalidRows.map((r: { line: number; problems: { rule: string }[] }) => [
        r.line,
        r.problems[0]?.rule,
      ]),
    ).toEqual([...data.bad]);
    expect(report.duplicates).toEqual(data.duplicates);
    expect(report.ignoredColumns).toEqual(['notes']);
    expect(result.stdout).not.toMatch(/user\d+@example\.com/);
    expect(mock.requests()).toEqual([]);

    const human = await upload(['--dry-run'], {} as ReturnType<typeof graphEnv>);
    const [firstBad] = data.bad.keys();
    expect(human.stdout).toContain(`line ${firstBad}: event_time: missing_event_time`);
    expect(human.stdout).toContain('Nothing was sent (--dry-run)');
    expect(human.stdout).not.toContain('\u001b[');
  });

  it('delivers every good row exactly once across an interrupted and a resumed run', async () => {
    const first = await upload(['--max-batches', '10', '--json']);
    expect(first.code, first.stderr).toBe(4);
    const partial = JSON.parse(first.stdout);
    expect(partial).toMatchObject({
      sent: 10_000,
      batches: 10,
      stoppedEarly: 'max-batches',
      invalid: 10,
    });
    expect(mock.events()).toHaveLength(10_000);
    const checkpointPath = `${file}.capi-checkpoint.json`;
    const checkpoint = (await readCheckpoint(checkpointPath))?.checkpoint;
    expect(readFileSync(checkpointPath, 'utf8').split('\n')).toHaveLength(12); // header, 10, ''
    expect(checkpoint?.batches).toHaveLength(10);
    expect(checkpoint?.batches[0]).toMatchObject({ fromLine: 2 });
    expect(checkpoint?.batches[0]?.events).toHaveLength(1000);

    const second = await upload(['--json']);
    expect(second.code).toBe(1); // the 10 bad rows are still there
    const rest = JSON.parse(second.stdout);
    expect(rest).toMatchObject({
      alreadyAcknowledged: 10_000,
      sent: data.good - 10_000,
      rejected: [],
      notSent: 0,
      invalid: 10,
    });
    expect(rest.duplicates).toHaveLength(2);

    expect(mock.duplicates()).toEqual([]);
    expect(mock.events()).toHaveLength(data.good);
    expect(mock.uniqueEventIds()).toHaveLength(data.good);
    expect(mock.rejections()).toEqual([]);
    const [event] = mock.events();
    expect(event?.event).toMatchObject({ action_source: 'physical_store', event_id: 'ord-0' });
    expect(event?.event.user_data.em).toEqual([expect.stringMatching(/^[0-9a-f]{64}$/)]);
    expect(JSON.stringify(mock.events().slice(0, 50))).not.toContain('@example.com');

    const third = await upload([]);
    expect(third.code).toBe(1);
    expect(third.stdout).toMatch(
      /already acknowledged \(skipped\): 24988|24988 already acknowledged/,
    );
    expect(mock.events()).toHaveLength(data.good);
    expect(existsSync(checkpointPath)).toBe(true);
    // Three runs of the built bin over 25,000 rows: it took longer than 30 s on a loaded machine.
  }, 120_000);

  it('finishes the current batch on Ctrl-C (exit 130), then resumes without duplicates', async () => {
    const rows = 5000;
    const sigFile = join(dir, 'interrupted.csv');
    const lines = ['email,order_id,event_time,value,currency'];
    for (let i = 0; i < rows; i++)
      lines.push(`sig${i}@example.com,sig-${i},${NOW_S - 60 - i},5,USD`);
    writeFileSync(sigFile, `${lines.join('\n')}\n`);
    const checkpointPath = `${sigFile}.capi-checkpoint.json`;
    const ours = () => mock.events().filter((e) => e.event.event_id?.startsWith('sig-'));

    const child = spawn(
      process.execPath,
      [BIN, 'upload', sigFile, '--batch-size', '100', '--json'],
      {
        env: { PATH: process.env.PATH, ...graphEnv(mock.url) },
      },
    );
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    while (!existsSync(checkpointPath)) await new Promise((r) => setTimeout(r, 10));
    child.kill('SIGINT');
    expect(await exited).toBe(130);
    const report = JSON.parse(stdout);
    expect(report.stoppedEarly).toBe('interrupted');
    const acknowledged = (await readCheckpoint(checkpointPath))?.checkpoint.batches.flatMap(
      (b) => b.events,
    );
    expect(acknowledged).toBeDefined();
    expect(acknowledged?.length).toBe(report.sent);
    expect(report.sent).toBeLessThan(rows);
    expect(ours()).toHaveLength(report.sent);

    const resumed = await runBin(['upload', sigFile, '--json'], graphEnv(mock.url));
    expect(resumed.code).toBe(0);
    expect(JSON.parse(resumed.stdout)).toMatchObject({
      alreadyAcknowledged: report.sent,
      sent: rows - report.sent,
    });
    expect(ours()).toHaveLength(rows);
    expect(mock.duplicates()).toEqual([]);
  });

  it('stops at once with exit 1 when Meta refuses the token, sending nothing', async () => {
    const small = join(dir, 'small.csv');
    writeFileSync(small, `email,event_time,value,currency\na@example.com,${NOW_S - 60},5,USD\n`);
    const before = mock.events().length;
    const result = await runBin(
      ['upload', small],
      graphEnv(mock.url, { META_ACCESS_TOKEN: 'EAAB-revoked-0123456789' }),
    );
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/Meta refused the token: 190/);
    expect(result.stdout).toMatch(/kept for the next run \(not sent yet\): 1/);
    expect(result.stdout).toContain('Set a valid META_ACCESS_TOKEN first');
    expect(result.stdout).toContain(`capi-kit upload ${small}`);
    expect(result.stdout + result.stderr).not.toContain('EAAB-revoked-0123456789');
    expect(mock.events()).toHaveLength(before);
    expect(existsSync(`${small}.capi-checkpoint.json`)).toBe(false);
  });

  it('--date-order reads birth dates that go both ways; without it they are not guessed', async () => {
    const dates = join(dir, 'dates.csv');
    const when = new Date((NOW_S - 3600) * 1000).toISOString();
    writeFileSync(
      dates,
      `event_id,email,date_of_birth,event_time,value,currency\n` +
        `dob-1,a@example.com,05/06/1990,${when},5,EUR\n` +
        `dob-2,b@example.com,20.05.1990,${when},5,EUR\n`,
    );
    const dbOf = (id: string) =>
      mock.events().find((e) => e.event.event_id === id)?.event.user_data?.db;
    const sha = (text: string) => createHash('sha256').update(text).digest('hex');

    const bad = await runBin(['upload', dates, '--dry-run', '--date-order', 'DD/MM/YYYY']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--date-order');

    const guessless = await runBin(
      ['upload', dates, '--checkpoint', join(dir, 'd1.json')],
      graphEnv(mock.url),
    );
    expect(guessless.code).toBe(0);
    expect(mock.events().filter((e) => e.event.event_id === 'dob-1')).toHaveLength(1);
    expect(dbOf('dob-1')).toBeUndefined(); // 05/06/1990: ambiguous, dropped (the row is still sent)
    expect(dbOf('dob-2')).toEqual([sha('19900520')]); // day above 12: read day first

    const dmy = await runBin(
      ['upload', dates, '--date-order', 'dmy', '--checkpoint', join(dir, 'd2.json')],
      graphEnv(mock.url),
    );
    expect(dmy.code).toBe(0);
    const latest = mock.events().filter((e) => e.event.event_id === 'dob-1');
    expect(latest).toHaveLength(2);
    expect(latest.at(-1)?.event.user_data?.db).toEqual([sha('19900605')]);
  });

  // Excel reads a first line `sep=;` as the delimiter, and files meant for it carry one: read as
  // the header, it made the file "have no event_time column" (exit 2) though the next line had one.
  it("reads a file whose first line is Excel's sep= line, with the delimiter it names", async () => {
    const file = join(dir, 'sep-line.csv');
    writeFileSync(
      file,
      `\ufeffsep=;\r\nemail;event_time;value;currency\r\na@example.com;${NOW_S - 60};19,90;EUR\r\nb@example.com;later;5;EUR\r\n`,
    );
    const result = await runBin(['upload', file, '--dry-run', '--json']);
    expect(result.stderr).toBe('');
    const report = JSON.parse(result.stdout);
    expect(report).toMatchObject({ rows: 2, valid: 1, invalid: 1 });
    // Physical line numbers: the sep= line is line 1, the header line 2.
    expect(report.invalidRows).toEqual([
      { line: 4, problems: [expect.objectContaining({ rule: 'invalid_event_time' })] },
    ]);
  });

  // A sep= line put before a UTF-8 export that starts with a BOM (`echo sep=, | cat - export.csv`)
  // leaves the BOM at the start of the header: the first column was named "\uFEFF\"Order ID\"" (the
  // quotes read as text after it), so --map "Order ID=…" named a column the header did not have.
  it('reads a header with a BOM after the sep= line, quotes and all', async () => {
    const file = join(dir, 'sep-bom.csv');
    writeFileSync(
      file,
      `sep=,\r\n\ufeff"Order ID","Notes, internal",E-mail,event_time,value,currency\r\n"o-1","",a@example.com,${NOW_S - 60},12,EUR\r\n`,
    );
    const result = await runBin([
      'upload',
      file,
      '--dry-run',
      '--json',
      '--map',
      'Order ID=event_id',
    ]);
    expect(result.code, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(report).toMatchObject({ rows: 1, valid: 1, invalid: 0 });
    expect(report.columns[0]).toEqual({ column: 'Order ID', field: 'event_id' });
    expect(report.ignoredColumns).toEqual(['Notes, internal']);
  });

  // A file with a sep= line saved again by a spreadsheet: the line became a quoted cell followed by
  // the empty cells of its row (`"sep=;";;;`), and the upload stopped on "no event_time column".
  it.each([
    ['"sep=;";;;', ';'],
    ['"sep=,",,,', ','],
  ])('reads a sep= line a spreadsheet saved back as a row of cells (%s)', async (line, sep) => {
    const file = join(dir, 'sep-row.csv');
    const row = (cells: string[]) => cells.join(sep);
    writeFileSync(
      file,
      `${line}\r\n${row(['email', 'event_time', 'value', 'currency'])}\r\n${row(['a@example.com', String(NOW_S - 60), '12', 'EUR'])}\r\n`,
    );
    const result = await runBin(['upload', file, '--dry-run', '--json']);
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ rows: 1, valid: 1, invalid: 0 });
  });

  it('refuses a file without an event_time column or customer data (exit 2)', async () => {
    const bare = join(dir, 'bare.csv');
    writeFileSync(bare, 'email,value\na@example.com,5\n');
    const noTime = await runBin(['upload', bare, '--dry-run']);
    expect(noTime.code).toBe(2);
    expect(noTime.stderr).toContain('event_time');
    writeFileSync(bare, 'when,value\n2026-11-27T10:00:00Z,5\n');
    const noKeys = await runBin(['upload', bare, '--dry-run', '--map', 'when=event_time']);
    expect(noKeys.code).toBe(2);
    expect(noKeys.stderr).toContain('customer information');
  });

  it('does not skip, in a real run, the rows a test-event run delivered (exit 2 until a new checkpoint)', async () => {
    const small = join(dir, 'trial.csv');
    writeFileSync(
      small,
      `email,order_id,event_time,value,currency\na@example.com,t-1,${NOW_S - 60},5,EUR\nb@example.com,t-2,${NOW_S - 60},7,EUR\n`,
    );
    const before = mock.events().length;
    const trial = await runBin(
      ['upload', small, '--test-event-code', 'TEST123'],
      graphEnv(mock.url),
    );
    expect(trial.code, trial.stderr).toBe(0);
    expect(
      mock
        .events()
        .slice(before)
        .map((e) => e.testEventCode),
    ).toEqual(['TEST123', 'TEST123']);
    const real = await runBin(['upload', small], graphEnv(mock.url));
    expect(real.code).toBe(2);
    expect(real.stderr).toContain('records test events (test_event_code TEST123)');
    expect(real.stderr).toContain('--checkpoint');
    expect(mock.events().length).toBe(before + 2);
    const fresh = await runBin(
      ['upload', small, '--checkpoint', join(dir, 'real.ckpt')],
      graphEnv(mock.url),
    );
    expect(fresh.code, fresh.stderr).toBe(0);
    const sent = mock.events().slice(before + 2);
    expect(sent.map((e) => e.testEventCode)).toEqual([undefined, undefined]);
    // And the other way round: a test run on a real run's checkpoint is refused too.
    const again = await runBin(
      ['upload', small, '--checkpoint', join(dir, 'real.ckpt'), '--test-event-code', 'T9'],
      graphEnv(mock.url),
    );
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('records real events');
  });
});
