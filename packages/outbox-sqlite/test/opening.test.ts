// Files an app may hand sqliteOutbox() by mistake or by bad luck: a damaged file, a directory that
// does not exist, a file that is not a database, another app's database. Each one fails at start-up with a message naming
// the file, and leaves nothing locked behind: once the file is fixed or moved aside, the same
// process opens the path.
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  closeSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  rmdirSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
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
    const dir = join(temp.dir, 'no', 'such', 'dir');
    // It said only that the directory does not exist, for the README's './var/capi-outbox.db' too.
    expect(openError(path)?.message).toBe(
      `sqliteOutbox: cannot open ${path}: Cannot open database because the directory does not exist (create ${dir} first, e.g. mkdir -p ${JSON.stringify(dir)}: the outbox creates the file, not its directory)`,
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

describe("another app's database", () => {
  const appDatabase = (path: string, userVersion: number) => {
    const db = new Database(path);
    db.exec(
      'CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT); CREATE TABLE orders (id INTEGER)',
    );
    db.pragma(`user_version = ${userVersion}`);
    db.close();
  };
  const shape = (path: string) => {
    const db = new Database(path, { readonly: true });
    const tables = db
      .prepare<[], { name: string }>(
        "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name",
      )
      .all()
      .map((t) => t.name);
    const userVersion = db.pragma('user_version', { simple: true });
    const journalMode = db.pragma('journal_mode', { simple: true });
    db.close();
    return { tables, userVersion, journalMode };
  };

  it('is refused, naming its tables, and left as it was (no tables added, user_version and journal mode kept)', () => {
    const path = temp.file('app.db');
    appDatabase(path, 0);
    expect(openError(path)?.message).toBe(
      `sqliteOutbox: ${path}: it is not an outbox file: it holds other tables (orders, users). Give the outbox a file of its own`,
    );
    // Not switched to WAL: its app may not read a WAL database (a network file system, read-only
    // media), and a backup of its .db file alone would miss what the -wal file holds.
    expect(shape(path)).toEqual({
      tables: ['orders', 'users'],
      userVersion: 0,
      journalMode: 'delete',
    });
  });

  it('whatever its user_version, it is not called a newer outbox format', () => {
    const path = temp.file('app-v7.db');
    appDatabase(path, 7);
    expect(openError(path)?.message).toMatch(/it is not an outbox file/);
    expect(shape(path).userVersion).toBe(7);
  });

  it('an outbox file with a table of its owner’s beside ours still opens', () => {
    const path = temp.file();
    fileWith(path, 3);
    const db = new Database(path);
    db.exec('CREATE TABLE notes (text TEXT)');
    db.close();
    const outbox = sqliteOutbox({ path });
    expect(outbox.stats().queued).toBe(3);
    outbox.close();
  });
});

// A read-only file system is the one unwritable place root cannot write either (tests run as
// root): a tmpfs mounted here, then remounted read-only. Where mounting is not allowed, skipped.
const mount = (...args: string[]) => spawnSync('mount', args, { encoding: 'utf8' }).status === 0;
const canMount = (() => {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) return false;
  const dir = mkdtempSync(join(tmpdir(), 'capi-outbox-mount-'));
  const mounted = mount('-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', dir);
  if (mounted) spawnSync('umount', [dir]);
  rmdirSync(dir);
  return mounted;
})();

describe('a place this process may not write', () => {
  it('a read-only file system: SQLite’s "disk I/O error" or "unable to open" comes with the reason', {
    skip: !canMount,
    meta: { skipReason: 'mounting a tmpfs needs root on Linux with CAP_SYS_ADMIN' },
  }, () => {
    const dir = join(temp.dir, 'mnt');
    mkdirSync(dir);
    expect(mount('-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', dir)).toBe(true);
    try {
      const path = join(dir, 'outbox.db');
      fileWith(path, 3);
      expect(mount('-o', 'remount,ro', dir)).toBe(true);
      // Before: 'cannot open …: disk I/O error' and 'unable to open database file', no reason.
      expect(openError(path)?.message).toMatch(
        new RegExp(
          `^sqliteOutbox: cannot open ${path}: .* \\(the file is not writable by this process, EROFS; the outbox writes the file and a -wal file beside it\\)$`,
        ),
      );
      const fresh = join(dir, 'new.db');
      expect(openError(fresh)?.message).toBe(
        `sqliteOutbox: cannot open ${fresh}: unable to open database file (its directory ${dir} is not writable by this process, EROFS; the outbox writes the file and a -wal file beside it)`,
      );
    } finally {
      spawnSync('umount', [dir]);
    }
  });
});

describe('who may read the file', () => {
  // The rows hold what Meta takes unhashed (the client's IP address and user agent, fbp/fbc, the
  // page URL): with the usual umask 022, SQLite created the file and its -wal file 0644, readable
  // by every account on the host.
  it('a file the outbox creates, and its -wal file, are its owner’s alone (0600), whatever the umask', () => {
    const before = process.umask(0o022);
    try {
      const path = temp.file('private.db');
      const outbox = sqliteOutbox({ path });
      outbox.append([record()]);
      outbox.flush();
      expect((statSync(path).mode & 0o777).toString(8)).toBe('600');
      expect((statSync(`${path}-wal`).mode & 0o777).toString(8)).toBe('600');
      outbox.close();
    } finally {
      process.umask(before);
    }
  });

  it('a file that exists keeps the mode its owner gave it', () => {
    const path = temp.file('shared.db');
    writeFileSync(path, '');
    chmodSync(path, 0o640);
    sqliteOutbox({ path }).close();
    expect((statSync(path).mode & 0o777).toString(8)).toBe('640');
  });
});
