// An outbox whose file another process holds at start (a rolling deploy): it starts anyway, keeps
// events in memory and delivers them from there, and takes the file over once it is let go. The
// other process is a second connection holding SQLite's exclusive lock (SQLite refuses a second
// connection of one process the lock as it does another process); deploy.test.ts runs the same
// with two real processes.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type CapiOptions, type CapiStats, createCapi, type Logger } from '@capi-kit/core';
import { type MockGraph, startMockGraph } from '@capi-kit/testing';
import Database from 'better-sqlite3';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { type SqliteOutbox, sqliteOutbox } from '../src/index.js';
import { WAIT_ERROR_MS } from '../src/waiting.js';
import { leadEvent, record, recordingHost, sleep, tempDir } from './helpers.js';

// Every connection better-sqlite3 opens is counted (a try for the lock opens one), and behaves as usual.
const opened = vi.hoisted(() => ({ count: 0 }));
vi.mock('better-sqlite3', async (importOriginal) => {
  const Original = ((await importOriginal()) as { default: typeof Database }).default;
  class Counted extends Original {
    constructor(...args: ConstructorParameters<typeof Database>) {
      opened.count++;
      super(...args);
    }
  }
  return { default: Counted };
});

const TOKEN = 'EAAtest-token-0123456789';
// Longer than the mock's latency under load: a timed-out request is sent again, which the
// exactly-once assertions would count.
const TIMEOUT_MS = 10_000;

/** A client of `outbox` sending to the mock, retrying fast. */
const clientOn = (outbox: SqliteOutbox, extra: Partial<CapiOptions> = {}) =>
  createCapi({
    pixelId: '1234567890',
    accessToken: TOKEN,
    graphUrl: mock.url,
    timeoutMs: TIMEOUT_MS,
    env: false,
    outbox,
    flushIntervalMs: 20,
    retry: { baseDelayMs: 20, maxDelayMs: 100 },
    ...extra,
  });
let mock: MockGraph;
let temp: ReturnType<typeof tempDir>;
beforeAll(async () => {
  mock = await startMockGraph({ accessToken: TOKEN });
});
afterAll(() => mock.close());
beforeEach(() => {
  mock.reset();
  temp = tempDir();
});
afterEach(() => temp.cleanup());

/** A file with `count` committed records of pixel '111', then held by another connection as an open outbox holds it. */
const heldFile = (path: string, count: number): Database.Database => {
  const previous = sqliteOutbox({ path });
  for (let i = 0; i < count; i++) previous.append([record({ eventId: `left-${i}` })]);
  previous.close();
  const holder = new Database(path);
  holder.pragma('locking_mode = EXCLUSIVE');
  holder.exec('BEGIN EXCLUSIVE');
  holder.exec('COMMIT');
  return holder;
};

const rows = (path: string): number => {
  const db = new Database(path, { readonly: true });
  try {
    return (db.prepare('SELECT count(*) AS n FROM capi_outbox').get() as { n: number }).n;
  } finally {
    db.close();
  }
};

const waitFor = async (what: string, done: () => boolean, timeoutMs = 10_000) => {
  const until = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
};

const loggerInto = (lines: string[]): Logger => ({
  debug() {},
  info() {},
  warn: (_obj, msg) => lines.push(`warn ${msg}`),
  error: (_obj, msg) => lines.push(`error ${msg}`),
});

const droppedTotal = (stats: CapiStats) => Object.values(stats.dropped).reduce((a, b) => a + b, 0);

