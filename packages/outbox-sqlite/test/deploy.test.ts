// A rolling deploy on one file, in real processes: the new instance starts while the old one still
// holds the outbox (pm2 reload, Kubernetes' maxSurge on a shared volume). The new one must start,
// deliver its own events at once, and take over what the old one left once it exits.
import { fileURLToPath } from 'node:url';
import { type MockGraph, startMockGraph } from '@capi-kit/testing';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, forkChild } from './forked-child.js';
import { tempDir } from './helpers.js';

const CHILD = fileURLToPath(new URL('./fixtures/deploy-child.mjs', import.meta.url));

let mock: MockGraph;
let temp: ReturnType<typeof tempDir>;
beforeAll(async () => {
  assertBuilt();
  mock = await startMockGraph({ accessToken: 'EAAtest-token-0123456789' });
  temp = tempDir();
});
afterAll(async () => {
  await mock.close();
  temp.cleanup();
});

interface Figures {
  client: {
    sent: number;
    queued: number;
    inFlight: number;
    dropped: Record<string, number>;
    deadLettered: number;
  };
  outbox: { waitingForFile: boolean; memory: number; queued: number };
  heard: { errors: string[]; warnings: string[] };
}

/** The deploy fixture: `stats()` asks it for its figures. */
const start = (args: string[]) => {
  const instance = forkChild(CHILD, args);
  const stats = () => {
    const answer = instance.next<Figures>('stats');
    instance.child.send('stats');
    return answer;
  };
  return { ...instance, stats };
};

const until = async (what: string, check: () => boolean | Promise<boolean>, timeoutMs = 30_000) => {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
};

describe('a rolling deploy on one file', () => {
  it('the new process starts while the old one holds the file, delivers its own events from memory, and takes over and delivers what the old one left once it exits: every event once', async () => {
    const OLD = 400;
    const NEW = 300;
    const path = temp.file('deploy.db');
    // The old instance's requests hang (Meta unreachable from it): everything it tracks is in the
    // file, in flight, when it is told to stop.
    const unreachable = await startMockGraph({ accessToken: 'EAAtest-token-0123456789' });
    unreachable.outage('hang');
    const old = start([path, unreachable.url, 'old', String(OLD)]);
    let fresh: ReturnType<typeof start> | undefined;
    try {
      expect(await old.next<number>('tracked')).toBe(OLD);
      fresh = start([path, mock.url, 'new', String(NEW)]);
      // The new instance comes up beside it and delivers its own events while the old one runs.
      expect(await fresh.next<number>('tracked')).toBe(NEW);
      await until(
        'its events counted sent',
        async () => (await fresh?.stats())?.client.sent === NEW,
      );
      const during = await fresh.stats();
      expect(during.outbox.waitingForFile).toBe(true);
      expect(mock.uniqueEventIds()).toHaveLength(NEW);
      expect(during.heard.warnings).toEqual([
        expect.stringContaining(`sqliteOutbox (${path}): another process holds the file`),
      ]);
      expect(during.heard.errors).toEqual([]);
      expect(mock.uniqueEventIds().every((id) => id.startsWith('new-'))).toBe(true);

      // The old instance is told to stop: its close() cannot deliver, its events stay in the file.
      old.child.kill('SIGTERM');
      const oldClosed = await old.next<Figures>('closed');
      expect(await old.exited).toBe(0);
      expect(oldClosed.client).toMatchObject({
        sent: 0,
        queued: OLD,
        inFlight: 0,
        deadLettered: 0,
      });
      expect(unreachable.events()).toEqual([]);

      // The new instance takes the file over and sends what the old one left.
      await until('every event at Meta', () => mock.uniqueEventIds().length === OLD + NEW);
      await until('the new instance to count them sent', async () => {
        const after = await fresh?.stats();
        return after?.client.sent === OLD + NEW;
      });
      const after = await fresh.stats();
      console.log(
        `[deploy] new instance: ${NEW} sent while the old one held the file; old left ${oldClosed.client.queued + oldClosed.client.inFlight}; after the take-over: ${JSON.stringify(after.client)}, ${JSON.stringify(after.heard.warnings)}`,
      );
      expect(after.outbox.waitingForFile).toBe(false);
      expect(after.client).toMatchObject({ queued: 0, inFlight: 0, deadLettered: 0 });
      expect(Object.values(after.client.dropped).reduce((a, b) => a + b, 0)).toBe(0);
      expect(after.heard.warnings).toContainEqual(
        expect.stringMatching(
          /took the file over after \d+ ms of waiting: the 400 events the other process left in it are sent$/,
        ),
      );
      expect(mock.duplicates()).toEqual([]);
      const ids = new Set(mock.uniqueEventIds());
      for (let i = 0; i < OLD; i++) expect(ids.has(`old-${i}`)).toBe(true);
      for (let i = 0; i < NEW; i++) expect(ids.has(`new-${i}`)).toBe(true);

      fresh.child.kill('SIGTERM');
      const freshClosed = await fresh.next<Figures>('closed');
      expect(await fresh.exited).toBe(0);
      expect(freshClosed.client.sent).toBe(OLD + NEW);
      // Acknowledged, so deleted: the next instance finds nothing to send again.
      const db = new Database(path, { readonly: true });
      expect(db.prepare('SELECT count(*) AS n FROM capi_outbox').get()).toEqual({ n: 0 });
      db.close();
    } finally {
      await old.stop();
      await fresh?.stop();
      await unreachable.close();
    }
  }, 90_000);
});
