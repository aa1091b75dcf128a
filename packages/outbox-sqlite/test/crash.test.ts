import { fileURLToPath } from 'node:url';
import { type MockGraph, startMockGraph } from '@capi-kit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, forkChild } from './forked-child.js';
import { tempDir } from './helpers.js';

const CHILD = fileURLToPath(new URL('./fixtures/crash-child.mjs', import.meta.url));
const EVENTS = 10_000;

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

const start = (args: string[]) => forkChild(CHILD, args);

describe('SIGKILL during an outage', () => {
  it(`loses nothing committed: ${EVENTS} events tracked, process killed one commit window (25 ms) after the last track(), all delivered exactly once by the next process`, async () => {
    const path = temp.file('crash.db');
    // Meta is down and hangs: requests stay in flight (their records leased) until the kill.
    mock.outage('hang');

    // "Right after": the child's last track() returns, it waits the documented group-commit
    // window (commitIntervalMs = 25 ms, an event loop left free), then messages us; we SIGKILL it
    // the moment the message arrives. No close(), no flush(), no exit handler runs.
    const tracker = start(['track', path, mock.url, String(EVENTS)]);
    const report = await tracker.next<{
      tracked: number;
      waitedMs: number;
      pendingAtSignal: number;
      queued: number;
      leased: number;
    }>();
    tracker.child.kill('SIGKILL');
    expect(await tracker.exited).toBe('SIGKILL');
    const refused = mock.rejections().length;
    console.log(
      `[crash] tracked ${report.tracked}; killed ${report.waitedMs.toFixed(1)} ms after the last track(); uncommitted at the signal: ${report.pendingAtSignal}; in the outbox: ${report.queued} waiting + ${report.leased} in flight; ${refused} requests refused or left hanging before the kill`,
    );
    expect(report.tracked).toBe(EVENTS);
    expect(report.pendingAtSignal).toBe(0);
    expect(mock.events()).toHaveLength(0);

    mock.recover();
    const deliverer = start(['deliver', path, mock.url]);
    const done = await deliverer.next<{ delivered: number; initialQueued: number }>();
    await deliverer.exited;
    console.log(
      `[crash] next process found ${done.initialQueued} events in the file and delivered ${done.delivered}`,
    );

    expect(done.initialQueued).toBe(EVENTS);
    expect(mock.events()).toHaveLength(EVENTS);
    expect(mock.uniqueEventIds()).toHaveLength(EVENTS);
    expect(mock.duplicates()).toEqual([]);
    const ids = new Set(mock.uniqueEventIds());
    for (let i = 0; i < EVENTS; i++) expect(ids.has(`crash-${i}`)).toBe(true);
  });

  it('two streams in one file: SIGKILL while TikTok hangs and Meta answers; the next process delivers every TikTok event, each event reaches both platforms', async () => {
    const EACH = 3000;
    const STREAM = 'tiktok:C4ABCDEFGHIJ';
    const path = temp.file('crash-two-streams.db');
    mock.reset();
    // TikTok is down and hangs (its records stay leased until the kill); Meta takes its copies.
    mock.tiktok.outage('hang');
    const tracker = start(['track', path, mock.url, String(EACH), mock.tiktok.url]);
    const report = await tracker.next<{ tracked: number; pendingAtSignal: number }>();
    tracker.child.kill('SIGKILL');
    expect(await tracker.exited).toBe('SIGKILL');
    expect(report.pendingAtSignal).toBe(0);
    expect(mock.tiktok.events()).toHaveLength(0);
    const metaBefore = mock.uniqueEventIds().length;

    mock.tiktok.recover();
    const deliverer = start(['deliver', path, mock.url, '0', mock.tiktok.url]);
    const done = await deliverer.next<{ initialByStream: Record<string, number> }>();
    await deliverer.exited;
    const metaAgain = mock.duplicates().length;
    console.log(
      `[crash, two streams] Meta had ${metaBefore} of ${EACH} before the kill; the next process found ${JSON.stringify(done.initialByStream)} in the file; Meta duplicates (delivered, acknowledgement not yet committed at the kill): ${metaAgain}`,
    );
    // Every TikTok event was in the file and arrived once; Meta's stream kept what it had not
    // acknowledged, so each event reached Meta at least once.
    expect(done.initialByStream[STREAM]).toBe(EACH);
    const tiktokIds = new Set(mock.tiktok.events().map((e) => String(e.event.event_id)));
    expect(tiktokIds.size).toBe(EACH);
    expect(mock.tiktok.duplicates()).toEqual([]);
    const metaIds = new Set(mock.uniqueEventIds());
    for (let i = 0; i < EACH; i++) {
      expect(tiktokIds.has(`crash-${i}`)).toBe(true);
      expect(metaIds.has(`crash-${i}`)).toBe(true);
    }
  });
});
