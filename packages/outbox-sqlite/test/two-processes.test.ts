// Processes that open one file at the same moment (a deploy that starts the new process before
// the old one is gone, a cluster whose workers were all given one path): one of them gets it, every
// other one is told so at start-up, and nothing is written by two.
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
 * waits for it (busy: no timer slack), opens the outbox, appends one record and commits it, holds
 * the file for `holdMs`, and prints what happened. Started together only once every one is ready:
 * a start-up slowed by a loaded machine (a CI run beside other jobs) made one open the file after
 * the winner had let it go, a second process "getting it" that says nothing about the lock.
 */
const opener = (path: string, name: string, holdMs: number) => {
  const script = `
    const { sqliteOutbox } = await import(${JSON.stringify(DIST)});
    console.log('ready');
    const startAt = Number(await new Promise((resolve) => process.stdin.once('data', resolve)));
    process.stdin.destroy();
    while (Date.now() < startAt) {}
    try {
      const outbox = sqliteOutbox({ path: ${JSON.stringify(path)}, lockTimeoutMs: 200 });
      outbox.append([{ id: ${JSON.stringify(name)}, pixelId: '1', eventId: ${JSON.stringify(name)}, eventName: 'Lead', eventTime: 1, actionSource: 'website', body: '{}', bytes: 2, attempts: 0, enqueuedAt: 1, retryAt: 1 }]);
      outbox.flush();
      setTimeout(() => { outbox.close(); console.log(JSON.stringify({ opened: true })); }, ${holdMs});
    } catch (error) {
      console.log(JSON.stringify({ opened: false, message: error.message }));
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
  const result = new Promise<{ opened: boolean; message?: string }>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => {
      if (code !== 0) reject(new Error(`opener ${name} exited ${code}: ${out}`));
      else
        resolve(
          JSON.parse(out.slice('ready\n'.length).trim()) as { opened: boolean; message?: string },
        );
    });
  });
  return { ready, start: (at: number) => child.stdin.end(`${at}`), result };
};

describe('two processes, one file', () => {
  it('six processes opening a new file at the same moment: one gets it, five are told, one record written', async () => {
    for (let round = 0; round < 3; round++) {
      const path = temp.file(`race-${round}.db`);
      const openers = Array.from({ length: 6 }, (_, i) => opener(path, `p${i}`, 1000));
      await Promise.all(openers.map((o) => o.ready));
      // Every child has loaded the outbox and waits: they all open at this one moment.
      const startAt = Date.now() + 300;
      for (const o of openers) o.start(startAt);
      const results = await Promise.all(openers.map((o) => o.result));
      expect(results.filter((r) => r.opened)).toHaveLength(1);
      for (const refused of results.filter((r) => !r.opened)) {
        expect(refused.message).toBe(
          `sqliteOutbox: ${path} is open in another process (one process per file: give each process its own path)`,
        );
      }
      const db = new Database(path, { readonly: true });
      expect(db.prepare('SELECT id FROM capi_outbox').all()).toHaveLength(1);
      db.close();
    }
  }, 60_000);
});
