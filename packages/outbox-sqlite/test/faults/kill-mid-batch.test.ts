import { type MockGraph, startMockGraph } from '@capi-kit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sleep, tempDir } from '../helpers.js';
import { assertBuilt, deliveries, startTracker, type TrackerReport } from './helpers.js';

const EVENTS = 20_000;
// Meta records a request's events on arrival and answers LATENCY_MS later: a process killed in
// between has delivered them without knowing it, which is the only source of duplicates allowed.
const LATENCY_MS = 1000;
// Events the mock must see after the commit before the kill: mid-run, with batches in flight.
const KILL_AFTER_EVENTS = 2000;
const ACK_MARGIN_MS = 400;

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

describe('kill -9 mid-batch under the SQLite outbox', () => {
  it(`a restart delivers all ${EVENTS} events; only the batches in flight at the kill are sent twice`, async () => {
    const path = temp.file('kill.db');
    mock.outage({ kind: 'latency', latencyMs: LATENCY_MS });
    const tracker = startTracker([path, mock.url, String(EVENTS), 'hold']);
    // Every event tracked and committed, then the kill in the middle of delivery.
    expect((await tracker.firstJson<{ tracked: number }>()).tracked).toBe(EVENTS);
    const atCommit = mock.events().length;
    while (mock.events().length < atCommit + KILL_AFTER_EVENTS) {
      const { code, signal } = await Promise.race([
        tracker.exited,
        sleep(5).then(() => ({ code: null, signal: null })),
      ]);
      if (code !== null || signal !== null) throw new Error(`tracker exited (${code ?? signal})`);
    }
    const killedAt = Date.now();
    tracker.kill('SIGKILL');
    expect((await tracker.exited).signal).toBe('SIGKILL');
    // The child's exit can be seen before the mock (in this process) has read the last requests it
    // wrote: they were sent before the kill and are as unanswered as the rest. Seen in CI: 1,000
    // events counted after this point were resent on restart, duplicates the check below took for
    // the restart's own. So wait until the mock has read everything the child sent.
    let seen = -1;
    while (seen !== mock.events().length) {
      seen = mock.events().length;
      await sleep(300);
    }
    const beforeKill = mock.events().length;
    expect(beforeKill).toBeLessThan(EVENTS);
    const requestsBefore = mock.requests().length;
    // Requests that arrived within LATENCY_MS of the kill had no answer yet: their events were
    // delivered but never acknowledged in the file. Plus ACK_MARGIN_MS: an answer that arrived just
    // before the kill is acknowledged on the child's next event-loop turn, late on a busy machine.
    const inFlight = new Set<string>();
    for (const event of mock.events()) {
      if (event.receivedAt >= killedAt - LATENCY_MS - ACK_MARGIN_MS)
        inFlight.add(String(event.event.event_id));
    }

    mock.recover();
    const restart = startTracker([path, mock.url, '0', 'deliver']);
    const after = await restart.firstJson<TrackerReport>();
    expect((await restart.exited).code).toBe(0);

    const delivered = deliveries(mock);
    const missing: string[] = [];
    for (let i = 0; i < EVENTS; i++) if (!delivered.has(`fault-${i}`)) missing.push(`fault-${i}`);
    const duplicated = [...delivered].filter(([, times]) => times > 1).map(([id]) => id);
    console.log(
      `[kill -9] tracked ${EVENTS}; mock saw ${beforeKill} events in ${requestsBefore} requests before the kill, ${inFlight.size} of them in requests still unanswered; ` +
        `restart delivered ${after.stats.sent} in ${mock.requests().length - requestsBefore} requests; ` +
        `in all ${delivered.size} unique delivered, ${duplicated.length} duplicated, ${missing.length} missing`,
    );
    expect(missing).toEqual([]);
    // Duplicates only from batches in flight at the kill, never more than were in flight.
    for (const id of duplicated) expect(inFlight.has(id)).toBe(true);
    expect(duplicated.length).toBeLessThanOrEqual(inFlight.size);
    expect(after.stats.dropped).toMatchObject({ overflow: 0, shutdown: 0, error: 0 });
  });
});
