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
 * A process that waits for `startAt` (epoch ms, busy: no timer slack), opens the outbox, appends
 * one record and commits it, holds the file for `holdMs`, and prints what happened.
 */
const opener = (path: string, name: string, startAt: number, holdMs: number) => {
  const script = `
    const { sqliteOutbox } = await import(${JSON.stringify(DIST)});
    while (Date.now() < ${startAt}) {}
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
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => {
    out += String(chunk);
  });
  return new Promise<{ opened: boolean; message?: string }>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => {
      if (code !== 0) reject(new Error(`opener ${name} exited ${code}: ${out}`));
      else resolve(JSON.parse(out.trim()) as { opened: boolean; message?: string });
    });
  });
};

describe('two processes, one file', () => {
  it('six processes opening a new file at the same moment: one gets it, five are told, one record written', async () => {
    for (let round = 0; round < 3; round++) {
      const path = temp.file(`race-${round}.db`);
      // Node's start-up takes a few hundred ms: every child is waiting by then.
      const startAt = Date.now() + 1500;
      const results = await Promise.all(
        Array.from({ length: 6 }, (_, i) => opener(path, `p${i}`, startAt, 1000)),
      );
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
