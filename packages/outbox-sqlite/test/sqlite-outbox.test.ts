import { spawnSync } from 'node:child_process';
import { linkSync, renameSync, symlinkSync, unlinkSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { EVICT_CATCH_UP } from '../src/eviction.js';
import { type SqliteOutbox, sqliteOutbox } from '../src/index.js';
import { record, recordingHost, sleep, tempDir } from './helpers.js';

let temp: ReturnType<typeof tempDir>;
const open: SqliteOutbox[] = [];
const make = (options: Partial<Parameters<typeof sqliteOutbox>[0]> = {}) => {
  const outbox = sqliteOutbox({ path: temp.file(), ...options });
  open.push(outbox);
  return outbox;
};
const reopen = (
  outbox: SqliteOutbox,
  options: Partial<Parameters<typeof sqliteOutbox>[0]> = {},
) => {
  outbox.close();
  return make({ path: outbox.path, ...options });
};

beforeEach(() => {
  temp = tempDir();
});
afterEach(() => {
  for (const outbox of open.splice(0)) outbox.close();
  temp.cleanup();
});

describe('group commit', () => {
  it('keeps appends in memory until the commit window ends, then writes them in one transaction', async () => {
    const outbox = make({ commitIntervalMs: 20 });
    outbox.append([record(), record()]);
    outbox.append([record()]);
    expect(outbox.stats()).toMatchObject({ pending: 3, commits: 0, queued: 3 });
    await sleep(60);
    expect(outbox.stats()).toMatchObject({ pending: 0, commits: 1, queued: 3 });
  });

  it('commits on the next event-loop turn once commitEvents are waiting, never inside append', async () => {
    const outbox = make({ commitIntervalMs: 10_000, commitEvents: 10 });
    outbox.append(Array.from({ length: 10 }, () => record()));
    expect(outbox.stats().pending).toBe(10);
    await new Promise<void>((resolve) => setImmediate(resolve));
    expect(outbox.stats()).toMatchObject({ pending: 0, commits: 1 });
  });

  it('flush() and close() commit; what was committed is there after reopening', () => {
    const outbox = make({ commitIntervalMs: 10_000 });
    outbox.append([record({ eventId: 'a' })]);
    outbox.flush();
    expect(outbox.stats()).toMatchObject({ pending: 0, commits: 1 });
    outbox.append([record({ eventId: 'b' })]);
    const again = reopen(outbox);
    expect(again.stats().queued).toBe(2);
    expect(again.claim(10, 1000).map((r) => r.eventId)).toEqual(['a', 'b']);
  });

  it('commits the last window when the process exits normally, and its timers do not keep it alive', () => {
    const path = temp.file();
    const script = `
      const { sqliteOutbox } = await import(${JSON.stringify(new URL('../dist/index.mjs', import.meta.url).href)});
      const outbox = sqliteOutbox({ path: ${JSON.stringify(path)}, commitIntervalMs: 60000 });
      outbox.append([{ id: 'x', pixelId: '1', eventId: 'x', eventName: 'Lead', eventTime: 1, actionSource: 'website', body: '{}', bytes: 2, attempts: 0, enqueuedAt: 1, retryAt: 1 }]);
    `;
    const started = Date.now();
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(child.stderr).toBe('');
    expect(child.status).toBe(0);
    expect(Date.now() - started).toBeLessThan(10_000); // not held for the 60 s commit timer
    const outbox = make({ path });
    expect(outbox.stats().queued).toBe(1);
  });

  it('keeps an event tracked in an exit listener registered after the outbox: committed at once, not lost', () => {
    // The outbox's own exit commit has run by then and no timer runs after it: the event was
    // accepted and counted as queued, and never reached the file.
    const path = temp.file();
    const script = `
      const { createCapi } = await import('@capi-kit/core');
      const { sqliteOutbox } = await import(${JSON.stringify(new URL('../dist/index.mjs', import.meta.url).href)});
      const outbox = sqliteOutbox({ path: ${JSON.stringify(path)} });
      const capi = createCapi({ pixelId: '1234567890', accessToken: 'EAAtest-token-0123456789', graphUrl: 'http://127.0.0.1:9', env: false, outbox });
      process.on('exit', () => {
        const { accepted } = capi.track({ event_name: 'Lead', event_id: 'at-exit', event_time: Math.floor(Date.now() / 1000), action_source: 'website', event_source_url: 'https://shop.example.com/', user_data: { em: 'a@example.com', client_ip_address: '203.0.113.7', client_user_agent: 'test' } });
        console.log(JSON.stringify({ accepted, queued: capi.stats().queued }));
      });
      process.exit(0);
    `;
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(child.stderr).toBe('');
    expect(JSON.parse(child.stdout)).toEqual({ accepted: true, queued: 1 });
    const outbox = make({ path });
    expect(outbox.stats().queued).toBe(1);
    expect(outbox.claim(10, 1000).map((r) => r.eventId)).toEqual(['at-exit']);
  });

  it('process.exit() with a client made before the outbox: a buffer the file refuses at exit is counted as dropped, not left queued', () => {
    // The engine's exit hook is the first client's, registered before the outbox's: it took
    // what memory held while the last window still waited in the buffer; the outbox's exit
    // commit then found the file deleted and moved the buffer to memory, which died with the
    // process, counted as queued for a next start that opens a new, empty file.
    const path = temp.file();
    const script = `
      const { unlinkSync } = await import('node:fs');
      const { createCapi } = await import('@capi-kit/core');
      const { sqliteOutbox } = await import(${JSON.stringify(new URL('../dist/index.mjs', import.meta.url).href)});
      const silent = { debug() {}, info() {}, warn() {}, error() {} };
      const base = { accessToken: 'EAAtest-token-0123456789', graphUrl: 'http://127.0.0.1:9', env: false, logger: silent };
      createCapi({ ...base, pixelId: '1111111111' });
      const outbox = sqliteOutbox({ path: ${JSON.stringify(path)}, logger: silent });
      const undeliverable = [];
      const capi = createCapi({ ...base, pixelId: '1234567890', outbox, onUndeliverable: (records, reason) => undeliverable.push(...records.map(() => reason)) });
      capi.on('error', () => {});
      let tracked = 0;
      const track = () => capi.track({ event_name: 'Lead', event_id: 'e-' + tracked++, event_time: Math.floor(Date.now() / 1000), action_source: 'website', event_source_url: 'https://shop.example.com/', user_data: { em: 'a@example.com', client_ip_address: '203.0.113.7', client_user_agent: 'test' } });
      for (let i = 0; i < 20; i++) track();
      await capi.flush();
      unlinkSync(${JSON.stringify(path)});
      for (let i = 0; i < 30; i++) track();
      process.on('exit', () => {
        const { sent, queued, inFlight, deadLettered, dropped } = capi.stats();
        console.log(JSON.stringify({ tracked, sent, queued, inFlight, deadLettered, dropped, undeliverable: undeliverable.length }));
      });
      process.exit(0);
    `;
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(child.stderr).toBe('');
    const report = JSON.parse(child.stdout);
    expect(report.tracked).toBe(50);
    // Nothing is left for a next start: the file this run wrote is gone.
    expect(report.queued + report.inFlight).toBe(0);
    expect(report.dropped.shutdown).toBe(50);
    expect(report.undeliverable).toBe(50);
  });

  it('commits every open outbox at exit through one listener: twelve open, no leak warning', () => {
    const paths = Array.from({ length: 12 }, () => temp.file());
    const script = `
      const { sqliteOutbox } = await import(${JSON.stringify(new URL('../dist/index.mjs', import.meta.url).href)});
      const before = process.listenerCount('exit');
      for (const [i, path] of ${JSON.stringify(paths)}.entries()) {
        const outbox = sqliteOutbox({ path, commitIntervalMs: 60000 });
        outbox.append([{ id: 'x' + i, pixelId: '1', eventId: 'x' + i, eventName: 'Lead', eventTime: 1, actionSource: 'website', body: '{}', bytes: 2, attempts: 0, enqueuedAt: 1, retryAt: 1 }]);
      }
      console.log(process.listenerCount('exit') - before);
    `;
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      encoding: 'utf8',
      timeout: 20_000,
    });
    // One listener more however many are open, so Node prints no MaxListenersExceededWarning.
    expect(child.stderr).toBe('');
    expect(child.stdout.trim()).toBe('1');
    expect(child.status).toBe(0);
    for (const path of paths) expect(make({ path }).stats().queued).toBe(1);
  });
});

