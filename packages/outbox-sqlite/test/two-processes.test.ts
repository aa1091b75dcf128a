// Processes that open one file at the same moment (a deploy that starts the new process before
// the old one is gone, a cluster whose workers were all given one path): one of them gets it, every
// other one waits for it with its events in memory, and nothing is written by two: each takes the
// file in turn once the one before it lets go.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from './helpers.js';

const DIST = fileURLToPath(new URL('../dist/index.mjs', import.meta.url));

let temp: ReturnType<typeof tempDir>;
beforeAll(() => {
  if (!existsSync(DIST)) throw new Error('build first: the child processes run dist/');
  temp = tempDir();
});
afterAll(() => temp.cleanup());

/**
 * A process that loads the outbox, says `ready`, reads the moment to start (epoch ms) from stdin,
 * waits for it (busy: no timer slack), opens the outbox and appends one record, and prints whether
 * it waits for the file. The one that has the file closes it after `holdMs`; one that waits closes
 * its outbox as soon as it has taken the file over (the record it held in memory goes to the file
 * then), so the file passes from one to the next. Started together only once every one is ready:
 * a start-up slowed by a loaded machine (a CI run beside other jobs) made one open the file after
 * the winner had let it go, which says nothing about the lock.
 */
const opener = (path: string, name: string, holdMs: number) => {
  const script = `
    const { sqliteOutbox } = await import(${JSON.stringify(DIST)});
    console.log('ready');
    const startAt = Number(await new Promise((resolve) => process.stdin.once('data', resolve)));
    process.stdin.destroy();
    while (Date.now() < startAt) {}
    const outbox = sqliteOutbox({ path: ${JSON.stringify(path)}, lockTimeoutMs: 200, writeRetryMs: 20 });
    const waiting = outbox.stats().waitingForFile;
    outbox.append([{ id: ${JSON.stringify(name)}, pixelId: '1', eventId: ${JSON.stringify(name)}, eventName: 'Lead', eventTime: 1, actionSource: 'website', body: '{}', bytes: 2, attempts: 0, enqueuedAt: 1, retryAt: 1 }]);
    outbox.flush();
    console.log(JSON.stringify({ waiting }));
    const done = () => { outbox.close(); console.log(JSON.stringify({ closed: true })); };
    if (!waiting) setTimeout(done, ${holdMs});
    else {
      const poll = setInterval(() => {
        if (outbox.stats().waitingForFile) return;
        clearInterval(poll);
        done();
      }, 20);
    }
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  let out = '';
  let markReady: () => void = () => {};
  const ready = new Promise<void>((resolve) => {
    markReady = resolve;
  });
  child.stdout.on('data', (chunk: Buffer) => {
    out += String(chunk);
    if (out.startsWith('ready\n')) markReady();
  });
  const result = new Promise<{ waiting: boolean; closed: boolean }>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => {
      if (code !== 0) reject(new Error(`opener ${name} exited ${code}: ${out}`));
      else {
        const lines = out.slice('ready\n'.length).trim().split('\n');
        resolve({ ...JSON.parse(lines[0] ?? '{}'), ...JSON.parse(lines[1] ?? '{}') });
      }
    });
  });
  return { ready, start: (at: number) => child.stdin.end(`${at}`), result };
};

describe('two processes, one file', () => {
  it('six processes opening a new file at the same moment: one gets it, five wait and take it in turn, each record written once', async () => {
    for (let round = 0; round < 3; round++) {
      const path = temp.file(`race-${round}.db`);
      const openers = Array.from({ length: 6 }, (_, i) => opener(path, `p${i}`, 1000));
      await Promise.all(openers.map((o) => o.ready));
      // Every child has loaded the outbox and waits: they all open at this one moment.
      const startAt = Date.now() + 300;
      for (const o of openers) o.start(startAt);
      const results = await Promise.all(openers.map((o) => o.result));
      expect(results.filter((r) => !r.waiting)).toHaveLength(1);
      expect(results.every((r) => r.closed)).toBe(true);
      const db = new Database(path, { readonly: true });
      const ids = db.prepare<[], { id: string }>('SELECT id FROM capi_outbox ORDER BY id').all();
      db.close();
      expect(ids.map((r) => r.id)).toEqual(['p0', 'p1', 'p2', 'p3', 'p4', 'p5']);
    }
  }, 60_000);
});
