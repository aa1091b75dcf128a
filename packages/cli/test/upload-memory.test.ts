import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type MockGraph, startMockGraph } from '@capi-kit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { graphEnv, runBin, TOKEN } from './helpers.js';

// An upload's memory is a batch, the checkpoint's index and the keys of the valid rows (to find
// duplicates), not the file. The command kept a line number per row it would not send and ran out
// of memory on this file in a 24 MB JavaScript heap (and in a 32 MB one); it now needs about 12 MB.
const ROWS = 1_000_000;
const HEAP_MB = 24;
const NOW_S = Math.floor(Date.now() / 1000);

let mock: MockGraph;
let dir: string;
beforeAll(async () => {
  mock = await startMockGraph({ accessToken: TOKEN });
  dir = mkdtempSync(join(tmpdir(), 'capi-kit-upload-memory-'));
});
afterAll(async () => {
  await mock.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('capi-kit upload of a large file', () => {
  it(`sends a million-row export with a ${HEAP_MB} MB heap: rows not sent are counted, not kept`, async () => {
    // Store sales over months: 99 rows in 100 are older than Meta's 62 days for physical_store
    // (invalid); of the recent ones, every other repeats the order before it (a duplicate).
    const lines = ['email,order_id,event_time,value,currency'];
    let recent = 0;
    for (let i = 0; i < ROWS; i++) {
      const isRecent = i % 100 === 99;
      const order = isRecent && recent++ % 2 === 1 ? `o${i - 100}` : `o${i}`;
      const time = isRecent ? NOW_S - 3600 - i : NOW_S - 100 * 86_400 - i * 20;
      lines.push(`c${i % 5000}@example.com,${order},${time},${10 + (i % 90)},USD`);
    }
    const file = join(dir, 'year.csv');
    writeFileSync(file, `${lines.join('\n')}\n`);
    lines.length = 0;

    const result = await runBin(
      ['upload', file, '--json'],
      graphEnv(mock.url, { NODE_OPTIONS: `--max-old-space-size=${HEAP_MB}` }),
      { timeoutMs: 120_000 },
    );
    expect(result.stderr).not.toMatch(/heap out of memory/);
    expect(result.code, result.stderr.slice(0, 2000)).toBe(1); // invalid rows
    const report = JSON.parse(result.stdout);
    expect(report).toMatchObject({
      rows: ROWS,
      valid: ROWS / 200,
      invalid: ROWS - ROWS / 100,
      invalidByRule: { event_time_too_old: ROWS - ROWS / 100 },
      duplicateCount: ROWS / 200,
      sent: ROWS / 200,
      rejectedCount: 0,
      notSent: 0,
    });
    expect(report.invalidRows).toHaveLength(1000);
    expect(report.duplicates).toHaveLength(1000);
    expect(report.duplicates[0]).toEqual({ line: 2 + 199, firstLine: 2 + 99 });
    expect(mock.events()).toHaveLength(ROWS / 200);
    expect(mock.duplicates()).toEqual([]);
  }, 150_000);

  it(`reports a stray quote before a million rows with a ${HEAP_MB} MB heap, not the rest of the file as one field`, async () => {
    // The quote is never closed: every line after it is one record, which was held whole.
    const lines = ['email,order_id,event_time,value,currency', `"a@example.com,o-a,${NOW_S},5,USD`];
    for (let i = 0; i < ROWS; i++)
      lines.push(`c${i}@example.com,o${i},${NOW_S - 3600 - i},${10 + (i % 90)},USD`);
    const file = join(dir, 'stray-quote.csv');
    writeFileSync(file, `${lines.join('\n')}\n`);
    lines.length = 0;

    const result = await runBin(
      ['upload', file, '--dry-run', '--json'],
      { NODE_OPTIONS: `--max-old-space-size=${HEAP_MB}` },
      { timeoutMs: 60_000 },
    );
    expect(result.stderr).not.toMatch(/heap out of memory/);
    expect(result.code, result.stderr.slice(0, 2000)).toBe(1);
    const report = JSON.parse(result.stdout);
    expect(report).toMatchObject({ rows: 1, valid: 0, invalid: 1 });
    expect(report.invalidRows[0].line).toBe(2);
    expect(report.invalidRows[0].problems[0]).toMatchObject({
      rule: 'csv_quoting',
      message: expect.stringContaining(
        `not closed before the end of the file. The record runs from line 2 to line ${ROWS + 3}`,
      ),
    });
  }, 90_000);
});