describe('claim, ack, nack, release', () => {
  it('hands out the oldest ready records of one pixel, within maxBytes, and skips leased ones', () => {
    const outbox = make();
    const a = record({ pixelId: '1', eventId: 'a', bytes: 100 });
    const b = record({ pixelId: '1', eventId: 'b', bytes: 100 });
    const c = record({ pixelId: '1', eventId: 'c', bytes: 100 });
    const other = record({ pixelId: '2', eventId: 'x' });
    outbox.append([a, b, other, c]);
    expect(outbox.claim(10, 60_000, { pixelId: '1', maxBytes: 202 }).map((r) => r.eventId)).toEqual(
      ['a', 'b'],
    );
    expect(outbox.claim(10, 60_000, { pixelId: '1' }).map((r) => r.eventId)).toEqual(['c']);
    expect(outbox.claim(10, 60_000, { pixelId: '1' })).toEqual([]);
    expect(outbox.stats().pixels['1']).toMatchObject({ queued: 0, leased: 3 });
    expect(outbox.claim(10, 60_000).map((r) => r.eventId)).toEqual(['x']);
  });

  it('ack removes; nack counts an attempt and waits until retryAt; release does not count', () => {
    const outbox = make();
    outbox.append([record({ eventId: 'a' }), record({ eventId: 'b' }), record({ eventId: 'c' })]);
    // After the append: a record is due at its creation time, which must not be after `now`.
    const now = Date.now();
    const [a, b, c] = outbox.claim(10, 60_000, { now });
    outbox.ack([a?.id as string]);
    outbox.nack([b?.id as string], now + 5000, 'HTTP 503');
    outbox.release([c?.id as string], now);
    expect(outbox.claim(10, 60_000, { now }).map((r) => [r.eventId, r.attempts])).toEqual([
      ['c', 0],
    ]);
    const [retried] = outbox.claim(10, 60_000, { now: now + 5000 });
    expect(retried).toMatchObject({ eventId: 'b', attempts: 1, lastError: 'HTTP 503' });
    expect(outbox.stats()).toMatchObject({ queued: 0, leased: 2 });
  });

  it('an expired lease makes the record claimable again', () => {
    const outbox = make();
    outbox.append([record({ eventId: 'a' })]);
    // After the append: a record is due at its creation time, which must not be after `now`.
    const now = Date.now();
    expect(outbox.claim(10, 1000, { now })).toHaveLength(1);
    expect(outbox.claim(10, 1000, { now: now + 999 })).toHaveLength(0);
    expect(outbox.claim(10, 1000, { now: now + 1000 }).map((r) => r.eventId)).toEqual(['a']);
  });

  it('replays on open: records leased by a process that died are waiting again, attempts and backoff kept', () => {
    const outbox = make();
    outbox.append([record({ eventId: 'a' }), record({ eventId: 'b' }), record({ eventId: 'c' })]);
    // After the append: a record is due at its creation time, which must not be after `now`.
    const now = Date.now();
    const [a, b] = outbox.claim(2, 300_000, { now });
    outbox.nack([b?.id as string], now + 60_000, 'timed out');
    expect(a?.eventId).toBe('a'); // leased, never acknowledged: in flight when the process "died"
    const again = reopen(outbox);
    expect(again.stats()).toMatchObject({ queued: 3, leased: 0 });
    expect(again.claim(10, 300_000, { now }).map((r) => r.eventId)).toEqual(['a', 'c']);
    expect(again.claim(10, 300_000, { now: now + 60_000 })).toMatchObject([
      { eventId: 'b', attempts: 1, lastError: 'timed out' },
    ]);
  });

  it('refuses a second outbox on the same file in this process at once, naming this process', () => {
    const outbox = make();
    // At once: waiting for the lock (10 s here) would block the event loop, then blame
    // another process; past the test's own 5 s limit, it fails.
    expect(() => sqliteOutbox({ path: outbox.path, lockTimeoutMs: 10_000 })).toThrow(
      /is already open in this process \(one outbox per file\)/,
    );
    // The same file by another spelling of its path is the same file.
    expect(() =>
      sqliteOutbox({ path: `${dirname(outbox.path)}/./${basename(outbox.path)}` }),
    ).toThrow(/already open in this process/);
    // And by a symlinked directory or a hard link: at once too, not after lockTimeoutMs blaming
    // another process.
    const linkedDir = `${temp.dir}-link`;
    symlinkSync(temp.dir, linkedDir);
    const hardLink = `${outbox.path}-hard`;
    linkSync(outbox.path, hardLink);
    try {
      for (const path of [`${linkedDir}/${basename(outbox.path)}`, hardLink]) {
        const started = Date.now();
        expect(() => sqliteOutbox({ path, lockTimeoutMs: 10_000 })).toThrow(
          /already open in this process/,
        );
        expect(Date.now() - started).toBeLessThan(5000); // half of lockTimeoutMs
      }
    } finally {
      unlinkSync(linkedDir);
    }
    // Closed, it opens again.
    outbox.close();
    const again = sqliteOutbox({ path: outbox.path });
    expect(again.stats().queued).toBe(0);
    again.close();
  });
  it('refuses it at once from a second copy of the package too (ESM and CJS builds, Next.js bundle layers)', async () => {
    const outbox = make();
    // A fresh module instance, as a second copy of the package loaded in one process has.
    vi.resetModules();
    const copy = (await import('../src/index.js')) as typeof import('../src/index.js');
    expect(copy.sqliteOutbox).not.toBe(sqliteOutbox);
    const started = Date.now();
    expect(() => copy.sqliteOutbox({ path: outbox.path, lockTimeoutMs: 10_000 })).toThrow(
      /already open in this process/,
    );
    expect(Date.now() - started).toBeLessThan(5000); // half of lockTimeoutMs
    // Closed through one copy, the other opens it.
    outbox.close();
    copy.sqliteOutbox({ path: outbox.path }).close();
  });
});

