// Files an app may hand sqliteOutbox() by mistake or by bad luck: a damaged file, a directory that
// does not exist, a file that is not a database. Each one fails at start-up with a message naming
// the file, and leaves nothing locked behind: once the file is fixed or moved aside, the same
// process opens the path.
import { closeSync, mkdirSync, openSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sqliteOutbox } from '../src/index.js';
import { record, tempDir } from './helpers.js';

let temp: ReturnType<typeof tempDir>;
beforeEach(() => {
  temp = tempDir();
});
afterEach(() => temp.cleanup());

/** What sqliteOutbox() threw, or undefined when it opened (closed again at once). */
const openError = (path: string): Error | undefined => {
  try {
    sqliteOutbox({ path, lockTimeoutMs: 50 }).close();
    return undefined;
  } catch (error) {
    return error as Error;
  }
};

/** A file with `count` committed records. */
const fileWith = (path: string, count: number): void => {
  const outbox = sqliteOutbox({ path });
  for (let i = 0; i < count; i++) outbox.append([record({ eventId: `kept-${i}` })]);
  outbox.close();
};

describe('a damaged file', () => {
  it('is refused naming the file and what to do, and leaves no lock behind', () => {
    const path = temp.file('damaged.db');
    fileWith(path, 2000);
    // Garbage over every page but the first (the schema): the open itself reads only page 1, the
    // totals read at open reach the table's pages.
    const size = statSync(path).size;
    const fd = openSync(path, 'r+');
    writeSync(fd, Buffer.alloc(size - 4096, 0xab), 0, size - 4096, 4096);
    closeSync(fd);

    const first = openError(path);
    expect(first?.message).toContain(`sqliteOutbox: cannot open ${path}: `);
    expect(first?.message).toContain('malformed');
    expect(first?.message).toContain('move it aside and start with a new file');
    // Asked again, the same answer: not "open in another process" (a connection left open).
    expect(openError(path)?.message).toBe(first?.message);
    // Moved aside (here: replaced), the path opens in this same process.
    writeFileSync(path, '');
    expect(openError(path)).toBeUndefined();
  });

  it('a file that is not a database is refused the same way', () => {
    const path = temp.file('notes.db');
    writeFileSync(path, '{"not":"a database"}\n'.repeat(300));
    const error = openError(path);
    expect(error?.message).toContain(`sqliteOutbox: cannot open ${path}: file is not a database`);
    expect(error?.message).toContain('move it aside');
  });
});

describe('a path that cannot hold a file', () => {
  it('a directory that does not exist is named; once it exists the path opens', () => {
    const path = join(temp.dir, 'no', 'such', 'dir', 'outbox.db');
    expect(openError(path)?.message).toBe(
      `sqliteOutbox: cannot open ${path}: Cannot open database because the directory does not exist`,
    );
    mkdirSync(join(temp.dir, 'no', 'such', 'dir'), { recursive: true });
    expect(openError(path)).toBeUndefined();
  });

  it('a directory given as the file is named', () => {
    expect(openError(temp.dir)?.message).toMatch(
      new RegExp(`^sqliteOutbox: cannot open ${temp.dir}: unable to open database file`),
    );
  });
});
