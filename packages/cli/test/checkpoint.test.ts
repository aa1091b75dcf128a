import {
  appendFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  type Checkpoint,
  type CheckpointBatch,
  CheckpointWriter,
  readCheckpoint,
} from '../src/upload/checkpoint.js';

const dir = mkdtempSync(join(tmpdir(), 'capi-checkpoint-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let files = 0;
const newPath = (): string => join(dir, `c${files++}.json`);
const fresh = (): Checkpoint => ({
  version: 2,
  file: { name: 'orders.csv', size: 1234 },
  pixelId: '1234567890',
  mapping: ['email', null],
  batches: [],
});
const batch = (n: number): CheckpointBatch => ({
  fromLine: n * 10 + 2,
  toLine: n * 10 + 11,
  events: Array.from({ length: 10 }, (_, i) => `Purchase\trow-${n}-${i}`),
  acknowledgedAt: '2026-12-07T00:00:00.000Z',
});

describe('the upload checkpoint', () => {
  it('appends each batch after the first instead of rewriting the file', async () => {
    const path = newPath();
    const writer = new CheckpointWriter(path, fresh());
    await writer.record(batch(0));
    const { ino } = statSync(path);
    const afterFirst = readFileSync(path, 'utf8');
    for (let n = 1; n < 5; n++) await writer.record(batch(n));
    // The same file, grown: a rewrite (temporary file + rename) would give a new inode.
    expect(statSync(path).ino).toBe(ino);
    const text = readFileSync(path, 'utf8');
    expect(text.startsWith(afterFirst)).toBe(true);
    expect(text.split('\n')).toHaveLength(7); // header, 5 batches, ''
    const read = await readCheckpoint(path);
    expect(read).toEqual({
      checkpoint: { ...fresh(), batches: [0, 1, 2, 3, 4].map(batch) },
      appendable: true,
    });
  });

  it('leaves out a last line cut short, and rewrites the file whole on the next batch', async () => {
    const path = newPath();
    const writer = new CheckpointWriter(path, fresh());
    await writer.record(batch(0));
    await writer.record(batch(1));
    appendFileSync(path, JSON.stringify(batch(2)).slice(0, 40)); // killed while appending
    const read = await readCheckpoint(path);
    expect(read?.appendable).toBe(false);
    expect(read?.checkpoint.batches).toEqual([batch(0), batch(1)]);

    const resumed = new CheckpointWriter(path, read?.checkpoint as Checkpoint, read);
    await resumed.record(batch(3));
    expect(await readCheckpoint(path)).toEqual({
      checkpoint: { ...fresh(), batches: [batch(0), batch(1), batch(3)] },
      appendable: true,
    });
  });

  it('keeps a last line that is whole but for its newline', async () => {
    const path = newPath();
    await new CheckpointWriter(path, fresh()).record(batch(0));
    appendFileSync(path, JSON.stringify(batch(1)));
    const read = await readCheckpoint(path);
    expect(read?.appendable).toBe(false);
    expect(read?.checkpoint.batches).toEqual([batch(0), batch(1)]);
  });

  it('reads a checkpoint of the first format and moves it to the line format on the next batch', async () => {
    const path = newPath();
    const old = { ...fresh(), version: 1, batches: [batch(0)] };
    delete (old as Partial<Checkpoint>).mapping;
    writeFileSync(path, `${JSON.stringify(old)}\n`);
    const read = await readCheckpoint(path);
    expect(read).toEqual({ checkpoint: old, appendable: false });

    await new CheckpointWriter(path, read?.checkpoint as Checkpoint, read).record(batch(1));
    const lines = readFileSync(path, 'utf8').split('\n');
    expect(lines).toHaveLength(4);
    expect(JSON.parse(lines[0] as string)).toEqual({
      version: 2,
      file: old.file,
      pixelId: old.pixelId,
    });
    expect((await readCheckpoint(path))?.checkpoint.batches).toEqual([batch(0), batch(1)]);
  });

  it('refuses a file that is not a checkpoint, naming it', async () => {
    const cases = [
      '',
      'order,email\n1,a@example.com\n',
      '{"version":3,"pixelId":"1"}\n',
      '{"version":1,"pixelId":"1"}\n',
      `${JSON.stringify({ version: 2, pixelId: '1' })}\nnot json\n${JSON.stringify(batch(0))}\n`,
      `${JSON.stringify({ version: 2, pixelId: '1' })}\n{"events":"x"}\n`,
    ];
    for (const text of cases) {
      const path = newPath();
      writeFileSync(path, text);
      await expect(readCheckpoint(path), text).rejects.toThrow(
        `${path} is not a capi-kit checkpoint`,
      );
    }
    expect(await readCheckpoint(join(dir, 'absent.json'))).toBeUndefined();
  });

  it('rewrites the file whole after an append that failed, from the file and what failed', async () => {
    // What a full disk let through of the failed line: part of it, or all of it but the newline.
    for (const cut of [40, undefined]) {
      const path = newPath();
      const writer = new CheckpointWriter(path, fresh());
      await writer.record(batch(0));
      // An append that fails (a directory in the file's place; a full disk fails the same way).
      renameSync(path, `${path}.aside`);
      mkdirSync(path);
      await expect(writer.record(batch(1))).rejects.toThrow(/EISDIR/);
      rmSync(path, { recursive: true });
      renameSync(`${path}.aside`, path);
      appendFileSync(path, JSON.stringify(batch(1)).slice(0, cut));
      await writer.record(batch(2));
      expect(await readCheckpoint(path)).toEqual({
        checkpoint: { ...fresh(), batches: [0, 1, 2].map(batch) },
        appendable: true,
      });
    }
  });
});