describe('a file another process holds', () => {
  it('starts on memory, then takes the file over once it is let go: what the other left is reported, what memory held is written', async () => {
    const path = temp.file();
    const holder = heldFile(path, 5);
    const lines: string[] = [];
    const before = Date.now();
    const outbox = sqliteOutbox({
      path,
      lockTimeoutMs: 20,
      writeRetryMs: 30,
      logger: loggerInto(lines),
    });
    expect(outbox.stats()).toMatchObject({ waitingForFile: true, queued: 0, memory: 0 });
    expect(outbox.stats().waitingForFileSince).toBeGreaterThanOrEqual(before);
    // Still one outbox per file in this process.
    expect(() => sqliteOutbox({ path })).toThrow('is already open in this process');

    const { host, seen } = recordingHost();
    outbox.attach(host);
    await sleep(0);
    expect(seen.warnings).toEqual([
      expect.stringContaining(`sqliteOutbox (${path}): another process holds the file`),
    ]);
    expect(lines).toEqual([]); // the engine heard it, not the logger
    seen.warnings.length = 0;

    const mine = [1, 2, 3].map((i) => record({ eventId: `mine-${i}` }));
    expect(outbox.append(mine)).toEqual({ evicted: [] });
    const [inFlight] = outbox.claim(1, 60_000, { pixelId: '111' });
    expect(inFlight?.eventId).toBe('mine-1');
    expect(outbox.stats()).toMatchObject({ queued: 2, leased: 1, memory: 3 });
    expect(outbox.deadLetters()).toEqual([]);

    holder.close();
    await waitFor('the take-over', () => !outbox.stats().waitingForFile);
    expect(seen.recovered).toEqual([{ pixelId: '111', count: 5, bytes: expect.any(Number) }]);
    expect(seen.warnings).toEqual([
      expect.stringMatching(
        /took the file over after \d+ ms of waiting: the 5 events the other process left in it are sent, and the 2 waiting in memory are written to it$/,
      ),
    ]);
    // The two waiting are written to the file; the one in flight stays in memory until answered.
    await waitFor('memory written', () => outbox.stats().memory === 1);
    outbox.ack([inFlight?.id ?? '']);
    expect(outbox.stats()).toMatchObject({
      waitingForFile: false,
      memory: 0,
      queued: 7,
      leased: 0,
    });
    const claimed = outbox.claim(100, 60_000, { pixelId: '111' }).map((r) => r.eventId);
    expect(claimed.sort()).toEqual([
      'left-0',
      'left-1',
      'left-2',
      'left-3',
      'left-4',
      'mine-2',
      'mine-3',
    ]);
    outbox.close();
    expect(rows(path)).toBe(7); // claimed, not acknowledged: the next process sends them
    expect(seen.errors).toEqual([]);
  });

  it('with createCapi: delivers from memory while waiting, then sends what the other left, each event once and counted', async () => {
    const path = temp.file();
    const holder = heldFile(path, 0);
    // A previous run's events the engine never saw: written by another client, then held.
    holder.close();
    const previous = createCapi({
      pixelId: '1234567890',
      accessToken: TOKEN,
      graphUrl: 'http://127.0.0.1:9', // discard: refused at once
      env: false,
      outbox: sqliteOutbox({ path }),
      flushIntervalMs: 60_000,
    });
    for (let i = 0; i < 20; i++) previous.track({ ...leadEvent(i), event_id: `old-${i}` });
    await previous.close({ timeoutMs: 0 });
    const again = new Database(path);
    again.pragma('locking_mode = EXCLUSIVE');
    again.exec('BEGIN EXCLUSIVE');
    again.exec('COMMIT');

    const outbox = sqliteOutbox({ path, lockTimeoutMs: 20, writeRetryMs: 30 });
    const capi = clientOn(outbox);
    const errors: string[] = [];
    capi.on('error', (e) => errors.push(e.error.message));
    const warnings: string[] = [];
    capi.on('warn', (w) => warnings.push(w.message));
    for (let i = 0; i < 10; i++) capi.track({ ...leadEvent(i), event_id: `new-${i}` });
    await mock.waitForEvents(10);
    expect(outbox.stats().waitingForFile).toBe(true);
    expect(warnings).toEqual([expect.stringContaining('another process holds the file')]);
    expect(errors).toEqual([]);

    // Meta is down when the file is let go: the new events tracked meanwhile go to the file.
    mock.outage(503);
    for (let i = 10; i < 15; i++) capi.track({ ...leadEvent(i), event_id: `new-${i}` });
    again.close();
    await waitFor('the take-over', () => !outbox.stats().waitingForFile);
    await waitFor('memory written to the file', () => outbox.stats().memory === 0);
    mock.recover();
    await waitFor('every event sent', () => capi.stats().sent === 35);
    const stats = capi.stats();
    expect(stats).toMatchObject({ queued: 0, inFlight: 0, deadLettered: 0 });
    expect(droppedTotal(stats)).toBe(0);
    expect(new Set(mock.uniqueEventIds()).size).toBe(35);
    expect(mock.duplicates()).toEqual([]);
    // Counted when they were taken over, not only sent: the figures go on adding up.
    mock.outage(503);
    for (let i = 15; i < 18; i++) capi.track({ ...leadEvent(i), event_id: `new-${i}` });
    await waitFor('three more waiting', () => {
      const now = capi.stats();
      return now.queued + now.inFlight === 3;
    });
    mock.recover();
    await waitFor('those sent too', () => capi.stats().sent === 38);
    await capi.close();
    expect(rows(path)).toBe(0);
  });

  it('a pixel this client does not send to: the take-over warning counts only what is sent, and says the rest stay in the file untouched', async () => {
    const path = temp.file();
    // The other process sent to this client's pixel and to one this client does not send to.
    const previous = createCapi({
      pixels: [
        { pixelId: '1234567890', accessToken: TOKEN },
        { pixelId: '111', accessToken: TOKEN },
      ],
      graphUrl: 'http://127.0.0.1:9', // discard: refused at once
      env: false,
      outbox: sqliteOutbox({ path }),
      flushIntervalMs: 60_000,
    });
    for (let i = 0; i < 3; i++) {
      previous.track({ ...leadEvent(i), event_id: `ours-${i}` }, { pixelIds: ['1234567890'] });
    }
    for (let i = 0; i < 2; i++) {
      previous.track({ ...leadEvent(i), event_id: `other-${i}` }, { pixelIds: ['111'] });
    }
    await previous.close({ timeoutMs: 0 });
    const holder = new Database(path);
    holder.pragma('locking_mode = EXCLUSIVE');
    holder.exec('BEGIN EXCLUSIVE');
    holder.exec('COMMIT');

    const outbox = sqliteOutbox({ path, lockTimeoutMs: 20, writeRetryMs: 30 });
    const capi = clientOn(outbox);
    const warnings: string[] = [];
    capi.on('warn', (w) => warnings.push(w.message));
    await sleep(0);
    holder.close();
    await waitFor('the take-over', () => !outbox.stats().waitingForFile);
    await waitFor('ours sent', () => capi.stats().sent === 3);
    const tookOver = warnings.filter((w) => w.includes('took the file over'));
    expect(tookOver).toEqual([
      expect.stringMatching(
        /took the file over after \d+ ms of waiting: the 3 events the other process left in it for this client's pixels are sent; the 2 for pixels this client does not send to are kept in the file untouched$/,
      ),
    ]);
    expect(tookOver[0]).not.toContain('111');
    expect(mock.uniqueEventIds().sort()).toEqual(['ours-0', 'ours-1', 'ours-2']);
    await capi.close();
    expect(rows(path)).toBe(2);
  });

  it('close() while the file is still held: the engine counts what memory holds as dropped (shutdown); nothing is left behind', async () => {
    const path = temp.file();
    const holder = heldFile(path, 2);
    const outbox = sqliteOutbox({ path, lockTimeoutMs: 20, writeRetryMs: 30 });
    mock.outage(503);
    const undeliverable: string[] = [];
    const capi = clientOn(outbox, {
      onUndeliverable: (events) => {
        for (const e of events) undeliverable.push(e.eventId);
      },
    });
    for (let i = 0; i < 4; i++) capi.track({ ...leadEvent(i), event_id: `held-${i}` });
    await capi.close({ timeoutMs: 200 });
    const stats = capi.stats();
    expect(stats.dropped.shutdown).toBe(4);
    expect(
      stats.sent + stats.queued + stats.inFlight + droppedTotal(stats) + stats.deadLettered,
    ).toBe(4);
    expect(undeliverable.sort()).toEqual(['held-0', 'held-1', 'held-2', 'held-3']);
    expect(outbox.stats()).toMatchObject({ waitingForFile: false, memory: 0 });
    // Closed: the path may be opened again in this process, and waits for the holder as before.
    holder.close();
    const reopened = sqliteOutbox({ path });
    expect(reopened.stats()).toMatchObject({ waitingForFile: false, queued: 2 });
    reopened.close();
  });

  it('a host that throws when told of the take-over is logged, not an uncaught exception from the timer', async () => {
    const path = temp.file();
    const holder = heldFile(path, 3);
    const lines: string[] = [];
    const outbox = sqliteOutbox({
      path,
      lockTimeoutMs: 20,
      writeRetryMs: 20,
      logger: loggerInto(lines),
    });
    const { host } = recordingHost();
    outbox.attach({
      ...host,
      recovered: () => {
        throw new Error('host broke');
      },
    });
    await sleep(0);
    holder.close();
    await waitFor('the take-over', () => !outbox.stats().waitingForFile);
    await waitFor('the log line', () => lines.some((l) => l.includes('host broke')));
    expect(lines).toContain('error sqliteOutbox: host broke');
    expect(outbox.stats().queued).toBe(3);
    outbox.close();
  });

  it("tries the lock every writeRetryMs, not at each flush: a request's end-of-tick flush opens no connection", async () => {
    const path = temp.file();
    const holder = heldFile(path, 0);
    const outbox = sqliteOutbox({ path, lockTimeoutMs: 20, writeRetryMs: 60_000 });
    const capi = clientOn(outbox, { flushOnEnd: true, flushIntervalMs: 1000 });
    opened.count = 0;
    // Each tick's track() ends with client.flush(), which flushes the outbox (serverless, after()).
    for (let i = 0; i < 20; i++) {
      capi.track({ ...leadEvent(i), event_id: `tick-${i}` });
      await sleep(0);
    }
    await mock.waitForEvents(20);
    expect(outbox.stats().waitingForFile).toBe(true);
    expect(opened.count).toBe(0);
    holder.close();
    // close() still tries once more: what memory holds is written to the file, not dropped.
    await capi.close();
    expect(outbox.stats()).toMatchObject({ waitingForFile: false });
    expect(capi.stats()).toMatchObject({ sent: 20, queued: 0, inFlight: 0 });
  });

  it('the counters since open (evicted, deadLettered) go on across the take-over, not back to 0', async () => {
    const path = temp.file();
    const holder = heldFile(path, 0);
    const outbox = sqliteOutbox({
      path,
      lockTimeoutMs: 20,
      writeRetryMs: 30,
      memoryFallback: { maxEvents: 2 },
    });
    outbox.attach(recordingHost().host);
    // Three in memory bounded to two: the oldest is dropped. Then one is dead-lettered.
    expect(outbox.append([1, 2, 3].map(() => record())).evicted).toHaveLength(1);
    const [rejected] = outbox.claim(1, 60_000, { pixelId: '111' });
    outbox.deadLetter([rejected?.id ?? ''], 'rejected by Meta');
    expect(outbox.stats()).toMatchObject({ evicted: 1, deadLettered: 1, queued: 1 });
    holder.close();
    await waitFor('the take-over', () => !outbox.stats().waitingForFile);
    expect(outbox.stats()).toMatchObject({ evicted: 1, deadLettered: 1, queued: 1 });
    outbox.close();
  });

  it('a relative path is the file it named when the wait began: a process.chdir() meanwhile takes over no other file', async () => {
    const cwd = process.cwd();
    process.chdir(temp.dir);
    try {
      const holder = heldFile('relative.db', 3);
      const outbox = sqliteOutbox({ path: 'relative.db', lockTimeoutMs: 20, writeRetryMs: 60_000 });
      const { host, seen } = recordingHost();
      outbox.attach(host);
      outbox.append([record({ eventId: 'mine' })]);
      mkdirSync(join(temp.dir, 'elsewhere'));
      process.chdir(join(temp.dir, 'elsewhere'));
      // takeNonDurable tries the lock at once: the file is still held.
      expect(outbox.takeNonDurable('none')).toEqual([]);
      expect(outbox.stats()).toMatchObject({ waitingForFile: true, memory: 1 });
      holder.close();
      expect(outbox.takeNonDurable('111')).toEqual([]);
      expect(seen.recovered).toEqual([{ pixelId: '111', count: 3, bytes: expect.any(Number) }]);
      outbox.close();
      expect(rows(join(temp.dir, 'relative.db'))).toBe(4);
    } finally {
      process.chdir(cwd);
    }
  });

  it("let go just before close(): taken over to write what memory holds, and the warning does not say the other process's events are sent", async () => {
    const path = temp.file();
    const holder = heldFile(path, 2);
    // No try before close(): the holder lets go between two tries.
    const outbox = sqliteOutbox({ path, lockTimeoutMs: 20, writeRetryMs: 60_000 });
    mock.outage(503);
    const capi = clientOn(outbox);
    const warnings: string[] = [];
    capi.on('warn', (w) => warnings.push(w.message));
    for (let i = 0; i < 4; i++) capi.track({ ...leadEvent(i), event_id: `held-${i}` });
    holder.close();
    await capi.close({ timeoutMs: 200 });
    const stats = capi.stats();
    // Written to the file, not dropped; the other process's two (another pixel's) stay there too.
    expect(droppedTotal(stats)).toBe(0);
    expect(stats.queued).toBe(4);
    expect(rows(path)).toBe(6);
    const tookOver = warnings.filter((w) => w.includes('took the file over'));
    expect(tookOver).toEqual([
      expect.stringMatching(
        /took the file over after \d+ ms of waiting, while closing: the 2 events the other process left in it stay there for the next start, and the 4 held in memory are written to it$/,
      ),
    ]);
  });

  it("a wait past a deploy's hand-over (a minute) is reported once as an error: another process keeps the file", async () => {
    const path = temp.file();
    const holder = heldFile(path, 0);
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'performance'] });
    try {
      const outbox = sqliteOutbox({ path, lockTimeoutMs: 20, writeRetryMs: 1000 });
      const { host, seen } = recordingHost();
      outbox.attach(host);
      await Promise.resolve();
      expect(seen.warnings).toEqual([expect.stringContaining('another process holds the file')]);
      vi.advanceTimersByTime(WAIT_ERROR_MS - 1000);
      expect(seen.errors).toEqual([]);
      vi.advanceTimersByTime(3000);
      expect(seen.errors.map(String)).toEqual([
        expect.stringContaining(
          `sqliteOutbox (${path}): still waiting for the file after 60 s: another process keeps it`,
        ),
      ]);
      vi.advanceTimersByTime(60_000);
      expect(seen.errors).toHaveLength(1);
      expect(outbox.stats().waitingForFile).toBe(true);
      outbox.close();
    } finally {
      vi.useRealTimers();
      holder.close();
    }
  });

  it('a file let go but unreadable is said once, and taken once it reads again', async () => {
    const path = temp.file();
    const holder = heldFile(path, 1);
    const outbox = sqliteOutbox({ path, lockTimeoutMs: 20, writeRetryMs: 20 });
    const { host, seen } = recordingHost();
    outbox.attach(host);
    await sleep(0);
    holder.close();
    const good = await import('node:fs').then((fs) => fs.readFileSync(path));
    writeFileSync(path, 'not a database at all, but not empty either');
    await waitFor('the failure told', () => seen.errors.length === 1);
    await sleep(100); // several more tries: still one message
    expect(seen.errors.map(String)[0]).toContain(
      'the file cannot be taken over, events stay in memory',
    );
    expect(seen.errors).toHaveLength(1);
    expect(outbox.stats().waitingForFile).toBe(true);
    writeFileSync(path, good);
    await waitFor('the take-over', () => !outbox.stats().waitingForFile);
    expect(seen.recovered).toEqual([{ pixelId: '111', count: 1, bytes: expect.any(Number) }]);
    outbox.close();
  });
});