describe('write failures, heard once per episode', () => {
  it('a wall clock stepped back does not silence the next episode: its quiet period is measured on a clock that never steps', () => {
    // Writes fail while the path names no file (moved aside) and work once it is back.
    vi.useFakeTimers({ toFake: ['Date', 'performance'] });
    try {
      const outbox = make();
      const { host, seen } = recordingHost();
      outbox.attach(host);
      const aside = `${outbox.path}.aside`;
      const failOnce = () => {
        renameSync(outbox.path, aside);
        outbox.append([record()]);
        outbox.flush();
        expect(outbox.stats().writeFailing).toBe(true);
        renameSync(aside, outbox.path);
        vi.advanceTimersByTime(1001); // writeRetryMs
        outbox.flush();
        expect(outbox.stats().writeFailing).toBe(false);
      };
      failOnce();
      expect(seen.errors).toHaveLength(1);
      // NTP steps the wall clock back an hour (a VM resumed with its clock ahead), then writes
      // work for more than 60 s: the episode is over, and the next failure is a new one.
      vi.setSystemTime(Date.now() - 3_600_000);
      vi.advanceTimersByTime(61_000);
      outbox.append([record()]);
      outbox.flush();
      expect(seen.warnings.join('\n')).toContain('writes have worked again for 60 s');
      failOnce();
      expect(seen.errors).toHaveLength(2);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('bounds: drop-oldest', () => {
  it('evicts the oldest waiting records of the pixel, never in-flight ones, and counts them', () => {
    const outbox = make({ maxEvents: 3 });
    const first = [record({ eventId: 'a' }), record({ eventId: 'b' })];
    outbox.append(first);
    outbox.flush();
    outbox.claim(1, 60_000); // 'a' in flight
    const result = outbox.append([record({ eventId: 'c' }), record({ eventId: 'd' })]);
    expect(result.evicted.map((r) => r.eventId)).toEqual(['b']);
    expect(outbox.append([record({ eventId: 'e' })]).evicted.map((r) => r.eventId)).toEqual(['c']);
    expect(outbox.stats()).toMatchObject({ queued: 2, leased: 1, evicted: 2 });
    const again = reopen(outbox);
    expect(again.claim(10, 1000).map((r) => r.eventId)).toEqual(['a', 'd', 'e']);
  });

  it('bounds bytes per pixel, evicting from the uncommitted buffer when nothing older waits', () => {
    const outbox = make({ maxBytes: 250, commitIntervalMs: 10_000 });
    const result = outbox.append([
      record({ eventId: 'a', bytes: 100 }),
      record({ eventId: 'b', bytes: 100 }),
      record({ eventId: 'c', bytes: 100 }),
      record({ eventId: 'x', bytes: 100, pixelId: '2' }),
    ]);
    expect(result.evicted.map((r) => r.eventId)).toEqual(['a']);
    expect(outbox.claim(10, 1000, { pixelId: '111' }).map((r) => r.eventId)).toEqual(['b', 'c']);
  });

  it('a record bigger than maxBytes on its own is the one dropped, not every waiting record before it', () => {
    // It can never fit: drop-oldest made room for it by dropping the stream's whole queue (the
    // 8 waiting here, committed and buffered), then dropped it all the same.
    const outbox = make({ maxBytes: 1000 });
    for (let i = 0; i < 5; i++) outbox.append([record({ eventId: `kept-${i}`, bytes: 100 })]);
    outbox.flush();
    for (let i = 5; i < 8; i++) outbox.append([record({ eventId: `kept-${i}`, bytes: 100 })]);
    const result = outbox.append([record({ eventId: 'huge', bytes: 1001 })]);
    expect(result.evicted.map((r) => r.eventId)).toEqual(['huge']);
    expect(outbox.stats()).toMatchObject({ queued: 8, bytes: 800, evicted: 1 });
    expect(outbox.claim(20, 1000)).toHaveLength(8);
  });

  it('evicts records replayed from a previous run before fresh ones', () => {
    const outbox = make({ maxEvents: 1000 });
    outbox.append([record({ eventId: 'old-1' }), record({ eventId: 'old-2' })]);
    const again = reopen(outbox, { maxEvents: 2 });
    const result = again.append([record({ eventId: 'new' })]);
    expect(result.evicted.map((r) => r.eventId)).toEqual(['old-1']);
    expect(again.claim(10, 1000).map((r) => r.eventId)).toEqual(['old-2', 'new']);
  });

  it('far past a lowered maxEvents after a restart, each append drops a bounded share of the excess, oldest first', () => {
    const outbox = make();
    const old = Array.from({ length: 3000 }, (_, i) => record({ eventId: `old-${i}` }));
    outbox.append(old);
    const again = reopen(outbox, { maxEvents: 100 });
    // The first append used to drop all 2,901 at once, in the request that tracked the event
    // (a million records held it for seconds).
    const first = again.append([record({ eventId: 'new-0' })]);
    expect(first.evicted.length).toBeLessThanOrEqual(1 + EVICT_CATCH_UP);
    expect(first.evicted.map((r) => r.eventId)).toEqual(
      old.slice(0, first.evicted.length).map((r) => r.eventId),
    );
    const evicted = [...first.evicted];
    for (let i = 1; i < 20; i++) {
      const { evicted: more } = again.append([record({ eventId: `new-${i}` })]);
      expect(more.length).toBeLessThanOrEqual(1 + EVICT_CATCH_UP);
      evicted.push(...more);
    }
    // Within the bound again, every record either dropped (reported once) or still held.
    expect(again.stats().queued).toBe(100);
    expect(evicted).toHaveLength(3000 + 20 - 100);
    expect(new Set(evicted.map((r) => r.eventId)).size).toBe(evicted.length);
    expect(again.claim(1000, 1000).map((r) => r.eventId)).toEqual([
      ...old.slice(2920).map((r) => r.eventId),
      ...Array.from({ length: 20 }, (_, i) => `new-${i}`),
    ]);
  });
});

describe('dead letters', () => {
  it('keeps dead letters with the error, lists, retries and purges them', () => {
    const outbox = make();
    const { host, seen } = recordingHost();
    outbox.attach(host);
    outbox.append([
      record({ eventId: 'bad', pixelId: '1' }),
      record({ eventId: 'ok', pixelId: '2' }),
    ]);
    const claimed = outbox.claim(10, 60_000);
    outbox.nack([claimed[0]?.id as string], 0, 'HTTP 500');
    const [bad] = outbox.claim(10, 60_000, { pixelId: '1' });
    outbox.deadLetter([bad?.id as string], 'HTTP 400 code 100/2804019: Invalid parameter');
    outbox.deadLetter([claimed[1]?.id as string], 'expired: too old');
    expect(outbox.stats()).toMatchObject({ deadLettered: 2, deadLetters: 2, queued: 0, leased: 0 });
    const letters = outbox.deadLetters();
    expect(letters.map((l) => [l.eventId, l.attempts, l.error])).toEqual([
      ['bad', 1, 'HTTP 400 code 100/2804019: Invalid parameter'],
      ['ok', 0, 'expired: too old'],
    ]);
    expect(outbox.deadLetters({ pixelId: '2' }).map((l) => l.eventId)).toEqual(['ok']);
    expect(outbox.deadLetters({ limit: 1, offset: 1 }).map((l) => l.eventId)).toEqual(['ok']);
    // Infinity is all of them (SQLite refused it: 'datatype mismatch'), or none past the offset.
    expect(outbox.deadLetters({ limit: Number.POSITIVE_INFINITY })).toHaveLength(2);
    expect(outbox.deadLetters({ offset: Number.POSITIVE_INFINITY })).toEqual([]);
    expect(() => outbox.deadLetters({ limit: Number.NaN })).toThrow(
      'sqliteOutbox.deadLetters: limit must be a number, got NaN',
    );
    expect(JSON.parse(letters[0]?.body as string)).toMatchObject({ event_id: 'bad' });

    expect(outbox.retryDeadLetters([letters[0]?.id as string])).toBe(1);
    expect(seen.added.map((r) => [r.eventId, r.attempts])).toEqual([['bad', 0]]);
    expect(outbox.stats()).toMatchObject({ queued: 1, deadLetters: 1 });
    expect(outbox.claim(10, 1000).map((r) => r.eventId)).toEqual(['bad']);
    expect(outbox.purgeDeadLetters()).toBe(1);
    expect(outbox.deadLetters()).toEqual([]);
  });

  it('an id named twice is retried or purged once', () => {
    const outbox = make({ maxDeadLetters: 3 });
    const { host, seen } = recordingHost();
    outbox.attach(host);
    outbox.append([record({ eventId: 'a' }), record({ eventId: 'b' })]);
    const [a, b] = outbox.claim(10, 60_000);
    outbox.deadLetter([a?.id as string, b?.id as string], 'rejected');

    expect(outbox.retryDeadLetters([a?.id as string, a?.id as string])).toBe(1);
    expect(seen.added.map((r) => r.eventId)).toEqual(['a']);
    expect(outbox.claim(10, 60_000).map((r) => r.eventId)).toEqual(['a']);
    expect(outbox.stats()).toMatchObject({ queued: 0, leased: 1, deadLetters: 1 });

    expect(outbox.purgeDeadLetters([b?.id as string, b?.id as string])).toBe(1);
    expect(outbox.stats().deadLetters).toBe(0);
    // The count still bounds the table: four more dead letters keep the newest three.
    outbox.append(['c', 'd', 'e', 'f'].map((eventId) => record({ eventId })));
    for (const r of outbox.claim(10, 60_000, { pixelId: '111' })) {
      if (r.eventId !== 'a') outbox.deadLetter([r.id], 'rejected');
    }
    expect(outbox.deadLetters().map((l) => l.eventId)).toEqual(['d', 'e', 'f']);
    expect(outbox.stats().deadLetters).toBe(3);
  });

  it('keeps at most maxDeadLetters, dropping the oldest', () => {
    const outbox = make({ maxDeadLetters: 2 });
    outbox.append([record({ eventId: '1' }), record({ eventId: '2' }), record({ eventId: '3' })]);
    for (const r of outbox.claim(10, 1000)) outbox.deadLetter([r.id], 'rejected');
    expect(outbox.deadLetters().map((l) => l.eventId)).toEqual(['2', '3']);
    expect(reopen(outbox).stats().deadLetters).toBe(2);
  });
});

describe('misuse', () => {
  it('rejects bad options and use after close', () => {
    expect(() => sqliteOutbox({ path: '' })).toThrow(/path/);
    expect(() => sqliteOutbox({ path: temp.file(), commitIntervalMs: 0 })).toThrow(RangeError);
    const outbox = make();
    outbox.close();
    outbox.close();
    expect(() => outbox.append([record()])).toThrow(/closed/);
  });

  it("refuses ':memory:': it is not durable, and what close() left to the next start was lost uncounted", () => {
    // With it, a client's close() kept its unsent events as queued "for the next start", which
    // never sees them: no drop, no onUndeliverable.
    const create = () => sqliteOutbox({ path: ':memory:' });
    expect(create).toThrow(TypeError);
    expect(create).toThrow("sqliteOutbox: `path` ':memory:' is not durable");
  });

  it("refuses a synchronous it does not know, naming it ('FULL' ran without the fsync it asked for)", () => {
    for (const value of ['FULL', 'extra', 'off', true]) {
      const create = () =>
        make({
          synchronous: value as unknown as Parameters<typeof sqliteOutbox>[0]['synchronous'],
        });
      expect(create).toThrow(TypeError);
      expect(create).toThrow("sqliteOutbox: synchronous must be 'normal' or 'full' (lower case)");
    }
    const full = make({ synchronous: 'full' });
    expect(full.stats().writeFailing).toBe(false);
  });

  it('refuses a count below 1 once rounded down, naming it (maxEvents: 0.5 dropped every event)', () => {
    for (const name of ['commitEvents', 'maxEvents', 'maxDeadLetters'] as const) {
      expect(() => make({ [name]: 0.5 })).toThrow(
        `sqliteOutbox: ${name} must be at least 1, got 0.5`,
      );
    }
    expect(() => make({ memoryFallback: { maxEvents: 0.9 } })).toThrow(
      'sqliteOutbox: memoryFallback.maxEvents must be at least 1, got 0.9',
    );
    expect(make({ maxEvents: 1.5 }).append([record(), record()]).evicted).toHaveLength(1);
  });

  it('refuses a timer option past 2^31 − 1 ms (setTimeout’s limit, which Node turns into 1 ms), naming it', () => {
    for (const name of ['commitIntervalMs', 'writeRetryMs', 'lockTimeoutMs'] as const) {
      for (const value of [2 ** 31, Number.POSITIVE_INFINITY]) {
        const create = () => make({ [name]: value });
        expect(create).toThrow(RangeError);
        expect(create).toThrow(
          `sqliteOutbox: ${name} must be a positive number ≤ 2147483647, got ${value}`,
        );
      }
      expect(make({ [name]: 2 ** 31 - 1 }).stats().writeFailing).toBe(false);
    }
  });
});
